/** The spends port on SQLite (better-sqlite3). */
import type { Sqlite } from '../../db/database';
import type { SpendsRepo } from '../spends';

export class SqliteSpends implements SpendsRepo {
  constructor(readonly db: Sqlite) {}
}
