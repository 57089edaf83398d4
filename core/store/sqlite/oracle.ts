/** The oracle port on SQLite (better-sqlite3). */
import type { Sqlite } from '../../db/database';
import type { OracleRoundsRepo } from '../oracle';

export class SqliteOracleRounds implements OracleRoundsRepo {
  constructor(readonly db: Sqlite) {}
}
