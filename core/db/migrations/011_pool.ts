/**
 * Migration 11: the stability pool (SPEC §8.5; issue "The peg and the price" item 4).
 *
 * - `pool_depositors`: each depositor's bitcoin address, where the settlement of an auction the
 *   pool took pays their share. Their bsUSD in the pool is a ledger account `pool:<account id>`
 *   (kind `pool`, never negative; migration 9 added the kind).
 * - `auction_takes.via_pool`: a take the pool made at the auction's floor, one row per
 *   depositor (their share of the lot, bought with their own deposit).
 */
export default /* sql */ `
CREATE TABLE pool_depositors (
  account_id  TEXT    PRIMARY KEY,
  btc_address TEXT    NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
ALTER TABLE auction_takes ADD COLUMN via_pool INTEGER NOT NULL DEFAULT 0 CHECK (via_pool IN (0, 1));
CREATE INDEX auction_takes_by_taker ON auction_takes (taker, via_pool);
`;
