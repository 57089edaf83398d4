/**
 * Migration 4: Dutch auctions on the liquidations table, their takes, owners' return addresses,
 * and (state, threshold price) indexes so a health pass touches only vaults that cross.
 */
export default /* sql */ `
-- Where the rest of a liquidated vault's collateral goes.
ALTER TABLE vaults ADD COLUMN return_address TEXT;

-- A health pass asks "active vaults whose liquidation price is above P" and the like: with the
-- state first in the index these are pure range scans that return only the vaults that cross.
CREATE INDEX vaults_by_state_liquidation ON vaults (state, liquidation_price_cents);
CREATE INDEX vaults_by_state_warning ON vaults (state, warning_price_cents, liquidation_price_cents);
-- Superseded by the two above; every index is written on each state change, so drop them.
DROP INDEX vaults_by_state;
DROP INDEX vaults_by_liquidation_price;
DROP INDEX vaults_by_warning_price;

-- The auction of a liquidation (one row of liquidations is one auction).
--   state: running | settling (tab covered or lot gone; settlement being made) | settled
--   The price falls linearly from top to floor over duration_ms from cycle_started_at; at the
--   floor it resets with a new top from the oracle (resets counts them).
ALTER TABLE liquidations ADD COLUMN top_price_cents INTEGER NOT NULL DEFAULT 0;
ALTER TABLE liquidations ADD COLUMN floor_price_cents INTEGER NOT NULL DEFAULT 0;
ALTER TABLE liquidations ADD COLUMN cycle_started_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE liquidations ADD COLUMN duration_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE liquidations ADD COLUMN resets INTEGER NOT NULL DEFAULT 0;
ALTER TABLE liquidations ADD COLUMN covered_cents INTEGER NOT NULL DEFAULT 0 CHECK (covered_cents >= 0);
ALTER TABLE liquidations ADD COLUMN sold_sats INTEGER NOT NULL DEFAULT 0 CHECK (sold_sats >= 0);
ALTER TABLE liquidations ADD COLUMN return_address TEXT;
ALTER TABLE liquidations ADD COLUMN deficit_cents INTEGER NOT NULL DEFAULT 0;
ALTER TABLE liquidations ADD COLUMN ended_at INTEGER;
CREATE UNIQUE INDEX liquidations_one_open_per_vault ON liquidations (vault_id) WHERE state <> 'settled';

-- One purchase from an auction: the taker paid paid_cents of bsUSD for sats, sent to btc_address
-- by the settlement transaction.
CREATE TABLE auction_takes (
  id             INTEGER PRIMARY KEY,
  liquidation_id INTEGER NOT NULL REFERENCES liquidations (id),
  taker          TEXT    NOT NULL,
  btc_address    TEXT    NOT NULL,
  sats           INTEGER NOT NULL CHECK (sats > 0),
  paid_cents     INTEGER NOT NULL CHECK (paid_cents > 0),
  price_cents    INTEGER NOT NULL CHECK (price_cents > 0),
  ts             INTEGER NOT NULL
);
CREATE INDEX auction_takes_by_liquidation ON auction_takes (liquidation_id);
`;
