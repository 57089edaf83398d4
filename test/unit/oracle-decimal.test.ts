import { describe, expect, it } from 'vitest';
import { decimalToCents } from '../../core/oracle/decimal';
import { checkBounds, parsePrice } from '../../core/oracle/sources/price';
import { isBitStableError } from '../../core/errors';

// Hand-computed; the ".xx5" rows are the ones a float would round the wrong way.
const VALID: [string, bigint][] = [
  ['43250.12000000', 4_325_012n],
  ['43250.10000', 4_325_010n],
  ['43250', 4_325_000n],
  ['43250.1', 4_325_010n],
  ['43250.125', 4_325_013n], // half up
  ['43250.124999999', 4_325_012n],
  ['0.285', 29n], // 0.285 as a double is 0.28499999999999998…
  ['1.005', 101n], // 1.005 as a double is 1.00499999999999989…
  ['0.005', 1n],
  ['99999.995', 10_000_000n], // carries into the dollars
  ['000123.40', 12_340n],
  ['9999999999999.99', 999_999_999_999_999n], // the longest accepted, still a safe integer
];

const INVALID: [string, string][] = [
  ['', 'not-a-number'],
  ['abc', 'not-a-number'],
  ['4.325e4', 'not-a-number'],
  ['+43250', 'not-a-number'],
  [' 43250', 'not-a-number'],
  ['43250.', 'not-a-number'],
  ['.5', 'not-a-number'],
  ['43,250.12', 'not-a-number'],
  ['NaN', 'not-a-number'],
  ['Infinity', 'not-a-number'],
  ['0', 'zero'],
  ['0.00000000', 'zero'],
  ['0.004', 'zero'], // rounds to no cents at all
  ['-0', 'zero'],
  ['-43250.12', 'negative'],
  ['-0.001', 'negative'],
  ['12345678901234', 'too-large'],
  ['12345678901234.5', 'too-large'],
];

describe('decimalToCents', () => {
  it.each(VALID)('parses %s to %s cents', (text, cents) => {
    expect(decimalToCents(text)).toEqual({ ok: true, cents });
  });

  it.each(INVALID)('refuses %j as %s', (text, problem) => {
    expect(decimalToCents(text)).toEqual({ ok: false, problem });
  });
});

describe('parsePrice', () => {
  it('returns integer cents within the bounds', () => {
    expect(parsePrice('x', '43250.12')).toBe(4_325_012);
  });

  it.each(['0', '-1', 'abc', '0.001', '99.99', '100000000.01'])(
    'refuses %j with ORACLE_SOURCE_ERROR bad-price',
    (text) => {
      let err: unknown;
      try {
        parsePrice('x', text);
      } catch (e) {
        err = e;
      }
      expect(isBitStableError(err, 'ORACLE_SOURCE_ERROR')).toBe(true);
      expect((err as { data: { reason: string; source: string } }).data).toMatchObject({
        reason: 'bad-price',
        source: 'x',
      });
    },
  );

  it('checkBounds refuses non-integers and non-numbers', () => {
    for (const v of [43250.5, Number.NaN, -1, 0, Number.MAX_SAFE_INTEGER + 2]) {
      expect(() => checkBounds('x', v)).toThrowError(
        expect.objectContaining({ code: 'ORACLE_SOURCE_ERROR' }),
      );
    }
  });
});
