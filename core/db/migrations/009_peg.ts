/**
 * Migration 9: the peg (SPEC §5, §8.5; issue "The peg and the price").
 *
 * - `fee_rates`: the stability fee's accumulator per network (core/vaults/fee.ts): `rate` is a
 *   ray as decimal text (it passes 2^63), exact up to `dripped_at`, growing at `annual_bps`.
 * - `vaults.debt_art`: the vault's normalized debt (millionths of a cent at rate 1.0); its debt is
 *   ⌈art · rate⌉. Every vault so far was at rate 1.0, so art = debt × 10^6.
 *   `vaults.fees_cents`: the stability fee booked on the vault so far.
 *   The threshold prices stay the health pass's index keys, now of the normalized debt plus a
 *   cent (rewritten here): a pass at price P asks for ⌊P / rate⌋.
 * - A database where surplus and deficit both stood gets one netting entry.
 * - The ledger's entry kinds gain `stability_fee` and `netting` (surplus covering deficit), and
 *   the kinds the redemptions and the stability pool will write; the account kinds gain `pool`.
 *   SQLite cannot change a CHECK in place, so the three ledger tables are rebuilt: children
 *   first, so no foreign key ever points at a dropped table, then renamed back (the renames
 *   carry the references along).
 */
export default /* sql */ `
CREATE TABLE fee_rates (
  network    TEXT    PRIMARY KEY,
  rate       TEXT    NOT NULL,
  annual_bps INTEGER NOT NULL CHECK (annual_bps >= 0),
  dripped_at INTEGER NOT NULL
);

ALTER TABLE vaults ADD COLUMN debt_art INTEGER NOT NULL DEFAULT 0 CHECK (debt_art >= 0);
ALTER TABLE vaults ADD COLUMN fees_cents INTEGER NOT NULL DEFAULT 0;
UPDATE vaults SET debt_art = debt_cents * 1000000;
-- The index keys now carry a cent's margin (core/vaults/health.ts normalizedThresholdPrice):
-- ⌈ratio × (debt + 1 cent) × 10^8 / (collateral × 10^4)⌉ at the default 150 % and 160 % (a node
-- started with other ratios rewrites a vault's keys at its next change).
UPDATE vaults SET
  liquidation_price_cents = CASE
    WHEN debt_cents = 0 THEN NULL
    WHEN collateral_sats = 0 THEN 9007199254740991
    ELSE (15000 * (debt_cents + 1) * 10000 + collateral_sats - 1) / collateral_sats END,
  warning_price_cents = CASE
    WHEN debt_cents = 0 THEN NULL
    WHEN collateral_sats = 0 THEN 9007199254740991
    ELSE (16000 * (debt_cents + 1) * 10000 + collateral_sats - 1) / collateral_sats END;

CREATE TABLE ledger_accounts_v9 (
  id            TEXT    PRIMARY KEY,
  kind          TEXT    NOT NULL CHECK (kind IN ('holder', 'vault', 'surplus', 'deficit', 'pool')),
  vault_id      INTEGER REFERENCES vaults (id),
  balance_cents INTEGER NOT NULL DEFAULT 0,
  CHECK (kind <> 'holder' OR balance_cents >= 0),
  CHECK (kind <> 'pool' OR balance_cents >= 0),
  CHECK (kind <> 'vault' OR balance_cents <= 0)
);
CREATE TABLE ledger_entries_v9 (
  id       INTEGER PRIMARY KEY,
  ts       INTEGER NOT NULL,
  kind     TEXT    NOT NULL CHECK (kind IN
             ('mint', 'repay', 'transfer', 'auction_payment', 'penalty', 'bad_debt',
              'stability_fee', 'netting', 'redemption', 'pool_deposit', 'pool_withdraw', 'pool_take')),
  vault_id INTEGER REFERENCES vaults (id),
  memo     TEXT
);
CREATE TABLE ledger_postings_v9 (
  entry_id     INTEGER NOT NULL REFERENCES ledger_entries_v9 (id),
  account_id   TEXT    NOT NULL REFERENCES ledger_accounts_v9 (id),
  amount_cents INTEGER NOT NULL CHECK (amount_cents <> 0)
);
INSERT INTO ledger_accounts_v9 (id, kind, vault_id, balance_cents)
  SELECT id, kind, vault_id, balance_cents FROM ledger_accounts;
INSERT INTO ledger_entries_v9 (id, ts, kind, vault_id, memo)
  SELECT id, ts, kind, vault_id, memo FROM ledger_entries;
INSERT INTO ledger_postings_v9 (rowid, entry_id, account_id, amount_cents)
  SELECT rowid, entry_id, account_id, amount_cents FROM ledger_postings;
DROP TABLE ledger_postings;
DROP TABLE ledger_entries;
DROP TABLE ledger_accounts;
ALTER TABLE ledger_accounts_v9 RENAME TO ledger_accounts;
ALTER TABLE ledger_entries_v9 RENAME TO ledger_entries;
ALTER TABLE ledger_postings_v9 RENAME TO ledger_postings;
CREATE INDEX ledger_postings_by_entry ON ledger_postings (entry_id);
CREATE INDEX ledger_postings_by_account ON ledger_postings (account_id, entry_id);
-- The books' history (surplus and deficit over time) reads entries by kind.
CREATE INDEX ledger_entries_by_kind ON ledger_entries (kind, id);

-- Surplus covers deficit from now on; one netting entry for what stood before.
CREATE TEMP TABLE netting_v9 AS SELECT MIN(
    (SELECT balance_cents FROM ledger_accounts WHERE id = 'surplus'),
    -(SELECT balance_cents FROM ledger_accounts WHERE id = 'deficit')) AS n;
INSERT INTO ledger_entries (ts, kind, vault_id, memo)
  SELECT CAST(strftime('%s', 'now') AS INTEGER) * 1000, 'netting', NULL, 'surplus covers deficit (migration 9)'
    FROM netting_v9 WHERE n > 0;
INSERT INTO ledger_postings (entry_id, account_id, amount_cents)
  SELECT (SELECT MAX(id) FROM ledger_entries), 'surplus', -n FROM netting_v9 WHERE n > 0
  UNION ALL
  SELECT (SELECT MAX(id) FROM ledger_entries), 'deficit', n FROM netting_v9 WHERE n > 0;
UPDATE ledger_accounts SET balance_cents = balance_cents - (SELECT n FROM netting_v9)
  WHERE id = 'surplus' AND (SELECT n FROM netting_v9) > 0;
UPDATE ledger_accounts SET balance_cents = balance_cents + (SELECT n FROM netting_v9)
  WHERE id = 'deficit' AND (SELECT n FROM netting_v9) > 0;
DROP TABLE netting_v9;
`;
