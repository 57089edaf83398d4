/**
 * The append-only event journal. Call inside the transaction that makes the change, so the
 * journal and the state can never disagree.
 */
import type { Sqlite } from '../db/database';

/** Appends one event row. */
export function journal(
  db: Sqlite,
  type: string,
  vaultId: number | null,
  data: Record<string, unknown>,
  ts = Date.now(),
): void {
  db.prepare('INSERT INTO events (ts, type, vault_id, data) VALUES (?, ?, ?, ?)').run(
    ts,
    type,
    vaultId,
    JSON.stringify(data),
  );
}
