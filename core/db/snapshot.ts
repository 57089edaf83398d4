/**
 * A hash of the database's logical content (every row of every table), to show that a refused
 * operation changed nothing.
 */
import { createHash } from 'node:crypto';
import type { Sqlite } from './database';

/** SHA-256 over all tables' rows in a stable order. */
export function logicalHash(db: Sqlite): string {
  const hash = createHash('sha256');
  const tables = db
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .pluck()
    .all() as string[];
  for (const table of tables) {
    hash.update(`table ${table}\n`);
    for (const row of db.prepare(`SELECT * FROM "${table}" ORDER BY rowid`).raw().iterate()) {
      hash.update(
        JSON.stringify(row, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) + '\n',
      );
    }
  }
  return hash.digest('hex');
}
