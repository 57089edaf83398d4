/** The ledger tables' rows as both adapters read them (sqlite/ledger.ts, pg/ledger.ts). */
import type { BooksEntry, EntryKind, StatementLine } from '../ledger';

/** A row of a holder's statement: one posting with its entry and running balance. */
export interface StatementRow {
  entry_id: number;
  amount_cents: number;
  balance_after: number;
  ts: number;
  kind: EntryKind;
  vault_id: number | null;
  memo: string | null;
  other: string | null;
}

/** A row of the books' history: one entry with its surplus and deficit changes. */
export interface BooksRow {
  id: number;
  ts: number;
  kind: EntryKind;
  vault_id: number | null;
  memo: string | null;
  surplus: number;
  deficit: number;
}

/** Maps a statement row to a StatementLine (the other side named only when a holder). */
export const statementLineFromRow = (r: StatementRow): StatementLine => ({
  entryId: r.entry_id,
  ts: r.ts,
  kind: r.kind,
  amountCents: r.amount_cents,
  balanceAfterCents: r.balance_after,
  vaultId: r.vault_id,
  memo: r.memo,
  counterparty: r.other?.startsWith('holder:') ? r.other.slice(7) : null,
});

/** Maps a books row to a BooksEntry. */
export const booksEntryFromRow = (r: BooksRow): BooksEntry => ({
  entryId: r.id,
  ts: r.ts,
  kind: r.kind,
  surplusChangeCents: r.surplus,
  deficitChangeCents: r.deficit,
  vaultId: r.vault_id,
  memo: r.memo,
});
