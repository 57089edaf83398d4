/**
 * Migration 2: what the oracle needs to explain each round (SPEC §7).
 * Adds to price_rounds the median before outliers were dropped, the sources that survived, the
 * threshold in force and the circuit breaker's measured move; adds to price_answers the typed
 * reason of a source's error; indexes accepted rounds for charts.
 */
export default /* sql */ `
-- Median of every timely answer, before outliers were dropped; NULL when no source answered.
ALTER TABLE price_rounds ADD COLUMN median_cents INTEGER
  CHECK (median_cents IS NULL OR median_cents > 0);
-- JSON array of the sources that survived the round's checks; when price_cents is set, these
-- are exactly the prices it is the median of.
ALTER TABLE price_rounds ADD COLUMN sources_used TEXT NOT NULL DEFAULT '[]';
-- Survivors the round needed (the configured threshold at the time).
ALTER TABLE price_rounds ADD COLUMN threshold INTEGER CHECK (threshold IS NULL OR threshold >= 1);
-- Move from the last accepted price in basis points; NULL for the first round or without a price.
ALTER TABLE price_rounds ADD COLUMN move_bps INTEGER CHECK (move_bps IS NULL OR move_bps >= 0);

-- The typed reason of a failed answer (timeout, http, not-json, bad-price, ...); NULL on success.
-- price_answers.dropped says why an answer was left out: error | future | too-old | outlier.
ALTER TABLE price_answers ADD COLUMN error_reason TEXT;

-- The oracle price over time is the accepted rounds only; charts and restarts read these.
CREATE INDEX price_rounds_accepted_by_time ON price_rounds (network, ts) WHERE accepted = 1;
`;
