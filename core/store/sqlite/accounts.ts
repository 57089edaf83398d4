/** The accounts port on SQLite (better-sqlite3). */
import type { Sqlite } from '../../db/database';
import type { AccountsRepo } from '../accounts';

export class SqliteAccounts implements AccountsRepo {
  constructor(readonly db: Sqlite) {}
}
