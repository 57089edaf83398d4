import { codeOfSync } from '../helpers/errors';
import { describe, expect, it } from 'vitest';
import { btcStringToSats, cents, centsToString, sats, satsToBtcString } from '../../core/money';

describe('money', () => {
  it('parses Core amounts exactly, including ones a float multiply gets wrong', () => {
    expect(btcStringToSats('0.10000000')).toBe(10_000_000);
    expect(btcStringToSats('21000000.00000000')).toBe(2_100_000_000_000_000);
    expect(btcStringToSats('0.29')).toBe(29_000_000); // 0.29 * 1e8 = 28999999.999999996
    expect(btcStringToSats('1.00000001')).toBe(100_000_001);
    expect(btcStringToSats('5')).toBe(500_000_000);
  });

  it('formats sats and cents for people and for Core', () => {
    expect(satsToBtcString(sats(10_000_000))).toBe('0.10000000');
    expect(satsToBtcString(sats(1))).toBe('0.00000001');
    expect(centsToString(cents(450_000))).toBe('4500.00');
    expect(centsToString(cents(7))).toBe('0.07');
  });

  it.each([
    ['negative sats', () => sats(-1)],
    ['fractional sats', () => sats(1.5)],
    ['more than 21 million BTC', () => sats(2_100_000_000_000_001)],
    ['a string for sats', () => sats('100')],
    ['NaN cents', () => cents(Number.NaN)],
    ['a BTC amount with 9 decimals', () => btcStringToSats('0.000000001')],
    ['a negative BTC amount', () => btcStringToSats('-1')],
  ])('refuses %s with INVALID_AMOUNT', (_name, fn) => {
    expect(codeOfSync(fn)).toBe('INVALID_AMOUNT');
  });
});
