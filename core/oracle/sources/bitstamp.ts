/**
 * Bitstamp ticker, GET /api/v2/ticker/btcusd/
 *   → {"timestamp":"1700000000","open":"…","high":"…","low":"…","last":"43250","volume":"…",
 *      "vwap":"…","bid":"…","ask":"…","side":"0","open_24":"…","percent_change_24":"…"}
 * `timestamp` is Unix seconds as a string. API errors come as {"status":"error","reason":…,
 * "code":…}; an unknown path is an HTTP 404.
 */
import { z } from 'zod';
import { sourceError } from '../source-error';
import { exchangeMessage, fetchJson, joinUrl } from './http';
import { parsePrice } from './price';
import { checkTimestamp, parseShape } from './shape';
import type { HttpSourceOptions, PriceSource, SourceQuote } from './types';

export const BITSTAMP_BASE_URL = 'https://www.bitstamp.net';

const Ticker = z.object({ last: z.string(), timestamp: z.string() });
const ErrorBody = z.object({ status: z.literal('error') });

/** A PriceSource reading Bitstamp's btcusd ticker (last trade price). */
export function bitstampSource(options: HttpSourceOptions = {}): PriceSource {
  const name = options.name ?? 'bitstamp';
  const url = joinUrl(options.baseUrl ?? BITSTAMP_BASE_URL, '/api/v2/ticker/btcusd/');
  return {
    name,
    async fetch(signal: AbortSignal): Promise<SourceQuote> {
      const raw = await fetchJson(name, url, signal);
      if (ErrorBody.safeParse(raw).success) {
        throw sourceError(
          name,
          'exchange-error',
          `Bitstamp reported ${exchangeMessage(raw) ?? 'an error'}.`,
        );
      }
      const body = parseShape(name, Ticker, raw);
      const priceCents = parsePrice(name, body.last, options.bounds);
      const ms = /^\d{1,12}$/.test(body.timestamp) ? Number(body.timestamp) * 1000 : NaN;
      return { priceCents, sourceTs: checkTimestamp(name, ms, body.timestamp) };
    },
  };
}
