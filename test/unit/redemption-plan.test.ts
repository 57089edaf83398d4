/**
 * Redemption ordering and amounts (core/redemptions/plan.ts) against hand-computed vectors
 * (test/fixtures/redemptions/vectors.json: each says why), and the candidate order read from
 * the health pass's index on a real SQLite database — lowest ratio first, by index, not a scan.
 */
import { describe, expect, it } from 'vitest';
import vectors from '../fixtures/redemptions/vectors.json';
import { openDatabase } from '../../core/db/database';
import { CANDIDATES_SQL } from '../../core/store/sqlite/redemptions';
import { netOf, planRedemption, redemptionFee } from '../../core/redemptions/plan';
import type { Bps, Cents, Sats } from '../../core/money';

describe('redemption plans, against hand-computed vectors', () => {
  for (const v of vectors.vectors) {
    it(v.name, async () => {
      const plan = await planRedemption(
        v.candidates.map(([vaultId, collateralSats, debtCents]) => ({
          vaultId: vaultId!,
          collateralSats: collateralSats as Sats,
          debtCents: debtCents as Cents,
        })),
        v.offered,
        v.price as Cents,
        {
          feeBps: v.rules.feeBps as Bps,
          debtFloorCents: v.rules.debtFloorCents as Cents,
          liquidationRatioBps: v.rules.liquidationRatioBps as Bps,
          minSats: v.rules.minSats as Sats,
          maxVaults: v.rules.maxVaults,
        },
      );
      expect(plan.slices.map((s) => [s.vaultId, s.debtCents, s.sats])).toEqual(v.slices);
      expect(plan).toMatchObject({
        redeemedCents: v.redeemed,
        feeCents: v.fee,
        paidCents: v.paid,
        sats: v.sats,
      });
      expect(plan.paidCents).toBeLessThanOrEqual(v.offered);
    });
  }

  it('what is offered always covers what is redeemed and its fee, rounded up, and no more is taken', () => {
    for (const bps of [0, 1, 50, 99, 500]) {
      for (let offered = 1; offered < 3_000; offered += 7) {
        const net = netOf(offered, bps);
        expect(net + redemptionFee(net, bps)).toBeLessThanOrEqual(offered);
        expect(net + 1 + redemptionFee(net + 1, bps)).toBeGreaterThan(offered);
      }
    }
  });
});

describe('the candidates come from the index, lowest ratio first', () => {
  it('the query plan searches the (state, liquidation price) index; no table scan', () => {
    const db = openDatabase(':memory:');
    const plan = db
      .prepare(`EXPLAIN QUERY PLAN ${CANDIDATES_SQL}`)
      .all('active', 'regtest', 1, 1, 0) as { detail: string }[];
    const text = plan.map((p) => p.detail).join(' | ');
    expect(text).toMatch(/USING INDEX vaults_by_state_liquidation/);
    expect(text).not.toMatch(/SCAN vaults(?! USING)/);
  });
});
