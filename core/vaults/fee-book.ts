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
import { BitStableError } from '../errors';
import { vaultAccount } from '../ledger/bsusd';
import type { Cents } from '../money';
import type { Store } from '../store/ports';
import type { FeeRateRow as RateRow, VaultFeeRow } from '../store/vaults';
import { RAY, artOf, debtOf, grow } from './fee';

export interface FeeRate {
  /** The accumulator now (a ray). */
  rate: bigint;
  annualBps: number;
}

/** Whole seconds from the last drip to `ts` (never negative: a clock that steps back waits). */
const secondsSince = (row: RateRow, ts: number) =>
  Math.max(0, Math.floor((ts - row.dripped_at) / 1000));

/** The accumulator at `ts`, computed, not written (1.0 before the network's first drip). */
export async function rateAt(store: Store, network: NetworkName, ts: number): Promise<FeeRate> {
  const row = await store.vaults.feeRate(network);
  if (!row) return { rate: RAY, annualBps: 0 };
  return {
    rate: grow(BigInt(row.rate), row.annual_bps, secondsSince(row, ts)),
    annualBps: row.annual_bps,
  };
}

/** Brings the accumulator up to `ts` and stores it; returns it. */
export async function drip(store: Store, network: NetworkName, ts: number): Promise<FeeRate> {
  const row = await store.vaults.feeRate(network);
  if (!row) {
    await store.vaults.startFeeRate(network, RAY.toString(), ts);
    return { rate: RAY, annualBps: 0 };
  }
  const seconds = secondsSince(row, ts);
  if (seconds === 0) return { rate: BigInt(row.rate), annualBps: row.annual_bps };
  const rate = grow(BigInt(row.rate), row.annual_bps, seconds);
  // The part of a second not yet dripped stays: drips a second apart lose nothing.
  await store.vaults.setFeeRate(network, rate.toString(), row.dripped_at + seconds * 1000);
  return { rate, annualBps: row.annual_bps };
}

/**
 * Sets the annual rate from `ts` on: what accrued before is at the old rate (drip first). Every
 * vault's accrued fee is booked first, so no vault is charged the new rate for time past.
 */
export async function setAnnualRate(
  store: Store,
  network: NetworkName,
  annualBps: number,
  ts: number,
): Promise<void> {
  if (!Number.isSafeInteger(annualBps) || annualBps < 0 || annualBps > 10_000) {
    throw new BitStableError(
      'INVALID_CONFIG',
      'The stability fee is a whole number of basis points a year, from 0 to 10,000 (100 %).',
      { stabilityFeeBps: annualBps },
    );
  }
  await drip(store, network, ts);
  await store.vaults.setAnnualBps(network, annualBps);
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
export async function accrueVault(store: Store, vaultId: number, ts: number): Promise<Cents> {
  const v = await store.vaults.feeRow(vaultId);
  if (!v) return 0 as Cents;
  if (!accrues(v)) return v.debt_cents as Cents;
  const { rate } = await drip(store, v.network, ts);
  const fee = unbookedFee(v, rate);
  if (fee === 0) return v.debt_cents as Cents;
  await store.ledger.post(
    'stability_fee',
    v.id,
    [
      [vaultAccount(v.id), -fee],
      ['surplus', fee],
    ],
    undefined,
    ts,
  );
  await store.vaults.bookFee(v.id, fee);
  return (v.debt_cents + fee) as Cents;
}

/**
 * Books every vault's accrued fee in one `stability_fee` entry (a posting per vault, one to
 * surplus). Vaults whose coins a spend holds are left to their next touch: their debt is what
 * the spend was reviewed against. Returns how many vaults and cents it booked.
 */
export async function sweepFees(
  store: Store,
  network: NetworkName,
  ts: number,
): Promise<{ vaults: number; cents: number }> {
  const { rate } = await drip(store, network, ts);
  const rows = await store.vaults.sweepable(network);
  const postings: [string, number][] = [];
  let total = 0;
  for (const v of rows) {
    const fee = unbookedFee(v, rate);
    if (fee === 0) continue;
    postings.push([vaultAccount(v.id), -fee]);
    await store.vaults.bookFee(v.id, fee);
    total += fee;
  }
  if (total === 0) return { vaults: 0, cents: 0 };
  postings.push(['surplus', total]);
  await store.ledger.post(
    'stability_fee',
    null,
    postings,
    `fee sweep: ${postings.length - 1} vaults`,
    ts,
  );
  await store.ops.journal('fees.swept', null, { vaults: postings.length - 1, cents: total }, ts);
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

type DebtOf = { network: NetworkName; state: string; debtCents: number; debtArt: number };

/** The vault's debt now, booked and accrued, without writing anything. */
export async function debtNow(store: Store, v: DebtOf, ts: number): Promise<Cents> {
  if (v.debtArt === 0 || v.state === 'liquidating') return v.debtCents as Cents;
  const { rate } = await rateAt(store, v.network, ts);
  return debtAtRate(v, rate);
}

/** `debtNow` at a rate already read: for many vaults of one network at one moment. */
export function debtAtRate(v: Omit<DebtOf, 'network'>, rate: bigint): Cents {
  if (v.debtArt === 0 || v.state === 'liquidating') return v.debtCents as Cents;
  return (v.debtCents +
    unbookedFee({ debt_art: v.debtArt, debt_cents: v.debtCents }, rate)) as Cents;
}

type FeeTotals = { rate: bigint; annualBps: number; bookedCents: number };

/** The fee for the books: the rate now and all the fee booked so far (one aggregate query). */
export async function feeTotals(
  store: Store,
  network: NetworkName,
  ts: number,
): Promise<FeeTotals> {
  const { rate, annualBps } = await rateAt(store, network, ts);
  const booked = await store.vaults.bookedFees(network);
  return { rate, annualBps, bookedCents: booked };
}
