/**
 * Kraken public ticker, GET /0/public/Ticker?pair=XBTUSD
 *   → {"error":[],"result":{"XXBTZUSD":{"a":[…],"b":[…],"c":["43250.10000","0.00100000"],…}}}
 * `c` is the last trade closed: [price, lot volume]. Kraken answers errors with HTTP 200 and a
 * non-empty `error` array, e.g. {"error":["EQuery:Unknown asset pair"]}. No timestamp is given.
 */
import { z } from 'zod';
import { sourceError } from '../source-error';
import { fetchJson, joinUrl } from './http';
import { parsePrice } from './price';
import { parseShape } from './shape';
import type { HttpSourceOptions, PriceSource, SourceQuote } from './types';

export const KRAKEN_BASE_URL = 'https://api.kraken.com';

const PairTicker = z.object({ c: z.tuple([z.string(), z.string()]).rest(z.string()) });
const Envelope = z.object({
  error: z.array(z.string()),
  result: z.record(z.string(), z.unknown()).optional(),
});
// Kraken names the pair XXBTZUSD in results even when asked for XBTUSD; accept both spellings.
const PAIR_KEYS = ['XXBTZUSD', 'XBTUSD'];

/** A PriceSource reading Kraken's XBT/USD ticker (last trade price). */
export function krakenSource(options: HttpSourceOptions = {}): PriceSource {
  const name = options.name ?? 'kraken';
  const url = joinUrl(options.baseUrl ?? KRAKEN_BASE_URL, '/0/public/Ticker?pair=XBTUSD');
  return {
    name,
    async fetch(signal: AbortSignal): Promise<SourceQuote> {
      const body = parseShape(name, Envelope, await fetchJson(name, url, signal));
      if (body.error.length > 0) {
        throw sourceError(
          name,
          'exchange-error',
          `Kraken reported ${body.error.join('; ').slice(0, 120)}.`,
        );
      }
      const key = PAIR_KEYS.find((k) => body.result?.[k] !== undefined);
      if (!key) throw sourceError(name, 'bad-shape', 'the answer has no XBT/USD ticker.');
      const ticker = parseShape(name, PairTicker, body.result![key]);
      return { priceCents: parsePrice(name, ticker.c[0], options.bounds) };
    },
  };
}
