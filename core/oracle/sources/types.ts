/**
 * The one interface every price source implements (SPEC §7). The oracle depends on this, never
 * on a particular exchange.
 */
import type { Cents } from '../../money';
import type { PriceBounds } from './price';

/** One answer from one source. */
export interface SourceQuote {
  /** Cents per whole BTC; a positive integer. */
  priceCents: Cents;
  /** When the source says the price was made (ms since epoch), if it says at all. */
  sourceTs?: number;
}

/** A BTC/USD price source. `fetch` rejects with ORACLE_SOURCE_ERROR and honours `signal`. */
export interface PriceSource {
  /** Unique, stable name; stored with every answer. */
  readonly name: string;
  fetch(signal: AbortSignal): Promise<SourceQuote>;
}

/** Options every HTTP adapter takes. */
export interface HttpSourceOptions {
  /** Scheme, host and optional path prefix, e.g. "https://api.binance.com". */
  baseUrl?: string;
  /** Overrides the source name (e.g. two Binance mirrors). */
  name?: string;
  /** Plausible price range; defaults to DEFAULT_PRICE_BOUNDS. */
  bounds?: PriceBounds;
}
