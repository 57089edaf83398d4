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
 *
 * The entries, balances, statements and the invariant are the ledger port's: `store.ledger`
 * (`core/store/ledger.ts`). The account ids are named here.
 */
export type { EntryKind, InvariantReport, LedgerTotals, StatementLine } from '../store/ledger';

/** The account id of a bsUSD holder. */
export const holderAccount = (name: string) => `holder:${name}`;
/** The account id of a vault's debt. */
export const vaultAccount = (vaultId: number) => `vault:${vaultId}`;
