/**
 * The health pass run on every accepted price round (SPEC §8). Each vault's liquidation and
 * warning prices are stored and indexed with its state, so the vaults that cross 150 % or 160 %
 * at price P are found by three range queries — the pass costs what changes, not the vault count.
 *
 *   active|warning with liquidation_price > P   → liquidating
 *   active with warning_price > P (not above)    → warning
 *   warning with warning_price <= P              → active
 */
import type { VaultParams } from '../config/networks';
import type { Cents, Sats } from '../money';
import type { AuctionsRepo, HealthChanges } from '../store/auctions';
import type { Async } from '../store/ports';
import { RAY } from '../vaults/fee';
import { unbookedFee } from '../vaults/fee-book';
import { collateralRatioBps } from '../vaults/health';

export type { HealthChanges } from '../store/auctions';

/** The index range queries of one pass (the repository prepares them once per database). */
export class HealthQueries {
  constructor(
    private readonly repo: Pick<Async<AuctionsRepo>, 'healthCandidatesAt' | 'vaultHealth'>,
  ) {}

  /** Vaults whose band changes at index price `p` (cents per BTC, at fee rate 1.0). */
  changesAt(p: Cents): Promise<HealthChanges> {
    return this.repo.healthCandidatesAt(p);
  }

  /**
   * The changes at price `price` when the fee accumulator is at `rate`: the index is asked at
   * ⌊price / rate⌋, and its keys carry a cent's margin (core/vaults/health.ts), so its answer to
   * "under 150 %" and "under 160 %" holds every vault that is — and may hold one within a cent
   * of debt that is not. Those are checked against the debt now (booked and accrued), so a vault
   * exactly at 150 % stays Warning. A recovery is only ever reported when it is certain.
   */
  async exactChangesAt(price: Cents, rate: bigint, params: VaultParams): Promise<HealthChanges> {
    const raw = await this.changesAt(Number((BigInt(price) * RAY) / rate) as Cents);
    const ratioNow = async (id: number) => {
      const v = await this.repo.vaultHealth(id);
      const debt = v.debt_cents + unbookedFee(v, rate);
      return {
        state: v.state,
        ratio: collateralRatioBps(v.collateral_sats as Sats, debt as Cents, price),
      };
    };
    const out: HealthChanges = { toLiquidating: [], toWarning: [], toActive: raw.toActive };
    for (const id of raw.toLiquidating) {
      const { state, ratio } = await ratioNow(id);
      if (ratio === null) continue;
      if (ratio < params.liquidationRatioBps) out.toLiquidating.push(id);
      else if (ratio < params.warningRatioBps && state === 'active') out.toWarning.push(id);
    }
    for (const id of raw.toWarning) {
      const { ratio } = await ratioNow(id);
      if (ratio !== null && ratio < params.warningRatioBps) out.toWarning.push(id);
    }
    return out;
  }
}

/**
 * The naive pass for comparison in benchmarks: load every vault with debt and compute its ratio.
 * Returns the same changes as `HealthQueries.changesAt`.
 */
export async function naiveChangesAt(
  repo: Pick<Async<AuctionsRepo>, 'everyVaultBand'>,
  p: Cents,
  liquidationBps: number,
  warningBps: number,
): Promise<HealthChanges> {
  const out: HealthChanges = { toLiquidating: [], toWarning: [], toActive: [] };
  const rows = await repo.everyVaultBand();
  for (const [id, state, collateral, debt] of rows) {
    if (debt === 0 || (state !== 'active' && state !== 'warning')) continue;
    const ratio = Number(
      (BigInt(collateral) * BigInt(p) * 10_000n) / (BigInt(debt) * 100_000_000n),
    );
    if (ratio < liquidationBps) out.toLiquidating.push(id);
    else if (ratio < warningBps && state === 'active') out.toWarning.push(id);
    else if (ratio >= warningBps && state === 'warning') out.toActive.push(id);
  }
  return out;
}
