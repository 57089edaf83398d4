/** The vaults port on SQLite (better-sqlite3). */
import type { Sqlite } from '../../db/database';
import type { VaultsRepo } from '../vaults';

export class SqliteVaults implements VaultsRepo {
  constructor(readonly db: Sqlite) {}
}
