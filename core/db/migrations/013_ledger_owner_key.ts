/**
 * Migration 13: the owner key read from the Ledger the first time, per network (issue "The
 * Ledger and the rest of the Bitcoin world" item 2): the node in local mode starts and reads
 * without the device, and another Ledger plugged in later is refused rather than taken as the
 * owner (before, it silently made a second key set). The wallet's own database has the same
 * table (core/store/sqlite/wallet.ts).
 */
export default /* sql */ `
CREATE TABLE ledger_owner_keys (
  network     TEXT PRIMARY KEY,
  fingerprint TEXT NOT NULL,
  path        TEXT NOT NULL,
  xpub        TEXT NOT NULL,
  created_at  INTEGER NOT NULL
);
`;
