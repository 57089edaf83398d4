/**
 * Migration 3: on-chain spends of vault coins, stored before they are signed and broadcast, and
 * Ledger wallet-policy registrations.
 */
export default /* sql */ `
-- One spend of a vault's coins. The plan (inputs, outputs, fee) is fixed when the row is written;
-- the signed transaction is stored before it is broadcast, so a restart can rebroadcast it and
-- never builds a second one for the same purpose.
CREATE TABLE spends (
  id          INTEGER PRIMARY KEY,
  vault_id    INTEGER NOT NULL REFERENCES vaults (id),
  kind        TEXT    NOT NULL CHECK (kind IN ('withdraw', 'close', 'emergency-exit', 'settlement')),
  -- draft: planned, being signed | signed: complete tx stored, not yet broadcast |
  -- broadcast: sent to the node | confirmed: at confirmation depth | abandoned: never sent
  state       TEXT    NOT NULL CHECK (state IN ('draft', 'signed', 'broadcast', 'confirmed', 'abandoned')),
  plan        TEXT    NOT NULL,             -- JSON SpendPlan
  psbt        TEXT    NOT NULL,             -- base64, the latest (partially) signed version
  tx_hex      TEXT,
  txid        TEXT UNIQUE,
  destination TEXT,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
CREATE INDEX spends_open ON spends (vault_id) WHERE state IN ('draft', 'signed', 'broadcast');

-- A wallet policy registered on a Ledger: the HMAC the device returned, per device and policy.
-- Keyed by device and the policy with its keys filled in, so one registration serves for good.
CREATE TABLE device_registrations (
  fingerprint TEXT NOT NULL,
  descriptor  TEXT NOT NULL,
  name        TEXT NOT NULL,
  policy_id   TEXT NOT NULL,
  hmac        TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (fingerprint, descriptor)
);
`;
