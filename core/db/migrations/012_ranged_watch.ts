/**
 * Migration 12: one ranged descriptor per key set (issue "A protocol node that outgrows one
 * machine" item 4).
 *
 * - `key_sets.watched_end`: the node's watch-only wallet watches the key set's ranged
 *   descriptor `…/0/*` for indexes 0 to `watched_end − 1`. A vault index is only handed out below
 *   it, so creating a vault is a database insert. Key sets of an older database start at 0: their
 *   vaults were imported one descriptor each, and the range is imported at the next creation.
 */
export default /* sql */ `
ALTER TABLE key_sets ADD COLUMN watched_end INTEGER NOT NULL DEFAULT 0 CHECK (watched_end >= 0);
`;
