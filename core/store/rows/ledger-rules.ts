/**
 * The ledger's rules, the same for every engine: what a posting may be, which balances may not go
 * below zero, what a transfer posts, when surplus nets against deficit, and what the invariant
 * says of the totals. The adapters (sqlite/ledger.ts, pg/ledger.ts) only read and write rows.
 */
import { BitStableError } from '../../errors';
import { holderAccount } from '../../ledger/bsusd';
import type { EntryKind, LedgerTotals } from '../ledger';

type Postings = [account: string, amountCents: number][];

/** Throws unless the postings balance to zero with whole, non-zero amounts. */
export function checkBalanced(kind: EntryKind, postings: Postings): void {
  const sum = postings.reduce((s, [, a]) => s + a, 0);
  if (sum !== 0 || postings.some(([, a]) => !Number.isSafeInteger(a) || a === 0)) {
    throw new BitStableError(
      'INTERNAL',
      'A ledger entry must balance to zero with whole, non-zero postings.',
      { kind },
    );
  }
}

/** Whether a posting draws on a balance that may not go below zero (a holder's, a pool share). */
export function drawsOnBalance(account: string, amount: number): boolean {
  return amount < 0 && (account.startsWith('holder:') || account.startsWith('pool:'));
}

/** INSUFFICIENT_BALANCE when `amount` (negative) would take `have` below zero. */
export function checkCovered(account: string, amount: number, have: number): void {
  if (have + amount >= 0) return;
  throw new BitStableError(
    'INSUFFICIENT_BALANCE',
    account.startsWith('pool:')
      ? `That needs ${-amount} cents of bsUSD from the stability pool but ${account.slice(5)} has ${have} there.`
      : `That needs ${-amount} cents of bsUSD but ${account.slice(7)} holds ${have}.`,
    { account, balanceCents: have, neededCents: -amount },
  );
}

/** Throws for a posting to an account that does not exist (`changed`: rows the update touched). */
export function checkAccountUpdated(account: string, changed: number): void {
  if (changed !== 1)
    throw new BitStableError('INTERNAL', `Ledger account ${account} does not exist.`, { account });
}

/** Whether an entry of `kind` touching these accounts is followed by surplus netting deficit. */
export function needsNetting(kind: EntryKind, postings: Postings): boolean {
  return kind !== 'netting' && postings.some(([a]) => a === 'surplus' || a === 'deficit');
}

/** The netting entry's postings: min(surplus, bad debt) from surplus to deficit, or none. */
export function nettingPostings(surplus: number, deficitBalance: number): Postings | null {
  const n = Math.min(surplus, -deficitBalance);
  return n > 0
    ? [
        ['surplus', -n],
        ['deficit', n],
      ]
    : null;
}

/** A transfer's postings, after its checks (a whole positive amount, to someone else). */
export function transferPostings(from: string, to: string, amountCents: number): Postings {
  if (!Number.isSafeInteger(amountCents) || amountCents <= 0) {
    throw new BitStableError('INVALID_AMOUNT', 'Send a whole number of cents above 0.', {
      amountCents,
    });
  }
  if (from === to)
    throw new BitStableError('INVALID_ARGUMENT', 'That is your own account: nothing to send.', {});
  return [
    [holderAccount(from), -amountCents],
    [holderAccount(to), amountCents],
  ];
}

/** The totals from the balance sums per account kind. */
export function totalsOf(
  sum: Record<'holder' | 'pool' | 'surplus' | 'vault' | 'deficit', number>,
): LedgerTotals {
  return {
    // bsUSD in the stability pool is still its depositors' bsUSD.
    holdersCents: sum.holder + sum.pool,
    surplusCents: sum.surplus,
    // `0 - x`, not `-x`: a zero balance must read 0, not -0.
    vaultDebtsCents: 0 - sum.vault,
    deficitCents: 0 - sum.deficit,
  };
}

/** The invariant's findings as sentences (none: it holds). */
export function invariantProblems(found: {
  unbalanced: number[];
  drift: string[];
  mismatched: number[];
  unbacked: number[];
  totals: LedgerTotals;
}): string[] {
  const { unbalanced, drift, mismatched, unbacked, totals } = found;
  const problems: string[] = [];
  if (unbalanced.length) problems.push(`entries that do not balance: ${unbalanced.join(', ')}`);
  if (drift.length) problems.push(`balances that differ from their postings: ${drift.join(', ')}`);
  if (mismatched.length)
    problems.push(`vaults whose debt differs from the ledger: ${mismatched.join(', ')}`);
  // SPEC §5: no debt may stand on a vault that holds no collateral.
  if (unbacked.length) problems.push(`debt on vaults without collateral: ${unbacked.join(', ')}`);
  if (totals.surplusCents > 0 && totals.deficitCents > 0)
    problems.push('surplus and deficit both stand: surplus must cover deficit first');
  if (totals.holdersCents + totals.surplusCents !== totals.vaultDebtsCents + totals.deficitCents)
    problems.push('holders + surplus differs from vault debts + deficit');
  return problems;
}
