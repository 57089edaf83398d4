/** The pool port on SQLite (better-sqlite3). */
import type { Sqlite } from '../../db/database';
import type { PoolRepo } from '../pool';

export class SqlitePool implements PoolRepo {
  constructor(readonly db: Sqlite) {}
}
