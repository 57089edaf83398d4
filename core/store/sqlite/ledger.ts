/** The ledger port on SQLite (better-sqlite3). */
import type { Sqlite } from '../../db/database';
import type { LedgerRepo } from '../ledger';

export class SqliteLedger implements LedgerRepo {
  constructor(readonly db: Sqlite) {}
}
