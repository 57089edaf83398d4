/**
 * The bsUSD double-entry ledger (SPEC §5). Each mint, repay, transfer, auction payment and penalty
 * is one balanced entry: its postings sum to zero. Call `post` inside the transaction of the state
 * change it belongs to.
 *
 * Accounts: `holder:<name>` (bsUSD held, ≥ 0), `vault:<id>` (minus the vault's debt, ≤ 0),
 * `surplus` (the protocol's bsUSD from penalties and stability fees), `deficit` (minus bad debt).
 *
 * Surplus covers deficit first (SPEC §8.5): an entry that leaves both standing is followed, in
 * the same transaction, by a `netting` entry that moves the smaller of the two from surplus to
 * deficit, so at most one of them is ever non-zero.
 */
import type { Sqlite } from '../db/database';
import { BitStableError } from '../errors';

export type EntryKind =
  | 'mint'
  | 'repay'
  | 'transfer'
  | 'auction_payment'
  | 'penalty'
  | 'bad_debt'
  | 'stability_fee'
  | 'netting'
  | 'redemption'
  | 'pool_deposit'
  | 'pool_withdraw'
  | 'pool_take';

/** The account id of a bsUSD holder. */
export const holderAccount = (name: string) => `holder:${name}`;
/** The account id of a vault's debt. */
export const vaultAccount = (vaultId: number) => `vault:${vaultId}`;

/** Creates a holder account if it does not exist. */
export function ensureHolder(db: Sqlite, name: string): string {
  const id = holderAccount(name);
  db.prepare("INSERT OR IGNORE INTO ledger_accounts (id, kind) VALUES (?, 'holder')").run(id);
  return id;
}

/** An account's balance in cents (0 for an account that does not exist). */
export function balance(db: Sqlite, account: string): number {
  return (
    (db.prepare('SELECT balance_cents FROM ledger_accounts WHERE id = ?').pluck().get(account) as
      number | undefined) ?? 0
  );
}

/**
 * Writes one balanced entry and updates the balances. Throws (and, inside the caller's
 * transaction, changes nothing) if the postings do not sum to zero or a holder would go negative.
 */
export function post(
  db: Sqlite,
  kind: EntryKind,
  vaultId: number | null,
  postings: [account: string, amountCents: number][],
  memo?: string,
  ts = Date.now(),
): number {
  const sum = postings.reduce((s, [, a]) => s + a, 0);
  if (sum !== 0 || postings.some(([, a]) => !Number.isSafeInteger(a) || a === 0)) {
    throw new BitStableError(
      'INTERNAL',
      'A ledger entry must balance to zero with whole, non-zero postings.',
      { kind },
    );
  }
  for (const [account, amount] of postings) {
    const pool = account.startsWith('pool:');
    if ((!account.startsWith('holder:') && !pool) || amount >= 0) continue;
    const have = balance(db, account);
    if (have + amount < 0) {
      throw new BitStableError(
        'INSUFFICIENT_BALANCE',
        pool
          ? `That needs ${-amount} cents of bsUSD from the stability pool but ${account.slice(5)} has ${have} there.`
          : `That needs ${-amount} cents of bsUSD but ${account.slice(7)} holds ${have}.`,
        { account, balanceCents: have, neededCents: -amount },
      );
    }
  }
  const entryId = Number(
    db
      .prepare('INSERT INTO ledger_entries (ts, kind, vault_id, memo) VALUES (?, ?, ?, ?)')
      .run(ts, kind, vaultId, memo ?? null).lastInsertRowid,
  );
  const insert = db.prepare(
    'INSERT INTO ledger_postings (entry_id, account_id, amount_cents) VALUES (?, ?, ?)',
  );
  const update = db.prepare(
    'UPDATE ledger_accounts SET balance_cents = balance_cents + ? WHERE id = ?',
  );
  for (const [account, amount] of postings) {
    insert.run(entryId, account, amount);
    if (update.run(amount, account).changes !== 1) {
      throw new BitStableError('INTERNAL', `Ledger account ${account} does not exist.`, {
        account,
      });
    }
  }
  if (kind !== 'netting' && postings.some(([a]) => a === 'surplus' || a === 'deficit')) {
    netSurplusAgainstDeficit(db, entryId, ts);
  }
  return entryId;
}

/** Moves min(surplus, bad debt) from surplus to cover the deficit, as one `netting` entry. */
function netSurplusAgainstDeficit(db: Sqlite, after: number, ts: number): void {
  const surplus = balance(db, 'surplus');
  const badDebt = -balance(db, 'deficit');
  const n = Math.min(surplus, badDebt);
  if (n <= 0) return;
  post(
    db,
    'netting',
    null,
    [
      ['surplus', -n],
      ['deficit', n],
    ],
    `surplus covers deficit (after entry ${after})`,
    ts,
  );
}

export interface LedgerTotals {
  holdersCents: number;
  surplusCents: number;
  vaultDebtsCents: number;
  deficitCents: number;
}

export interface InvariantReport extends LedgerTotals {
  ok: boolean;
  problems: string[];
}

/**
 * Checks the ledger: every entry balances; every account's balance equals the sum of its postings;
 * every vault's debt equals its ledger account; no debt stands on a vault whose coins are gone;
 * and holders + surplus = vault debts + deficit.
 */
