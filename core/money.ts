/**
 * Money as integers. Satoshis, cents and basis points are distinct branded number types, so
 * mixing them is a type error; products that can pass 2^53 are computed in BigInt.
 */
import { BitStableError } from './errors';

declare const satsBrand: unique symbol;
declare const centsBrand: unique symbol;
declare const bpsBrand: unique symbol;

/** An amount of bitcoin in satoshis (a non-negative safe integer). */
export type Sats = number & { readonly [satsBrand]: true };
/** An amount of US dollars (or bsUSD) in cents; prices are cents per whole BTC. */
export type Cents = number & { readonly [centsBrand]: true };
/** A ratio in basis points: 10,000 = 100 %. */
export type Bps = number & { readonly [bpsBrand]: true };

export const SATS_PER_BTC = 100_000_000;
export const MAX_MONEY_SATS = 21_000_000 * SATS_PER_BTC;

function checkAmount(value: unknown, what: string, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new BitStableError(
      'INVALID_AMOUNT',
      `${what} must be a whole, non-negative number${max < Number.MAX_SAFE_INTEGER ? ` no larger than ${max}` : ''}; got ${String(value)}.`,
      { value: String(value), unit: what },
    );
  }
  return value;
}

/** Validates a satoshi amount: whole, non-negative, at most 21 million BTC. */
export function sats(value: unknown): Sats {
  return checkAmount(value, 'An amount in satoshis', MAX_MONEY_SATS) as Sats;
}

/** Validates an amount or price in cents: whole and non-negative. */
export function cents(value: unknown): Cents {
  return checkAmount(value, 'An amount in cents', Number.MAX_SAFE_INTEGER) as Cents;
}

/** Validates a ratio in basis points. */
export function bps(value: unknown): Bps {
  return checkAmount(value, 'A ratio in basis points', Number.MAX_SAFE_INTEGER) as Bps;
}

/**
 * Parses a decimal BTC amount as Bitcoin Core prints it ("0.10000000", "1", "21000000.00000000")
 * into satoshis with integer arithmetic only — never `btc * 1e8`.
 */
export function btcStringToSats(text: string): Sats {
  const m = /^(\d{1,8})(?:\.(\d{0,8}))?$/.exec(text.trim());
  if (!m) {
    throw new BitStableError(
      'INVALID_AMOUNT',
      `"${text}" is not a BTC amount with at most 8 decimals.`,
      {
        value: text,
      },
    );
  }
  const whole = BigInt(m[1]!);
  const frac = BigInt((m[2] ?? '').padEnd(8, '0'));
  return sats(Number(whole * 100_000_000n + frac));
}

/** Formats satoshis as a BTC decimal string with 8 decimals ("0.10000000"). */
export function satsToBtcString(amount: Sats): string {
  const whole = Math.floor(amount / SATS_PER_BTC);
  const frac = amount % SATS_PER_BTC;
  return `${whole}.${String(frac).padStart(8, '0')}`;
}

/** Formats cents as dollars with two decimals ("4500.00"). */
export function centsToString(amount: Cents): string {
  const whole = Math.floor(amount / 100);
  return `${whole}.${String(amount % 100).padStart(2, '0')}`;
}

/** Cents as dollars for a sentence, grouped: 10000000000 → "$100,000,000.00". */
export function usdText(amount: Cents | number): string {
  const whole = Math.floor(amount / 100).toLocaleString('en-US');
  return `$${whole}.${String(amount % 100).padStart(2, '0')}`;
}
