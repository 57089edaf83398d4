/**
 * Turning an exchange's price string into trusted integer cents: parsed without floats, then
 * checked against sanity bounds so a fat-fingered or broken feed is an error, not a price.
 */
import { usdText, type Cents } from '../../money';
import { decimalToCents } from '../decimal';
import { sourceError } from '../source-error';

/** Prices outside these bounds (cents per BTC) are refused as absurd. */
export interface PriceBounds {
  minCents: number;
  maxCents: number;
}

/** $100 to $100,000,000 per BTC: far outside any real market, so only garbage is refused. */
export const DEFAULT_PRICE_BOUNDS: PriceBounds = { minCents: 100_00, maxCents: 100_000_000_00 };

const PROBLEM_TEXT = {
  'not-a-number': 'is not a decimal number',
  negative: 'is negative',
  zero: 'is zero',
  'too-large': 'is absurdly large',
} as const;

/** Parses a decimal price string to cents; rejects with ORACLE_SOURCE_ERROR 'bad-price'. */
export function parsePrice(
  source: string,
  text: string,
  bounds: PriceBounds = DEFAULT_PRICE_BOUNDS,
): Cents {
  const parsed = decimalToCents(text);
  if (!parsed.ok) {
    throw sourceError(
      source,
      'bad-price',
      `the price "${clip(text)}" ${PROBLEM_TEXT[parsed.problem]}.`,
      {
        price: clip(text),
      },
    );
  }
  return checkBounds(source, Number(parsed.cents), bounds);
}

/** Checks an integer price against the bounds; rejects with ORACLE_SOURCE_ERROR 'bad-price'. */
export function checkBounds(
  source: string,
  cents: number,
  bounds: PriceBounds = DEFAULT_PRICE_BOUNDS,
): Cents {
  if (!Number.isSafeInteger(cents) || cents <= 0) {
    throw sourceError(
      source,
      'bad-price',
      `the price ${String(cents)} is not a positive whole number of cents.`,
      {
        priceCents: String(cents),
      },
    );
  }
  if (cents < bounds.minCents || cents > bounds.maxCents) {
    throw sourceError(
      source,
      'bad-price',
      `its price, ${usdText(cents)} per BTC, is outside the plausible range ${usdText(bounds.minCents)}–${usdText(bounds.maxCents)}.`,
      { priceCents: cents },
    );
  }
  return cents as Cents;
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}
