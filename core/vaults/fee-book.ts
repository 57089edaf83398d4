/**
 * The stability fee's books (SPEC §8.5): the accumulator per network in `fee_rates`, each
 * vault's normalized debt in `vaults.debt_art`, and the `stability_fee` ledger entries that book
 * what accrued (the arithmetic is core/vaults/fee.ts). Call the writing functions inside the
 * transaction of the change they belong to.
 *
 * Booking is lazy, as in Maker (`drip` on touch): a vault's accrued fee is booked when the vault
 * is touched — a mint, a repay, a withdrawal's review, the start of its auction — and by
 * `sweepFees`, which the node runs on a timer and books every vault at once in one entry. The
 * ledger is balanced at every moment with what is booked; what accrued since is shown beside it.
 * A vault being liquidated accrues nothing (its tab is fixed when the auction starts).
 */
import type { NetworkName } from '../config/networks';
import type { Sqlite } from '../db/database';
import { BitStableError } from '../errors';
import { journal } from '../events/journal';
import { post, vaultAccount } from '../ledger/bsusd';
import type { Cents } from '../money';
import { RAY, artOf, debtOf, grow } from './fee';

interface RateRow {
  rate: string;
  annual_bps: number;
  dripped_at: number;
}

export interface FeeRate {
  /** The accumulator now (a ray). */
  rate: bigint;
  annualBps: number;
}

function rateRow(db: Sqlite, network: NetworkName): RateRow | undefined {
  return db
    .prepare('SELECT rate, annual_bps, dripped_at FROM fee_rates WHERE network = ?')
    .get(network) as RateRow | undefined;
}

/** Whole seconds from the last drip to `ts` (never negative: a clock that steps back waits). */
const secondsSince = (row: RateRow, ts: number) =>
  Math.max(0, Math.floor((ts - row.dripped_at) / 1000));

/** The accumulator at `ts`, computed, not written (1.0 before the network's first drip). */
export function rateAt(db: Sqlite, network: NetworkName, ts: number): FeeRate {
  const row = rateRow(db, network);
  if (!row) return { rate: RAY, annualBps: 0 };
  return {
    rate: grow(BigInt(row.rate), row.annual_bps, secondsSince(row, ts)),
    annualBps: row.annual_bps,
  };
}

/** Brings the accumulator up to `ts` and stores it; returns it. */
export function drip(db: Sqlite, network: NetworkName, ts: number): FeeRate {
  const row = rateRow(db, network);
  if (!row) {
    db.prepare(
      'INSERT INTO fee_rates (network, rate, annual_bps, dripped_at) VALUES (?, ?, 0, ?)',
    ).run(network, RAY.toString(), ts);
    return { rate: RAY, annualBps: 0 };
  }
  const seconds = secondsSince(row, ts);
  if (seconds === 0) return { rate: BigInt(row.rate), annualBps: row.annual_bps };
  const rate = grow(BigInt(row.rate), row.annual_bps, seconds);
  // The part of a second not yet dripped stays: drips a second apart lose nothing.
  db.prepare('UPDATE fee_rates SET rate = ?, dripped_at = ? WHERE network = ?').run(
    rate.toString(),
    row.dripped_at + seconds * 1000,
    network,
  );
  return { rate, annualBps: row.annual_bps };
}

/**
 * Sets the annual rate from `ts` on: what accrued before is at the old rate (drip first). Every
 * vault's accrued fee is booked first, so no vault is charged the new rate for time past.
 */
export function setAnnualRate(
  db: Sqlite,
  network: NetworkName,
  annualBps: number,
  ts: number,
): void {
  if (!Number.isSafeInteger(annualBps) || annualBps < 0 || annualBps > 10_000) {
    throw new BitStableError(
      'INVALID_CONFIG',
      'The stability fee is a whole number of basis points a year, from 0 to 10,000 (100 %).',
      { stabilityFeeBps: annualBps },
    );
  }
  drip(db, network, ts);
  db.prepare('UPDATE fee_rates SET annual_bps = ? WHERE network = ?').run(annualBps, network);
}

interface VaultFeeRow {
  id: number;
  network: NetworkName;
  state: string;
  debt_cents: number;
  debt_art: number;
}

const accrues = (v: VaultFeeRow) => v.debt_art > 0 && v.state !== 'liquidating';

/** The fee a vault has accrued and not booked at `rate`: ⌈art · rate⌉ − booked debt, ≥ 0. */
export function unbookedFee(v: { debt_art: number; debt_cents: number }, rate: bigint): Cents {
  return Math.max(0, debtOf(BigInt(v.debt_art), rate) - v.debt_cents) as Cents;
}

/**
 * Books the vault's accrued fee (one `stability_fee` entry, from its debt to surplus) and
 * returns its debt as booked now. A vault being liquidated, or without debt, books nothing.
 */
