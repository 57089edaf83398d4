/**
 * Migration 5: a spend can wait for the guardian. Where the guardian is an imported xpub (every
 * network but regtest) its signature comes back as a PSBT file, perhaps days later; the spend is
 * kept as `awaiting-guardian` with the first key's signature, its coins reserved, until the signed
 * file is imported or the spend is cancelled (`cancelled`, watched for a while: the guardian holds
 * a PSBT that two keys have signed and may send it anyway). SQLite cannot change a CHECK constraint in place,
 * so the table is rebuilt (same columns, same order) and its index made again.
 */
export default /* sql */ `
CREATE TABLE spends_v5 (
  id          INTEGER PRIMARY KEY,
  vault_id    INTEGER NOT NULL REFERENCES vaults (id),
  kind        TEXT    NOT NULL CHECK (kind IN ('withdraw', 'close', 'emergency-exit', 'settlement')),
  -- draft: planned, being signed | awaiting-guardian: signed by the first key, stored, waiting for
  -- the guardian's signed PSBT file | signed: complete tx stored, not yet broadcast |
  -- broadcast: sent to the node | confirmed: at confirmation depth | abandoned: never sent |
  -- cancelled: a guardian request given up; watched a while, as the guardian may send it anyway
  state       TEXT    NOT NULL CHECK (state IN ('draft', 'awaiting-guardian', 'signed', 'broadcast', 'confirmed', 'abandoned', 'cancelled')),
  plan        TEXT    NOT NULL,
  psbt        TEXT    NOT NULL,
  tx_hex      TEXT,
  txid        TEXT UNIQUE,
  destination TEXT,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
INSERT INTO spends_v5 (id, vault_id, kind, state, plan, psbt, tx_hex, txid, destination, created_at, updated_at)
  SELECT id, vault_id, kind, state, plan, psbt, tx_hex, txid, destination, created_at, updated_at FROM spends;
DROP TABLE spends;
ALTER TABLE spends_v5 RENAME TO spends;
CREATE INDEX spends_open ON spends (vault_id) WHERE state IN ('draft', 'awaiting-guardian', 'signed', 'broadcast');
`;
