/**
 * What the rest of the app sees of the oracle: the current price and whether it may be used.
 * The vault core depends on `PriceFeed`, never on the Oracle class.
 */
import { BitStableError } from '../errors';
import { centsToString, type Cents } from '../money';

/** Why a price may or may not be used right now. */
export type PriceStatus = 'ok' | 'stale' | 'insufficient-sources' | 'held';

/** The oracle price as of now. */
export interface PriceState {
  /** The last accepted price (cents per BTC); null before the first accepted round. */
  priceCents: Cents | null;
  /** 'ok' only when priceCents may be used for minting, withdrawals and new liquidations. */
  status: PriceStatus;
  /** Time since the last accepted round; null before the first. */
  ageMs: number | null;
  /** The sources whose prices made priceCents. */
  sources: string[];
  /** The accepted round behind priceCents; null before the first. */
  roundId: number | null;
  /** The price the circuit breaker is holding for confirmation, when status is 'held'. */
  heldPriceCents: Cents | null;
  /** The most recent round, accepted or not. */
  lastRoundId: number | null;
  /** Sources that survived the most recent round, and how many were required. */
  lastRoundSources: number;
  threshold: number;
  /** After this much time without an accepted round the price is stale. */
  maxAgeMs: number;
  /** Held: how long until the held price is accepted if it stands; null otherwise. */
  heldConfirmsInMs: number | null;
  /** Liquidations use the accepted price of this long ago (0: the current one). */
  delayMs: number;
  /** The accepted price of `delayMs` ago (the current one when 0); null before one is that old. */
  delayedPriceCents: Cents | null;
  /** The price liquidations use now: the higher of the current price and the one of `delayMs` ago. */
  liquidationPriceCents: Cents | null;
  /** After a fall: the current price, and from when liquidations act on it if it stays; else null. */
  nextLiquidationPrice: { priceCents: Cents; effectiveAtMs: number } | null;
  /** Our clock's estimated offset from the timed sources in the last round; null if unknown. */
  clockSkewMs: number | null;
  /** Sources left out of the last round as frozen. */
  frozenSources: string[];
}

/** The price the vault core may act on. */
export interface PriceFeed {
  /** The current price and its status; never throws. */
  current(): PriceState;
  /** The price when status is 'ok'; otherwise throws PRICE_UNAVAILABLE saying why. */
  requireFreshPrice(): Cents;
}

const PAUSED = 'Minting, withdrawals and new liquidations are paused until it recovers.';

/** The plain sentence saying why a price cannot be used; null when it can. */
export function priceUnavailableMessage(s: PriceState): string | null {
  switch (s.status) {
    case 'ok':
      return null;
    case 'stale':
      return s.ageMs === null
        ? `No BTC price has been accepted yet. ${PAUSED}`
        : `The BTC price is stale: the last accepted price is ${seconds(s.ageMs)} old, more than the ${seconds(s.maxAgeMs)} allowed. ${PAUSED}`;
    case 'insufficient-sources':
      return `Not enough price sources agree on the BTC price (${s.lastRoundSources} of the ${s.threshold} required). ${PAUSED}`;
    case 'held':
      return `The circuit breaker is holding a new BTC price of $${s.heldPriceCents === null ? '?' : centsToString(s.heldPriceCents)} that moved too far from the prices accepted lately; ${s.heldConfirmsInMs ? `it is accepted if it still stands in ${seconds(s.heldConfirmsInMs)}` : 'the next round must confirm it'}. ${PAUSED}`;
  }
}

/**
 * The price a mint or withdrawal is checked at: the lower of the current and the delayed price
 * (SPEC §7), so nobody borrows against a rise the liquidations have not seen yet, nor before a
 * fall they will act on. Throws PRICE_UNAVAILABLE like `requireFresh`.
 */
export function requireCollateralPrice(s: PriceState): Cents {
  const now = requireFresh(s);
  const delayed = s.delayedPriceCents;
  return delayed !== null && delayed < now ? delayed : now;
}

/**
 * The price liquidations act on: the delayed price, when the current one is fresh. Throws
 * PRICE_UNAVAILABLE when the price is not usable, or when no price is yet a delay old.
 */
export function requireLiquidationPrice(s: PriceState): Cents {
  requireFresh(s);
  if (s.liquidationPriceCents !== null) return s.liquidationPriceCents;
  throw new BitStableError(
    'PRICE_UNAVAILABLE',
    `Liquidations use the price of ${seconds(s.delayMs)} ago, and no accepted price is that old yet. New liquidations start once one is.`,
    { status: s.status, delayMs: s.delayMs },
  );
}

/** Returns the usable price or throws PRICE_UNAVAILABLE with the reason (shared by every feed). */
export function requireFresh(s: PriceState): Cents {
  const message = priceUnavailableMessage(s);
  if (message === null && s.priceCents !== null) return s.priceCents;
  throw new BitStableError('PRICE_UNAVAILABLE', message ?? 'No BTC price is available.', {
    status: s.status,
    ageMs: s.ageMs,
    priceCents: s.priceCents,
    heldPriceCents: s.heldPriceCents,
    sources: s.lastRoundSources,
    threshold: s.threshold,
  });
}

/** A PriceFeed that always answers one fixed, fresh price (for tests of code that needs a price). */
export function fixedPriceFeed(priceCents: Cents): PriceFeed {
  const state: PriceState = {
    priceCents,
    status: 'ok',
    ageMs: 0,
    sources: ['fixed'],
    roundId: null,
    heldPriceCents: null,
    lastRoundId: null,
    lastRoundSources: 1,
    threshold: 1,
    maxAgeMs: Number.MAX_SAFE_INTEGER,
    heldConfirmsInMs: null,
    delayMs: 0,
    delayedPriceCents: priceCents,
    liquidationPriceCents: priceCents,
    nextLiquidationPrice: null,
    clockSkewMs: null,
    frozenSources: [],
  };
  return {
    current: () => ({ ...state, sources: [...state.sources] }),
    requireFreshPrice: () => requireFresh(state),
  };
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)} s`;
}
