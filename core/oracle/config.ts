/**
 * Oracle settings per network, validated with zod (SPEC §7): which sources, their base URLs,
 * the survivor threshold, staleness, interval, timeout, outlier and circuit-breaker limits.
 * Defaults: regtest uses the simulated source alone (threshold 1); every other network uses
 * the four exchanges with threshold 2.
 */
import { z } from 'zod';
import type { NetworkName } from '../config/networks';
import { BitStableError } from '../errors';
import { BINANCE_BASE_URL } from './sources/binance';
import { BITSTAMP_BASE_URL } from './sources/bitstamp';
import { COINBASE_BASE_URL } from './sources/coinbase';
import { KRAKEN_BASE_URL } from './sources/kraken';
import { DEFAULT_PRICE_BOUNDS } from './sources/price';

export const EXCHANGES = ['binance', 'coinbase', 'kraken', 'bitstamp'] as const;
export type ExchangeName = (typeof EXCHANGES)[number];

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.int().min(min).max(max);
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const Exchange = z.strictObject({ enabled: z.boolean(), baseUrl: httpUrl });

const Schema = z
  .strictObject({
    sources: z.strictObject({
      binance: Exchange,
      coinbase: Exchange,
      kraken: Exchange,
      bitstamp: Exchange,
      simulated: z.strictObject({ enabled: z.boolean(), initialPriceCents: int(1).nullable() }),
    }),
    /** Surviving sources a round needs for a price. */
    threshold: int(1),
    /** Staleness of the oracle price, and the oldest a source's own timestamp may be. */
    maxAgeMs: int(1_000),
    intervalMs: int(100),
    /** Per-request timeout for each source. */
    timeoutMs: int(50),
    /** Outlier rule: answers further than this from the median are dropped (200 = 2 %). */
    maxDeviationBps: int(1, 10_000),
    /** Circuit breaker: a move larger than this from the last accepted price is held. */
    circuitBreakerBps: int(1),
    /** How far ahead of our clock a source's timestamp may be. */
    futureSkewMs: int(0),
    /** The circuit breaker's limit also bounds the move from every price accepted this far back. */
    breakerWindowMs: int(0),
    /** How long a held price must stand before it is accepted (0: the next round confirms it). */
    breakerConfirmMs: int(0),
    /** Liquidations use the price of this long ago (Maker's OSM); 0: the current price. */
    priceDelayMs: int(0),
    /** The most our clock is corrected by towards the timed sources' (0: never). */
    maxClockSkewMs: int(0),
    /** An untimed source's value unchanged this long while the others moved is frozen (0: off). */
    frozenAfterMs: int(0),
    /** The live move that makes an unchanged value frozen. */
    frozenMoveBps: int(0, 10_000),
    /** Plausible price range; anything outside is a broken source. */
    minPriceCents: int(1),
    maxPriceCents: int(1),
  })
  .superRefine((c, ctx) => {
    const enabled = enabledSourceNames(c).length;
    if (enabled === 0)
      ctx.addIssue({
        code: 'custom',
        path: ['sources'],
        message: 'at least one source must be enabled',
      });
    else if (c.threshold > enabled) {
      ctx.addIssue({
        code: 'custom',
        path: ['threshold'],
        message: `${c.threshold} is more than the ${enabled} enabled source(s), so no round could ever reach it`,
      });
    }
    if (c.timeoutMs >= c.maxAgeMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['timeoutMs'],
        message: 'must be shorter than maxAgeMs',
      });
    }
    if (c.maxClockSkewMs * 2 > c.maxAgeMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxClockSkewMs'],
        message:
          'must be at most half of maxAgeMs, so one source stamping its answers ahead cannot make fresh ones look stale',
      });
    }
    if (c.minPriceCents >= c.maxPriceCents) {
      ctx.addIssue({
        code: 'custom',
        path: ['minPriceCents'],
        message: 'must be below maxPriceCents',
      });
    }
  });

/** Validated oracle settings for one network. */
export type OracleConfig = z.infer<typeof Schema>;

const exchange = (baseUrl: string) => ({ enabled: true, baseUrl });
const common = {
  maxAgeMs: 60_000,
  intervalMs: 10_000,
  timeoutMs: 3_000,
  maxDeviationBps: 200,
  circuitBreakerBps: 2_000,
  futureSkewMs: 5_000,
  breakerWindowMs: 3_600_000,
  breakerConfirmMs: 600_000,
  priceDelayMs: 600_000,
  maxClockSkewMs: 30_000,
  frozenAfterMs: 30_000,
  frozenMoveBps: 50,
  minPriceCents: DEFAULT_PRICE_BOUNDS.minCents,
  maxPriceCents: DEFAULT_PRICE_BOUNDS.maxCents,
};
const exchanges = {
  binance: exchange(BINANCE_BASE_URL),
  coinbase: exchange(COINBASE_BASE_URL),
  kraken: exchange(KRAKEN_BASE_URL),
  bitstamp: exchange(BITSTAMP_BASE_URL),
};

/** The default settings for a network (before any user overrides). */
export function defaultOracleConfig(network: NetworkName): OracleConfig {
  if (network === 'regtest') {
    const off = Object.fromEntries(EXCHANGES.map((n) => [n, { ...exchanges[n], enabled: false }]));
    return {
      ...common,
      sources: {
        ...(off as Record<ExchangeName, { enabled: boolean; baseUrl: string }>),
        // A starting price so a fresh regtest setup can mint at once; set it from the UI or API.
        simulated: { enabled: true, initialPriceCents: 50_000_00 },
      },
      threshold: 1,
      intervalMs: 5_000,
      // The playground's price is its user's own: a move is confirmed by the next round and
      // liquidations act on the price at once, so a fall can be tried in seconds.
      breakerConfirmMs: 0,
      priceDelayMs: 0,
    };
  }
  return {
    ...common,
    sources: {
      ...structuredClone(exchanges),
      simulated: { enabled: false, initialPriceCents: null },
    },
    threshold: 2,
  };
}

/**
 * The settings for `network`: defaults with `overrides` (a partial, nested object such as
 * `{ threshold: 3, sources: { kraken: { enabled: false } } }`) laid over them, validated.
 * Throws INVALID_CONFIG with a plain list of what is wrong.
 */
export function resolveOracleConfig(network: NetworkName, overrides: unknown = {}): OracleConfig {
  if (!isPlainObject(overrides)) {
    throw new BitStableError(
      'INVALID_CONFIG',
      `The oracle settings for ${network} must be an object.`,
      { network },
    );
  }
  const merged = mergeDeep(defaultOracleConfig(network), overrides);
  const result = Schema.safeParse(merged);
  if (result.success) return result.data;
  const problems = result.error.issues.map(
    (i) => `${i.path.map(String).join('.') || 'settings'}: ${i.message}`,
  );
  throw new BitStableError(
    'INVALID_CONFIG',
    `The oracle settings for ${network} are not valid: ${problems.join('; ')}.`,
    { network, problems },
  );
}

/** Names of the sources a config enables, in a fixed order. */
export function enabledSourceNames(c: Pick<OracleConfig, 'sources'>): string[] {
  const names: string[] = EXCHANGES.filter((n) => c.sources[n].enabled);
  if (c.sources.simulated.enabled) names.push('simulated');
  return names;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function mergeDeep(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    // defineProperty, so a "__proto__" key from JSON stays a plain (and then rejected) key.
    const value = mergeDeep(Object.hasOwn(base, k) ? base[k] : undefined, v);
    Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}
