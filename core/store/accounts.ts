/**
 * The accounts port: Accounts, sessions, invites, the node id, playground accounts.
 * (Filled in as the statements move here from the services; see `ports.ts`.)
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in as statements move
export interface AccountsRepo {}
