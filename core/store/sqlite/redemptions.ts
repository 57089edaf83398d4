/** The redemptions port on SQLite (better-sqlite3). */
import type { Sqlite } from '../../db/database';
import type { RedemptionsRepo } from '../redemptions';

export class SqliteRedemptions implements RedemptionsRepo {
  constructor(readonly db: Sqlite) {}
}
