/**
 * Migration 10: redemptions (SPEC §8.5; issue "The peg and the price" item 3).
 *
 * - `redemptions`: one per `bsusd.redeem` — who, how much of the debt it redeemed, the fee, the
 *   price, the bitcoin owed in all and where it goes.
 * - `redemption_payouts`: what each touched vault owes the redeemer, written in the same
 *   transaction that lowers the vault's debt (the obligation is stored before it is acted on).
 *   `owed` until the vault's `redemption` spend confirms, then `paid` with its txid; a spend that
 *   is dropped or fails leaves it owed, and the next one is made (a spend pays the payout named
 *   in its plan, so an older spend mined late pays it too). While owed, a payout holds the
 *   vault's coins like an open spend; a vault with one owed is not redeemed from again (a reorg
 *   may still put a paid one back to owed beside a newer one, so the index is not unique).
 * - `spends.kind` gains `redemption` (the table is rebuilt as in migration 6; its indexes too).
 */
export default /* sql */ `
CREATE TABLE spends_v10 (
  id                 INTEGER PRIMARY KEY,
  vault_id           INTEGER NOT NULL REFERENCES vaults (id),
  kind               TEXT    NOT NULL CHECK (kind IN ('withdraw', 'close', 'emergency-exit', 'settlement', 'sweep', 'redemption')),
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
INSERT INTO spends_v10 SELECT id, vault_id, kind, state, plan, psbt, tx_hex, txid, destination,
  created_at, updated_at, expires_at, signing_by, cosign_price_cents FROM spends;
DROP TABLE spends;
ALTER TABLE spends_v10 RENAME TO spends;
CREATE UNIQUE INDEX spends_one_open_per_vault ON spends (vault_id)
  WHERE state IN ('draft', 'signing', 'awaiting-guardian', 'signed');
CREATE INDEX spends_by_vault ON spends (vault_id, id);

CREATE TABLE redemptions (
  id             INTEGER PRIMARY KEY,
  account_id     TEXT    NOT NULL,
  btc_address    TEXT    NOT NULL,
  redeemed_cents INTEGER NOT NULL CHECK (redeemed_cents > 0),
  fee_cents      INTEGER NOT NULL CHECK (fee_cents >= 0),
  price_cents    INTEGER NOT NULL CHECK (price_cents > 0),
  sats           INTEGER NOT NULL CHECK (sats > 0),
  created_at     INTEGER NOT NULL
);
CREATE INDEX redemptions_by_account ON redemptions (account_id, id);

CREATE TABLE redemption_payouts (
  id            INTEGER PRIMARY KEY,
  redemption_id INTEGER NOT NULL REFERENCES redemptions (id),
  vault_id      INTEGER NOT NULL REFERENCES vaults (id),
  debt_cents    INTEGER NOT NULL CHECK (debt_cents > 0),
  sats          INTEGER NOT NULL CHECK (sats > 0),
  state         TEXT    NOT NULL CHECK (state IN ('owed', 'paid')),
  spend_id      INTEGER REFERENCES spends (id),
  txid          TEXT,
  paid_at       INTEGER
);
CREATE INDEX redemption_payouts_owed ON redemption_payouts (vault_id) WHERE state = 'owed';
CREATE INDEX redemption_payouts_by_redemption ON redemption_payouts (redemption_id);
CREATE INDEX redemption_payouts_by_vault ON redemption_payouts (vault_id, id);
`;
