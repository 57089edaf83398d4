import { describe, expect, it } from 'vitest';
import vectors from '../fixtures/health-vectors.json';
import {
  collateralRatioBps,
  liquidationPrice,
  maxDebtFor,
  thresholdPrice,
} from '../../core/vaults/health';
import type { Bps, Cents, Sats } from '../../core/money';

const LIQ = 15_000 as Bps;
const WARN = 16_000 as Bps;

describe('collateral ratio and threshold prices (vectors)', () => {
  for (const v of vectors.vectors) {
    it(v.description, () => {
      const c = v.collateral as Sats;
      const d = v.debt as Cents;
      expect(collateralRatioBps(c, d, v.price as Cents)).toBe(v.ratioBps);
      expect(liquidationPrice(c, d, LIQ)).toBe(v.liquidationPrice);
      expect(thresholdPrice(c, d, WARN)).toBe(v.warningPrice);
    });
  }
});

describe('threshold price agrees with the ratio at every integer price', () => {
  it('price < liquidation price exactly when ratio < 150 %, over 5,000 pseudo-random vaults', () => {
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 5_000; i++) {
      const c = (1 + rand(500_000_000)) as Sats;
      const d = (1 + rand(10_000_000)) as Cents;
      const l = liquidationPrice(c, d, LIQ)!;
      for (const p of [l - 1, l, l + 1].filter((x) => x > 0)) {
        const below = collateralRatioBps(c, d, p as Cents)! < LIQ;
        expect(below, `c=${c} d=${d} p=${p} l=${l}`).toBe(p < l);
      }
    }
  });
});

describe('maxDebtFor', () => {
  it('is the most debt that keeps the minimum ratio, rounded down', () => {
    // 0.1 BTC at 45,000 USD is 4,500 USD; at 150 % that carries 3,000.00.
    expect(maxDebtFor(10_000_000 as Sats, 4_500_000 as Cents, LIQ)).toBe(300_000);
    const d = maxDebtFor(7 as Sats, 21_428_572 as Cents, LIQ);
    expect(collateralRatioBps(7 as Sats, d, 21_428_572 as Cents)!).toBeGreaterThanOrEqual(LIQ);
  });
});
