/**
 * The pool port: The stability pool: deposits, withdrawals, its takes and their split.
 * (Filled in as the statements move here from the services; see `ports.ts`.)
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in as statements move
export interface PoolRepo {}