export function accrueVault(db: Sqlite, vaultId: number, ts: number): Cents {
  const v = db
    .prepare('SELECT id, network, state, debt_cents, debt_art FROM vaults WHERE id = ?')
    .get(vaultId) as VaultFeeRow | undefined;
  if (!v) return 0 as Cents;
  if (!accrues(v)) return v.debt_cents as Cents;
  const { rate } = drip(db, v.network, ts);
  const fee = unbookedFee(v, rate);
  if (fee === 0) return v.debt_cents as Cents;
  post(
    db,
    'stability_fee',
    v.id,
    [
      [vaultAccount(v.id), -fee],
      ['surplus', fee],
    ],
    undefined,
    ts,
  );
  db.prepare(
    'UPDATE vaults SET debt_cents = debt_cents + ?, fees_cents = fees_cents + ? WHERE id = ?',
  ).run(fee, fee, v.id);
  return (v.debt_cents + fee) as Cents;
}

/**
 * Books every vault's accrued fee in one `stability_fee` entry (a posting per vault, one to
 * surplus). Vaults whose coins a spend holds are left to their next touch: their debt is what
 * the spend was reviewed against. Returns how many vaults and cents it booked.
 */
export function sweepFees(
  db: Sqlite,
  network: NetworkName,
  ts: number,
): { vaults: number; cents: number } {
  const { rate } = drip(db, network, ts);
  const rows = db
    .prepare(
      `SELECT id, network, state, debt_cents, debt_art FROM vaults
        WHERE network = ? AND debt_art > 0 AND state IN ('active', 'warning')
          AND id NOT IN (SELECT vault_id FROM spends
                          WHERE state IN ('draft', 'signing', 'awaiting-guardian', 'signed'))`,
    )
    .all(network) as VaultFeeRow[];
  const postings: [string, number][] = [];
  const update = db.prepare(
    'UPDATE vaults SET debt_cents = debt_cents + ?, fees_cents = fees_cents + ? WHERE id = ?',
  );
  let total = 0;
  for (const v of rows) {
    const fee = unbookedFee(v, rate);
    if (fee === 0) continue;
    postings.push([vaultAccount(v.id), -fee]);
    update.run(fee, fee, v.id);
    total += fee;
  }
  if (total === 0) return { vaults: 0, cents: 0 };
  postings.push(['surplus', total]);
  post(db, 'stability_fee', null, postings, `fee sweep: ${postings.length - 1} vaults`, ts);
  journal(db, 'fees.swept', null, { vaults: postings.length - 1, cents: total }, ts);
  return { vaults: postings.length - 1, cents: total };
}

/**
 * The normalized debt after a mint or repay of `deltaCents` at `rate` (the vault's fee booked
 * first): ⌊Δ / rate⌋ either way, so the booked debt is exactly what it was ± Δ; all of the debt
 * repaid is art 0. A repay is credited at most what it paid. A mint's art is short of Δ / rate
 * by under 10^-6 cent: rounding it up instead would make ⌈art · rate⌉ a whole cent more than the
 * mint whenever art · rate was a whole number of cents before (every first mint), charging a
 * cent at the next touch — the cent rounding (⌈·⌉, the system's) must stay the only one that
 * counts.
 */
export function artAfter(art: number, deltaCents: number, newDebt: Cents, rate: bigint): number {
  if (newDebt === 0) return 0;
  const change = artOf(Math.abs(deltaCents), rate, 'repay');
  const next = deltaCents >= 0 ? BigInt(art) + change : BigInt(art) - change;
  return Number(next < 0n ? 0n : next);
}

/** The normalized debt of a debt set outright at `rate` (a take, a cure): ⌊debt / rate⌋. */
export function artFor(debt: Cents, rate: bigint): number {
  return debt === 0 ? 0 : Number(artOf(debt, rate, 'repay'));
}

/** The vault's debt now, booked and accrued, without writing anything. */
export function debtNow(
  db: Sqlite,
  v: { network: NetworkName; state: string; debtCents: number; debtArt: number },
  ts: number,
): Cents {
  if (v.debtArt === 0 || v.state === 'liquidating') return v.debtCents as Cents;
  const { rate } = rateAt(db, v.network, ts);
  return (v.debtCents +
    unbookedFee({ debt_art: v.debtArt, debt_cents: v.debtCents }, rate)) as Cents;
}

/** The fee for the books: the rate now and all the fee booked so far (one aggregate query). */
export function feeTotals(
  db: Sqlite,
  network: NetworkName,
  ts: number,
): { rate: bigint; annualBps: number; bookedCents: number } {
  const { rate, annualBps } = rateAt(db, network, ts);
  const booked = db
    .prepare('SELECT COALESCE(SUM(fees_cents), 0) FROM vaults WHERE network = ?')
    .pluck()
    .get(network) as number;
  return { rate, annualBps, bookedCents: booked };
}
