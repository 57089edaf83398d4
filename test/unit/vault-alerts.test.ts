import { describe, expect, it } from 'vitest';
import { vaultAlert } from '../../renderer/src/lib/alerts';
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