export function checkInvariant(db: Sqlite): InvariantReport {
  const problems: string[] = [];
  const unbalanced = db
    .prepare('SELECT entry_id FROM ledger_postings GROUP BY entry_id HAVING SUM(amount_cents) <> 0')
    .pluck()
    .all() as number[];
  if (unbalanced.length) problems.push(`entries that do not balance: ${unbalanced.join(', ')}`);
  const drift = db
    .prepare(
      `SELECT a.id FROM ledger_accounts a LEFT JOIN ledger_postings p ON p.account_id = a.id
       GROUP BY a.id HAVING a.balance_cents <> COALESCE(SUM(p.amount_cents), 0)`,
    )
    .pluck()
    .all() as string[];
  if (drift.length) problems.push(`balances that differ from their postings: ${drift.join(', ')}`);
  const mismatched = db
    .prepare(
      `SELECT v.id FROM vaults v LEFT JOIN ledger_accounts a ON a.id = 'vault:' || v.id
       WHERE v.debt_cents <> -COALESCE(a.balance_cents, 0)`,
    )
    .pluck()
    .all() as number[];
  if (mismatched.length)
    problems.push(`vaults whose debt differs from the ledger: ${mismatched.join(', ')}`);

  // SPEC §5: no debt may stand on a vault that holds no collateral (a reorg may take a deposit
  // away for a while; a vault whose coins are gone for good is Closed or Liquidated).
  const unbacked = db
    .prepare(
      "SELECT id FROM vaults WHERE debt_cents > 0 AND collateral_sats = 0 AND incoming_sats = 0 AND state IN ('closed', 'liquidated')",
    )
    .pluck()
    .all() as number[];
  if (unbacked.length) problems.push(`debt on vaults without collateral: ${unbacked.join(', ')}`);

  const sumOf = (kind: string) =>
    db
      .prepare('SELECT COALESCE(SUM(balance_cents), 0) FROM ledger_accounts WHERE kind = ?')
      .pluck()
      .get(kind) as number;
  const totals: LedgerTotals = {
    // bsUSD in the stability pool is still its depositors' bsUSD.
    holdersCents: sumOf('holder') + sumOf('pool'),
    surplusCents: sumOf('surplus'),
    // `0 - x`, not `-x`: a zero balance must read 0, not -0.
    vaultDebtsCents: 0 - sumOf('vault'),
    deficitCents: 0 - sumOf('deficit'),
  };
  if (totals.surplusCents > 0 && totals.deficitCents > 0) {
    problems.push('surplus and deficit both stand: surplus must cover deficit first');
  }
  if (totals.holdersCents + totals.surplusCents !== totals.vaultDebtsCents + totals.deficitCents) {
    problems.push('holders + surplus differs from vault debts + deficit');
  }
  return { ...totals, ok: problems.length === 0, problems };
}

/**
 * Moves bsUSD from one holder to another: one balanced entry. The sender's balance never goes
 * below zero (INSUFFICIENT_BALANCE, and nothing changes). Call inside the caller's transaction.
 */
export function transfer(
  db: Sqlite,
  from: string,
  to: string,
  amountCents: number,
  memo: string | null,
  ts = Date.now(),
): number {
  if (!Number.isSafeInteger(amountCents) || amountCents <= 0) {
    throw new BitStableError('INVALID_AMOUNT', 'Send a whole number of cents above 0.', {
      amountCents,
    });
  }
  if (from === to) {
    throw new BitStableError('INVALID_ARGUMENT', 'That is your own account: nothing to send.', {});
  }
  return post(
    db,
    'transfer',
    null,
    [
      [holderAccount(from), -amountCents],
      [holderAccount(to), amountCents],
    ],
    memo ?? undefined,
    ts,
  );
}

export interface StatementLine {
  entryId: number;
  ts: number;
  kind: EntryKind;
  /** What the entry did to this holder: + received, − paid. */
  amountCents: number;
  balanceAfterCents: number;
  vaultId: number | null;
  memo: string | null;
  /** For a transfer: the other holder's name (an account id). */
  counterparty: string | null;
}

/**
 * Every entry that touched a holder, newest first, with the balance after each. The running
 * balance comes from all of the holder's postings (a window over the index on account_id).
 */
export function statement(
  db: Sqlite,
  holder: string,
  offset: number,
  limit: number,
): { total: number; items: StatementLine[] } {
  const account = holderAccount(holder);
  const total = db
    .prepare('SELECT COUNT(*) FROM ledger_postings WHERE account_id = ?')
    .pluck()
    .get(account) as number;
  const rows = db
    .prepare(
      `WITH mine AS (
         SELECT p.entry_id, p.amount_cents,
                SUM(p.amount_cents) OVER (ORDER BY p.entry_id) AS balance_after
           FROM ledger_postings p WHERE p.account_id = ?)
       SELECT m.entry_id, m.amount_cents, m.balance_after, e.ts, e.kind, e.vault_id, e.memo,
              (SELECT o.account_id FROM ledger_postings o
                WHERE o.entry_id = m.entry_id AND o.account_id <> ? AND e.kind = 'transfer'
                LIMIT 1) AS other
         FROM mine m JOIN ledger_entries e ON e.id = m.entry_id
        ORDER BY m.entry_id DESC LIMIT ? OFFSET ?`,
    )
    .all(account, account, limit, offset) as {
    entry_id: number;
    amount_cents: number;
    balance_after: number;
    ts: number;
    kind: EntryKind;
    vault_id: number | null;
    memo: string | null;
    other: string | null;
  }[];
  return {
    total,
    items: rows.map((r) => ({
      entryId: r.entry_id,
      ts: r.ts,
      kind: r.kind,
      amountCents: r.amount_cents,
      balanceAfterCents: r.balance_after,
      vaultId: r.vault_id,
      memo: r.memo,
      counterparty: r.other?.startsWith('holder:') ? r.other.slice(7) : null,
    })),
  };
}
