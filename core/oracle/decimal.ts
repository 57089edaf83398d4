/**
 * Decimal price strings ("43250.12000000") to integer cents, with string and BigInt arithmetic
 * only: a float would turn 0.285 into 0.28499999… and round the wrong way.
 */

/** Why a price string was refused. */
export type DecimalProblem = 'not-a-number' | 'negative' | 'zero' | 'too-large';

/** The result of parsing: cents, or the reason the text is not a usable price. */
export type ParsedCents = { ok: true; cents: bigint } | { ok: false; problem: DecimalProblem };

// At most 13 integer digits: anything longer is garbage rather than a price, and it keeps every
// result (under 10^15 cents) inside Number.MAX_SAFE_INTEGER.
const DECIMAL = /^(-?)(\d{1,13})(?:\.(\d{1,30}))?$/;

/** Parses a plain decimal string to cents, rounding half up at the third decimal. */
export function decimalToCents(text: string): ParsedCents {
  const m = DECIMAL.exec(text);
  if (!m) return { ok: false, problem: /^-?\d{14,}/.test(text) ? 'too-large' : 'not-a-number' };
  const [, sign, whole, frac = ''] = m;
  const digits = frac.padEnd(3, '0');
  let cents = BigInt(whole!) * 100n + BigInt(digits.slice(0, 2));
  // Half up: the third decimal decides; later digits cannot change a "5 or more" outcome.
  if (digits.charCodeAt(2) >= 0x35 /* '5' */) cents += 1n;
  if (sign === '-' && (cents > 0n || /[1-9]/.test(whole! + frac)))
    return { ok: false, problem: 'negative' };
  if (cents === 0n) return { ok: false, problem: 'zero' };
  return { ok: true, cents };
}
