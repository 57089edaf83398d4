/**
 * Binance spot ticker, GET /api/v3/ticker/price?symbol=BTCUSDT
 *   → {"symbol":"BTCUSDT","price":"43250.12000000"}
 * Errors come as HTTP 4xx with {"code":-1121,"msg":"Invalid symbol."}.
 *
 * Binance has no BTC/USD spot market, so this reads BTC/USDT and treats 1 USDT as 1 USD (at par).
 * That is a documented assumption, not a conversion: a USDT de-peg shows up as this source
 * drifting from the USD exchanges, and the 2 % outlier rule then drops it.
 * The endpoint carries no timestamp, so the answer has none.
 */
import { z } from 'zod';
import { fetchJson, joinUrl } from './http';
import { parsePrice } from './price';
import { parseShape } from './shape';
import type { HttpSourceOptions, PriceSource, SourceQuote } from './types';

export const BINANCE_BASE_URL = 'https://api.binance.com';

const Ticker = z.object({ symbol: z.literal('BTCUSDT'), price: z.string() });

/** A PriceSource reading Binance's BTCUSDT ticker (USDT taken at par with USD). */
export function binanceSource(options: HttpSourceOptions = {}): PriceSource {
  const name = options.name ?? 'binance';
  const url = joinUrl(options.baseUrl ?? BINANCE_BASE_URL, '/api/v3/ticker/price?symbol=BTCUSDT');
  return {
    name,
    async fetch(signal: AbortSignal): Promise<SourceQuote> {
      const body = parseShape(name, Ticker, await fetchJson(name, url, signal));
      return { priceCents: parsePrice(name, body.price, options.bounds) };
    },
  };
}
