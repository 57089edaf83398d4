/**
 * The ledger port: The bsUSD ledger: entries, balances, statements, the invariant, the books.
 * (Filled in as the statements move here from the services; see `ports.ts`.)
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in as statements move
export interface LedgerRepo {}
