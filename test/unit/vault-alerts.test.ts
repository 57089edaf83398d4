import { describe, expect, it } from 'vitest';
import {
  parseRatioAlert,
  ratioAlert,
  ratioCrossings,
  vaultAlert,
} from '../../renderer/src/lib/alerts';
import { backTo, maxDebtAt, minCollateralAt, ratioAt } from '../../renderer/src/lib/format';

const ratios = { liquidationRatioBps: 15_000, warningRatioBps: 16_000, penaltyBps: 1_300 };

describe('vault alerts', () => {
  it('tells of Warning, an auction and its settlement, with a desktop notification for each', () => {
    const warning = vaultAlert(7, 'active', 'warning', ratios)!;
    expect(warning).toMatchObject({ tone: 'warn', title: 'Vault #7 is in Warning', notify: true });
    expect(warning.body).toContain('under 160.00 %');
    expect(warning.body).toContain('13.00 % penalty');
    expect(vaultAlert(7, 'warning', 'liquidating', ratios)).toMatchObject({
      tone: 'danger',
      title: 'Vault #7 is being liquidated',
      notify: true,
    });
    expect(vaultAlert(7, 'liquidating', 'liquidated', ratios)).toMatchObject({
      tone: 'danger',
      notify: true,
    });
  });

  it('tells of recoveries and ordinary changes in the app only, and of nothing that did not change', () => {
    expect(vaultAlert(3, 'pending', 'active', ratios)).toMatchObject({ tone: 'ok', notify: false });
    expect(vaultAlert(3, 'warning', 'active', ratios)).toMatchObject({
      title: 'Vault #3 is healthy again',
      notify: false,
    });
    expect(vaultAlert(3, 'liquidating', 'active', ratios)).toMatchObject({ notify: true });
    expect(vaultAlert(3, 'active', 'closed', ratios)).toMatchObject({ tone: 'info' });
    expect(vaultAlert(3, 'warning', 'warning', ratios)).toBeNull();
  });

  it('of a vault this window never saw, tells only what needs attention', () => {
    expect(vaultAlert(9, null, 'active', ratios)).toBeNull();
    expect(vaultAlert(9, null, 'closed', ratios)).toBeNull();
    expect(vaultAlert(9, null, 'warning', ratios)?.notify).toBe(true);
    expect(vaultAlert(9, null, 'liquidating', ratios)?.notify).toBe(true);
  });
});

describe('what brings a vault back to a ratio', () => {
  it('repays or adds just enough, rounded so the vault ends at or above the ratio', () => {
    // 0.1 BTC at $45,000 = $4,500 against 2,900 bsUSD: 155.17 %.
    const need = backTo(10_000_000, 290_000, 4_500_000, 16_000)!;
    expect(need).toEqual({ repayCents: 8_750, addSats: 311_112 });
    expect(ratioAt(10_000_000, 290_000 - need.repayCents, 4_500_000)).toBeGreaterThanOrEqual(
      16_000,
    );
    expect(ratioAt(10_000_000, 290_000 - need.repayCents + 1, 4_500_000)).toBeLessThan(16_000);
    expect(ratioAt(10_000_000 + need.addSats, 290_000, 4_500_000)).toBeGreaterThanOrEqual(16_000);
    expect(ratioAt(10_000_000 + need.addSats - 1, 290_000, 4_500_000)).toBeLessThan(16_000);
  });

  it('says nothing for a vault already there or without debt; stays exact past 2^53', () => {
    expect(backTo(10_000_000, 100_000, 4_500_000, 16_000)).toBeNull();
    expect(backTo(10_000_000, 0, 4_500_000, 16_000)).toBeNull();
    // 21 million BTC at $1 million: products far past 2^53.
    const sats = 2_100_000_000_000_000;
    const price = 100_000_000;
    const debt = maxDebtAt(sats, price, 16_000) + 1;
    expect(minCollateralAt(debt, price, 16_000)).toBeGreaterThan(sats);
    expect(backTo(sats, debt, price, 16_000)?.repayCents).toBe(1);
  });
});

describe('the user’s own ratio alert', () => {
  it('takes a ratio above liquidation in %, with at most 2 decimals, and says why not otherwise', () => {
    expect(parseRatioAlert('180', 15_000)).toEqual({ bps: 18_000, problem: null });
    expect(parseRatioAlert(' 182.5 % ', 15_000)).toEqual({ bps: 18_250, problem: null });
    expect(parseRatioAlert('150.01', 15_000)).toEqual({ bps: 15_001, problem: null });
    expect(parseRatioAlert('150', 15_000).problem).toBe(
      'Give a ratio above 150.00 %: under it a vault is already at auction.',
    );
    expect(parseRatioAlert('180.123', 15_000).problem).toMatch(/at most 2 decimals/);
    expect(parseRatioAlert('-180', 15_000).problem).toMatch(/Give a ratio in %/);
    expect(parseRatioAlert('1000.01', 15_000).problem).toBe('Give a ratio of at most 1,000 %.');
  });

  it('tells of a vault once as it goes under, and again only after it was back above', () => {
    const under = new Map<number, boolean>();
    const row = (id: number, ratioBps: number | null, state = 'active') => ({
      id,
      state,
      ratioBps,
    });
    expect(ratioCrossings(under, [row(1, 20_000), row(2, 17_000)], 18_000)).toEqual([
      { vaultId: 2, ratioBps: 17_000 },
    ]);
    // Still under: not again. Vault 1 goes under now.
    expect(ratioCrossings(under, [row(1, 17_900), row(2, 16_500, 'warning')], 18_000)).toEqual([
      { vaultId: 1, ratioBps: 17_900 },
    ]);
    // Back at the alert, then under again: told again.
    expect(ratioCrossings(under, [row(2, 18_000)], 18_000)).toEqual([]);
    expect(ratioCrossings(under, [row(2, 17_999)], 18_000)).toEqual([
      { vaultId: 2, ratioBps: 17_999 },
    ]);
    // No debt, or at auction already: the state alerts tell of those.
    expect(ratioCrossings(under, [row(3, null), row(4, 14_000, 'liquidating')], 18_000)).toEqual(
      [],
    );
    expect(ratioAlert(2, 17_999, 18_000)).toMatchObject({
      tone: 'warn',
      title: 'Vault #2 is under your 180.00 % alert',
      notify: true,
    });
    expect(ratioAlert(2, 17_999, 18_000).body).toContain('179.99 %');
  });
});
