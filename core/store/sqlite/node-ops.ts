/** The ops port on SQLite (better-sqlite3). */
import type { Sqlite } from '../../db/database';
import type { NodeOpsRepo } from '../node-ops';

export class SqliteNodeOps implements NodeOpsRepo {
  constructor(readonly db: Sqlite) {}
}
