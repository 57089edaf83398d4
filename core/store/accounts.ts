/**
 * The accounts port: accounts, sessions, invites, the node id, playground accounts. Sessions
 * and invites are kept by the SHA-256 of their token or code, never the token or code itself.
 */

export interface Account {
  id: string;
  label: string | null;
  createdAt: number;
}

export interface AccountsRepo {
  /** Registers an account; nothing when it is registered already. */
  insert(accountId: string, pubkeyHex: string, label: string | null, ts: number): void;
  /** The account, or null. */
  get(accountId: string): Account | null;

  /** Forgets every session that expired at or before `ts`. */
  deleteExpiredSessions(ts: number): void;
  insertSession(tokenHash: string, accountId: string, ts: number, expiresAt: number): void;
  /** The session with this token hash (expired or not), or null. */
  session(tokenHash: string): { accountId: string; expiresAt: number } | null;
  deleteSession(tokenHash: string): void;

  insertInvite(codeHash: string, ts: number): void;
  /** Marks an unused invite used by `accountId`; false when there is none unused with that hash. */
  useInvite(codeHash: string, accountId: string, ts: number): boolean;

  /** This node's id on a network, or null before it has one. */
  nodeId(network: string): string | null;
  /** Keeps a node id for a network unless it has one already (the first one stays). */
  saveNodeId(network: string, nodeId: string): void;

  /** Whether the bsUSD ledger has an account with this id (reads the ledger's table). */
  ledgerAccountExists(ledgerAccountId: string): boolean;
  /** Gives every vault without an account to `accountId` (writes the vaults' table). */
  adoptVaultsWithoutAccount(accountId: string): void;

  /** The playground accounts added on a network, in the order they were added. */
  playgroundAccounts(network: string): { accountId: string; label: string }[];
  addPlaygroundAccount(network: string, accountId: string, label: string): void;
  /** The playground account this machine's window acts as, as kept, or null. */
  activePlaygroundAccount(network: string): string | null;
  setActivePlaygroundAccount(network: string, accountId: string): void;
}
