/** The auctions port on SQLite (better-sqlite3). */
import type { Sqlite } from '../../db/database';
import type { AuctionsRepo } from '../auctions';

export class SqliteAuctions implements AuctionsRepo {
  constructor(readonly db: Sqlite) {}
}
