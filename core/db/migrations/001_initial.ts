/**
 * Migration 1: vaults, their coins, price rounds, liquidations, the bsUSD ledger, the journal.
 * SQL lives in TypeScript strings so the bundled Electron main needs no asset files.
 */
export default /* sql */ `
-- Settings are per network; values are JSON text.
CREATE TABLE settings (
  network TEXT NOT NULL,
  key     TEXT NOT NULL,
  value   TEXT NOT NULL,
  PRIMARY KEY (network, key)
);

-- A key set is the three account keys a series of vaults derives from (one Ledger policy).
-- Keys are descriptor key expressions: [fingerprint/48'/c'/0'/2']xpub.
CREATE TABLE key_sets (
  id           INTEGER PRIMARY KEY,
  network      TEXT    NOT NULL CHECK (network IN ('regtest', 'signet', 'testnet', 'mainnet')),
  owner_key    TEXT    NOT NULL,
  protocol_key TEXT    NOT NULL,
  guardian_key TEXT    NOT NULL,
  -- The next vault index to hand out; only ever grows, so an address is never reused.
  next_index   INTEGER NOT NULL DEFAULT 0 CHECK (next_index >= 0),
  created_at   INTEGER NOT NULL,
  UNIQUE (network, owner_key, protocol_key, guardian_key)
);

-- One row per vault. The chain is the truth for collateral: collateral_sats is always the sum
-- of this vault's rows in vault_utxos with enough confirmations, rewritten on every sync.
CREATE TABLE vaults (
  id              INTEGER PRIMARY KEY,
  key_set_id      INTEGER NOT NULL REFERENCES key_sets (id),
  idx             INTEGER NOT NULL CHECK (idx >= 0),
  network         TEXT    NOT NULL,
  address         TEXT    NOT NULL UNIQUE,
  descriptor      TEXT    NOT NULL,
  state           TEXT    NOT NULL CHECK (state IN
                    ('pending', 'active', 'warning', 'liquidating', 'liquidated', 'closed')),
  collateral_sats INTEGER NOT NULL DEFAULT 0 CHECK (collateral_sats >= 0),
  -- Seen at the address but not yet at the confirmation depth (shown, never counted).
  incoming_sats   INTEGER NOT NULL DEFAULT 0 CHECK (incoming_sats >= 0),
  debt_cents      INTEGER NOT NULL DEFAULT 0 CHECK (debt_cents >= 0),
  -- Integer prices (cents/BTC) under which the ratio falls below 150 % / 160 %; NULL without
  -- debt. Kept in step with every collateral or debt change so health passes are range queries.
  liquidation_price_cents INTEGER,
  warning_price_cents     INTEGER,
  -- What the owner said they would deposit (for the QR code's amount); not collateral.
  planned_deposit_sats INTEGER CHECK (planned_deposit_sats IS NULL OR planned_deposit_sats > 0),
  label           TEXT,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  UNIQUE (key_set_id, idx)
);
CREATE INDEX vaults_by_liquidation_price ON vaults (liquidation_price_cents)
  WHERE liquidation_price_cents IS NOT NULL;
CREATE INDEX vaults_by_warning_price ON vaults (warning_price_cents)
  WHERE warning_price_cents IS NOT NULL;
CREATE INDEX vaults_by_state ON vaults (state);

-- Unspent outputs at vault addresses as the node's watch-only wallet last reported them.
CREATE TABLE vault_utxos (
  txid          TEXT    NOT NULL,
  vout          INTEGER NOT NULL CHECK (vout >= 0),
  vault_id      INTEGER NOT NULL REFERENCES vaults (id),
  amount_sats   INTEGER NOT NULL CHECK (amount_sats > 0),
  confirmations INTEGER NOT NULL CHECK (confirmations >= 0),
  PRIMARY KEY (txid, vout)
);
CREATE INDEX vault_utxos_by_vault ON vault_utxos (vault_id);

-- One oracle aggregation round; price_cents is NULL when the round produced no price.
CREATE TABLE price_rounds (
  id          INTEGER PRIMARY KEY,
  network     TEXT    NOT NULL,
  ts          INTEGER NOT NULL,           -- ms since epoch, when the round finished
  price_cents INTEGER CHECK (price_cents IS NULL OR price_cents > 0),
  status      TEXT    NOT NULL,           -- ok | stale | insufficient-sources | held
  accepted    INTEGER NOT NULL CHECK (accepted IN (0, 1))
);
CREATE INDEX price_rounds_by_time ON price_rounds (network, ts);

-- Each source's answer within a round: its price, or the error, and whether it was dropped.
CREATE TABLE price_answers (
  round_id    INTEGER NOT NULL REFERENCES price_rounds (id) ON DELETE CASCADE,
  source      TEXT    NOT NULL,
  price_cents INTEGER,
  source_ts   INTEGER,
  error       TEXT,
  dropped     TEXT,                        -- why it was left out, NULL if used
  PRIMARY KEY (round_id, source)
);

-- A liquidation of one vault (its auction and settlement grow from here).
CREATE TABLE liquidations (
  id               INTEGER PRIMARY KEY,
  vault_id         INTEGER NOT NULL REFERENCES vaults (id),
  started_at       INTEGER NOT NULL,
  price_cents      INTEGER NOT NULL CHECK (price_cents > 0),
  debt_cents       INTEGER NOT NULL CHECK (debt_cents >= 0),
  tab_cents        INTEGER NOT NULL CHECK (tab_cents >= 0),
  lot_sats         INTEGER NOT NULL CHECK (lot_sats >= 0),
  state            TEXT    NOT NULL,
  settlement_txid  TEXT
);
CREATE INDEX liquidations_by_vault ON liquidations (vault_id);

-- The bsUSD double-entry ledger. Every entry's postings sum to zero. Account balances:
--   holder:*   bsUSD held (>= 0)        vault:*  minus the vault's debt (<= 0)
--   surplus    protocol's bsUSD (>= 0)   deficit  minus the bad debt (<= 0)
-- Invariant: holders + surplus = vault debts + deficit, i.e. every bsUSD in existence is
-- backed by a vault's debt or recorded as bad debt.
CREATE TABLE ledger_accounts (
  id            TEXT    PRIMARY KEY,
  kind          TEXT    NOT NULL CHECK (kind IN ('holder', 'vault', 'surplus', 'deficit')),
  vault_id      INTEGER REFERENCES vaults (id),
  balance_cents INTEGER NOT NULL DEFAULT 0,
  CHECK (kind <> 'holder' OR balance_cents >= 0),
  CHECK (kind <> 'vault' OR balance_cents <= 0)
);
INSERT INTO ledger_accounts (id, kind) VALUES ('surplus', 'surplus'), ('deficit', 'deficit');

CREATE TABLE ledger_entries (
  id       INTEGER PRIMARY KEY,
  ts       INTEGER NOT NULL,
  kind     TEXT    NOT NULL CHECK (kind IN
             ('mint', 'repay', 'transfer', 'auction_payment', 'penalty', 'bad_debt')),
  vault_id INTEGER REFERENCES vaults (id),
  memo     TEXT
);

CREATE TABLE ledger_postings (
  entry_id     INTEGER NOT NULL REFERENCES ledger_entries (id),
  account_id   TEXT    NOT NULL REFERENCES ledger_accounts (id),
  amount_cents INTEGER NOT NULL CHECK (amount_cents <> 0)
);
CREATE INDEX ledger_postings_by_entry ON ledger_postings (entry_id);

-- Append-only journal of everything that changed, written in the same transaction as the change.
CREATE TABLE events (
  id       INTEGER PRIMARY KEY,
  ts       INTEGER NOT NULL,
  type     TEXT    NOT NULL,
  vault_id INTEGER,
  data     TEXT    NOT NULL
);
CREATE INDEX events_by_vault ON events (vault_id) WHERE vault_id IS NOT NULL;
`;
