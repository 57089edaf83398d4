/**
 * The protocol's books at a glance (SPEC §8.5): the stability fee, surplus and deficit with the
 * entries that moved them, the debt ceilings and the system's total collateral ratio.
 */
import type { NetworkName, VaultParams } from '../config/networks';
import type { Cents } from '../money';
import { systemRatioBps, systemTotals } from '../vaults/ceilings';
import { RAY } from '../vaults/fee';
import { feeTotals } from '../vaults/fee-book';
import type { Store } from '../store/ports';

export type { BooksEntry } from '../store/ledger';

/** A ray as a decimal with 27 places ("1.020000000000000000000000000"). */
export function rayToString(ray: bigint): string {
  const whole = ray / RAY;
  const frac = (ray % RAY).toString().padStart(27, '0');
  return `${whole}.${frac}`;
}

/** The books now; the system ratio at `priceCents` (null without a price). */
export async function books(
  store: Store,
  network: NetworkName,
  params: VaultParams,
  ts: number,
  priceCents: Cents | null,
  limit: number,
) {
  const { ledger } = store;
  const fees = await feeTotals(store, network, ts);
  const totals = await systemTotals(store, network, ts);
  return {
    stabilityFeeBps: fees.annualBps,
    rate: rayToString(fees.rate),
    surplusCents: (await ledger.balance('surplus')) as Cents,
    deficitCents: (0 - (await ledger.balance('deficit'))) as Cents,
    feesBookedCents: fees.bookedCents as Cents,
    // From the same aggregate as the total debt: no pass over every vault per call.
    feesAccruedCents: totals.accruedCents,
    totalDebtCents: totals.debtCents,
    totalCollateralSats: totals.collateralSats,
    systemRatioBps: priceCents === null ? null : systemRatioBps(totals, priceCents),
    systemRatioFloorBps: params.systemRatioFloorBps,
    debtCeilingCents: params.debtCeilingCents,
    vaultDebtCeilingCents: params.vaultDebtCeilingCents,
    debtRoomCents: Math.max(0, params.debtCeilingCents - totals.debtCents) as Cents,
    history: await ledger.booksHistory(limit),
  };
}
