/**
 * Migration 6: backing that holds (SPEC §6, §8.2–8.4).
 *
 * Spends: the table is rebuilt (SQLite cannot change a CHECK in place) with
 * - `signing` (a process is signing it) and `expired` (a reviewed draft nobody signed in time);
 *   `signing_by` names the process that made the draft or is signing it, so a restart can tell
 *   its own from a dead one's;
 * - `sweep` (coins that arrived at a Closed or Liquidated vault, back to the owner);
 * - `expires_at` (when an unsigned draft frees its vault) and `cosign_price_cents` (the price the
 *   protocol co-signed at, for audits and the race soak);
 * - a UNIQUE partial index: at most one spend per vault on its way to the chain (reviewed,
 *   signing, waiting for the guardian, signed). This is the vault's lock: it holds across
 *   processes sharing the database, not only inside one. (Broadcast spends are left out: a reorg
 *   can put an older confirmed spend back in flight beside a newer one that spends its change.)
 *
 * Auctions: the last settlement failure, in words, with its code and count, so the UI and
 * /health can show why an auction is not settling.
 */
export default /* sql */ `
CREATE TABLE spends_v6 (
  id                 INTEGER PRIMARY KEY,
  vault_id           INTEGER NOT NULL REFERENCES vaults (id),
  kind               TEXT    NOT NULL CHECK (kind IN ('withdraw', 'close', 'emergency-exit', 'settlement', 'sweep')),
  -- draft: reviewed, stored, unsigned | signing: a process is signing it | awaiting-guardian:
  -- signed by the first key, waiting for the guardian's file | signed: complete tx stored, not yet
  -- sent | broadcast | confirmed | abandoned: never sent | cancelled: a guardian request given up,
  -- watched a while | expired: a draft nobody signed in time
  state              TEXT    NOT NULL CHECK (state IN ('draft', 'signing', 'awaiting-guardian', 'signed', 'broadcast', 'confirmed', 'abandoned', 'cancelled', 'expired')),
  plan               TEXT    NOT NULL,
  psbt               TEXT    NOT NULL,
  tx_hex             TEXT,
  txid               TEXT UNIQUE,
  destination        TEXT,
  created_at         INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL,
  expires_at         INTEGER,
  signing_by         TEXT,
  cosign_price_cents INTEGER
);
INSERT INTO spends_v6 (id, vault_id, kind, state, plan, psbt, tx_hex, txid, destination, created_at, updated_at)
  SELECT id, vault_id, kind, state, plan, psbt, tx_hex, txid, destination, created_at, updated_at FROM spends;
DROP TABLE spends;
ALTER TABLE spends_v6 RENAME TO spends;
-- An older database may hold two open spends of one vault (the race this migration closes):
-- keep the newest, the others were never sent by BitStable.
UPDATE spends SET state = 'abandoned'
  WHERE state IN ('draft', 'awaiting-guardian')
    AND id NOT IN (SELECT MAX(id) FROM spends WHERE state IN ('draft', 'signing', 'awaiting-guardian', 'signed') GROUP BY vault_id);
CREATE UNIQUE INDEX spends_one_open_per_vault ON spends (vault_id)
  WHERE state IN ('draft', 'signing', 'awaiting-guardian', 'signed');
CREATE INDEX spends_by_vault ON spends (vault_id, id);

ALTER TABLE liquidations ADD COLUMN last_error TEXT;
ALTER TABLE liquidations ADD COLUMN last_error_code TEXT;
ALTER TABLE liquidations ADD COLUMN last_error_at INTEGER;
ALTER TABLE liquidations ADD COLUMN error_count INTEGER NOT NULL DEFAULT 0;
`;
