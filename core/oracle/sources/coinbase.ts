/**
 * Coinbase Exchange ticker, GET /products/BTC-USD/ticker
 *   → {"ask":"43251.00","bid":"43250.00","volume":"12345.6","trade_id":123,"price":"43250.12",
 *      "size":"0.01","time":"2024-01-15T12:00:00.123456Z"}
 * Errors come as HTTP 4xx with {"message":"NotFound"}. `time` is the last trade's time.
 */
import { z } from 'zod';
import { fetchJson, joinUrl } from './http';
import { parsePrice } from './price';
import { checkTimestamp, parseShape } from './shape';
import type { HttpSourceOptions, PriceSource, SourceQuote } from './types';

export const COINBASE_BASE_URL = 'https://api.exchange.coinbase.com';

const Ticker = z.object({ price: z.string(), time: z.string() });
// ISO 8601 in UTC as Coinbase sends it; anything else is refused rather than guessed at.
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;

/** A PriceSource reading Coinbase Exchange's BTC-USD ticker. */
export function coinbaseSource(options: HttpSourceOptions = {}): PriceSource {
  const name = options.name ?? 'coinbase';
  const url = joinUrl(options.baseUrl ?? COINBASE_BASE_URL, '/products/BTC-USD/ticker');
  return {
    name,
    async fetch(signal: AbortSignal): Promise<SourceQuote> {
      const body = parseShape(name, Ticker, await fetchJson(name, url, signal));
      const priceCents = parsePrice(name, body.price, options.bounds);
      const ms = ISO_UTC.test(body.time) ? Date.parse(body.time) : NaN;
      return { priceCents, sourceTs: checkTimestamp(name, ms, body.time) };
    },
  };
}
