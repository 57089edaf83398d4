/**
 * Builds the enabled price sources from validated settings.
 */
import type { Cents } from '../../money';
import type { OracleConfig } from '../config';
import { binanceSource } from './binance';
import { bitstampSource } from './bitstamp';
import { coinbaseSource } from './coinbase';
import { krakenSource } from './kraken';
import { SimulatedSource } from './simulated';
import type { PriceSource } from './types';

export interface BuiltSources {
  sources: PriceSource[];
  /** The simulated source when enabled, so the UI or API can set its price. */
  simulated: SimulatedSource | null;
}

/** The sources `config` enables, in a fixed order (exchanges first, then simulated). */
export function createSources(config: OracleConfig): BuiltSources {
  const bounds = { minCents: config.minPriceCents, maxCents: config.maxPriceCents };
  const s = config.sources;
  const sources: PriceSource[] = [];
  if (s.binance.enabled) sources.push(binanceSource({ baseUrl: s.binance.baseUrl, bounds }));
  if (s.coinbase.enabled) sources.push(coinbaseSource({ baseUrl: s.coinbase.baseUrl, bounds }));
  if (s.kraken.enabled) sources.push(krakenSource({ baseUrl: s.kraken.baseUrl, bounds }));
  if (s.bitstamp.enabled) sources.push(bitstampSource({ baseUrl: s.bitstamp.baseUrl, bounds }));
  let simulated: SimulatedSource | null = null;
  if (s.simulated.enabled) {
    simulated = new SimulatedSource(s.simulated.initialPriceCents as Cents | null);
    sources.push(simulated);
  }
  return { sources, simulated };
}

export { binanceSource, BINANCE_BASE_URL } from './binance';
export { bitstampSource, BITSTAMP_BASE_URL } from './bitstamp';
export { coinbaseSource, COINBASE_BASE_URL } from './coinbase';
export { krakenSource, KRAKEN_BASE_URL } from './kraken';
export { SimulatedSource } from './simulated';
export { DEFAULT_PRICE_BOUNDS, type PriceBounds } from './price';
export type { HttpSourceOptions, PriceSource, SourceQuote } from './types';
