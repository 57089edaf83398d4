/**
 * The ledger port: the bsUSD ledger (SPEC §5): entries, balances, statements, the invariant, the
 * books. Each mint, repay, transfer, auction payment and penalty is one balanced entry; call
 * `post` inside the transaction of the state change it belongs to (see `core/ledger/bsusd.ts`).
 */

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

export interface BooksEntry {
  entryId: number;
  ts: number;
  kind: EntryKind;
  surplusChangeCents: number;
  deficitChangeCents: number;
  vaultId: number | null;
  memo: string | null;
}

export interface LedgerRepo {
  /** Creates a holder account if it does not exist; its account id. */
  ensureHolder(name: string): string;
  /** An account's balance in cents (0 for an account that does not exist). */
  balance(account: string): number;
  /**
   * Writes one balanced entry and updates the balances; its id. Throws (and, inside the caller's
   * transaction, changes nothing) if the postings do not sum to zero or a holder would go
   * negative. An entry that leaves surplus and deficit both standing is followed by `netting`.
   */
  post(
    kind: EntryKind,
    vaultId: number | null,
    postings: [account: string, amountCents: number][],
    memo?: string,
    ts?: number,
  ): number;
  /** Moves bsUSD from one holder to another: one balanced entry (INSUFFICIENT_BALANCE). */
  transfer(from: string, to: string, amountCents: number, memo: string | null, ts?: number): number;
  /** The ledger's checks (balanced entries, balances, vault debts, unbacked debt, totals). */
  checkInvariant(): InvariantReport;
  /** Every entry that touched a holder, newest first, with the balance after each. */
  statement(
    holder: string,
    offset: number,
    limit: number,
  ): { total: number; items: StatementLine[] };
  /** Entries that moved surplus or deficit, newest first. */
  booksHistory(limit: number): BooksEntry[];
}
