/**
 * The protocol's books at a glance (SPEC §8.5): the stability fee, surplus and deficit with the
 * entries that moved them, the debt ceilings and the system's total collateral ratio.
 */
import type { NetworkName, VaultParams } from '../config/networks';
import type { Sqlite } from '../db/database';
import type { Cents } from '../money';
import { systemRatioBps, systemTotals } from '../vaults/ceilings';
import { RAY } from '../vaults/fee';
import { feeTotals } from '../vaults/fee-book';
import { balance, type EntryKind } from './bsusd';

export interface BooksEntry {
  entryId: number;
  ts: number;
  kind: EntryKind;
  surplusChangeCents: number;
  deficitChangeCents: number;
  vaultId: number | null;
  memo: string | null;
}

/** A ray as a decimal with 27 places ("1.020000000000000000000000000"). */
export function rayToString(ray: bigint): string {
  const whole = ray / RAY;
  const frac = (ray % RAY).toString().padStart(27, '0');
  return `${whole}.${frac}`;
}

/** Entries that moved surplus or deficit, newest first. */
export function booksHistory(db: Sqlite, limit: number): BooksEntry[] {
  const rows = db
    .prepare(
      `SELECT e.id, e.ts, e.kind, e.vault_id, e.memo,
              COALESCE(SUM(CASE WHEN p.account_id = 'surplus' THEN p.amount_cents END), 0) AS surplus,
              COALESCE(SUM(CASE WHEN p.account_id = 'deficit' THEN -p.amount_cents END), 0) AS deficit
         FROM ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id
        WHERE p.account_id IN ('surplus', 'deficit')
        GROUP BY e.id ORDER BY e.id DESC LIMIT ?`,
    )
    .all(limit) as {
    id: number;
    ts: number;
    kind: EntryKind;
    vault_id: number | null;
    memo: string | null;
    surplus: number;
    deficit: number;
  }[];
  return rows.map((r) => ({
    entryId: r.id,
    ts: r.ts,
    kind: r.kind,
    surplusChangeCents: r.surplus,
    deficitChangeCents: r.deficit,
    vaultId: r.vault_id,
    memo: r.memo,
  }));
}

/** The books now; the system ratio at `priceCents` (null without a price). */
export function books(
  db: Sqlite,
  network: NetworkName,
  params: VaultParams,
  ts: number,
  priceCents: Cents | null,
  limit: number,
) {
  const fees = feeTotals(db, network, ts);
  const totals = systemTotals(db, network, ts);
  return {
    stabilityFeeBps: fees.annualBps,
    rate: rayToString(fees.rate),
    surplusCents: balance(db, 'surplus') as Cents,
    deficitCents: (0 - balance(db, 'deficit')) as Cents,
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
    history: booksHistory(db, limit),
  };
}
