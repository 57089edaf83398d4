/**
 * Migration 7: accounts (SPEC §3, §5).
 *
 * - `accounts`: one row per account, identified by its BIP340 x-only public key; `id` is that key
 *   as a `bsa1…` bech32m string. bsUSD is held in the ledger account `holder:<id>`.
 * - `sessions`: sign-in tokens (only their SHA-256 is stored) bound to one account, with an expiry.
 * - `invites`: registration codes for networks where the operator does not open registration
 *   (only their SHA-256 is stored; each is used once).
 * - `vaults.account_id`: every vault belongs to one account. Vaults made before accounts existed
 *   are given the node's own (local) account when it first starts with this schema.
 */
export default /* sql */ `
CREATE TABLE accounts (
  id         TEXT    PRIMARY KEY,
  pubkey     TEXT    NOT NULL UNIQUE CHECK (length(pubkey) = 64),
  label      TEXT,
  created_at INTEGER NOT NULL
);

CREATE TABLE sessions (
  token_hash TEXT    PRIMARY KEY,
  account_id TEXT    NOT NULL REFERENCES accounts (id),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE invites (
  code_hash  TEXT    PRIMARY KEY,
  created_at INTEGER NOT NULL,
  used_by    TEXT    REFERENCES accounts (id),
  used_at    INTEGER
);

ALTER TABLE vaults ADD COLUMN account_id TEXT REFERENCES accounts (id);
CREATE INDEX vaults_by_account ON vaults (account_id, id);
CREATE INDEX ledger_postings_by_account ON ledger_postings (account_id, entry_id);
`;
