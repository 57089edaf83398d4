/**
 * Debt ceilings and the system's total collateral ratio (SPEC §8.5; issue "The peg and the
 * price" item 2). A mint is refused when it would take its vault past the per-vault ceiling, all
 * vaults together past the global one, or the system's ratio — all collateral of vaults with
 * debt against all debt — under its floor.
 *
 * The totals are two aggregate queries over the vaults (the debt now is the booked debt plus
 * what accrued since, from the sum of normalized debts: it may read a few cents under the sum of
 * each vault's rounded-up debt, which no ceiling of millions notices).
 */
import type { NetworkName, VaultParams } from '../config/networks';
import { BitStableError } from '../errors';
import { centsToString, type Cents, type Sats } from '../money';
import type { Store } from '../store/ports';
import { ART_PER_CENT, RAY } from './fee';
import { rateAt } from './fee-book';
import { collateralRatioBps } from './health';

export interface SystemTotals {
  /** All vaults' debt now: booked, and accrued since. */
  debtCents: Cents;
  /** Of which the stability fee accrued and not yet booked. */
  accruedCents: Cents;
  /** Collateral of the vaults that have debt (what backs bsUSD). */
  collateralSats: Sats;
}

/** The system's debt and backing collateral at `ts`. */
export async function systemTotals(
  store: Store,
  network: NetworkName,
  ts: number,
): Promise<SystemTotals> {
  const row = await store.vaults.debtSums(network);
  const { rate } = await rateAt(store, network, ts);
  const den = RAY * ART_PER_CENT;
  const accrued = (row.accruing_art * rate + den - 1n) / den - row.accruing_booked;
  const unbooked = accrued > 0n ? accrued : 0n;
  return {
    debtCents: Number(row.booked + unbooked) as Cents,
    accruedCents: Number(unbooked) as Cents,
    collateralSats: Number(row.collateral) as Sats,
  };
}

/** The system's total collateral ratio at `price`, or null with no debt. */
export function systemRatioBps(totals: SystemTotals, price: Cents): number | null {
  return collateralRatioBps(totals.collateralSats, totals.debtCents, price);
}

/**
 * Refuses a mint of `amount` that takes the vault to `newDebt`: DEBT_CEILING (the vault's or the
 * system's) or SYSTEM_RATIO_TOO_LOW, each with the numbers and how much could be minted.
 */
export async function requireWithinCeilings(
  store: Store,
  network: NetworkName,
  params: VaultParams,
  m: {
    vault: { id: number; collateralSats: Sats; debtCents: Cents };
    newDebt: Cents;
    amount: Cents;
    price: Cents;
    ts: number;
  },
): Promise<void> {
  if (m.newDebt > params.vaultDebtCeilingCents) {
    const room = Math.max(0, params.vaultDebtCeilingCents - m.vault.debtCents) as Cents;
    throw new BitStableError(
      'DEBT_CEILING',
      `One vault may owe at most ${centsToString(params.vaultDebtCeilingCents)} bsUSD; vault #${m.vault.id} can mint ${centsToString(room)} more.`,
      { scope: 'vault', ceilingCents: params.vaultDebtCeilingCents, roomCents: room },
    );
  }
  const totals = await systemTotals(store, network, m.ts);
  const after = totals.debtCents + m.amount;
  if (after > params.debtCeilingCents) {
    const room = Math.max(0, params.debtCeilingCents - totals.debtCents) as Cents;
    throw new BitStableError(
      'DEBT_CEILING',
      `All vaults together may owe at most ${centsToString(params.debtCeilingCents)} bsUSD; ${centsToString(room)} more can be minted now.`,
      { scope: 'system', ceilingCents: params.debtCeilingCents, roomCents: room },
    );
  }
  // The vault's collateral joins the backing when it first takes on debt.
  const collateral = (totals.collateralSats +
    (m.vault.debtCents === 0 ? m.vault.collateralSats : 0)) as Sats;
  const ratio = collateralRatioBps(collateral, after as Cents, m.price)!;
  if (ratio < params.systemRatioFloorBps) {
    throw new BitStableError(
      'SYSTEM_RATIO_TOO_LOW',
      `Minting that would take the system's total collateral ratio to ${(ratio / 100).toFixed(2)} %, under its floor of ${params.systemRatioFloorBps / 100} %; repay or add collateral somewhere first, or mint less.`,
      { systemRatioBps: ratio, floorBps: params.systemRatioFloorBps },
    );
  }
}
