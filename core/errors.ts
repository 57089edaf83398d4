/**
 * Typed errors for everything the core refuses or fails at.
 *
 * Every error has a stable `code` (what tests and the UI match on), the data that explains it,
 * and a plain sentence a person can act on. `toWire` is the one serializer used when an error
 * crosses a process boundary.
 */

export const ERROR_CODES = [
  // Input
  'INVALID_AMOUNT',
  'INVALID_ARGUMENT',
  'INVALID_XPUB',
  'WRONG_NETWORK',
  'INVALID_ADDRESS',
  // Vaults
  'VAULT_NOT_FOUND',
  'KEY_SET_NOT_FOUND',
  'INVALID_STATE',
  /** The vault is not in a state that allows this (e.g. Pending, Closed, Liquidated). */
  'VAULT_NOT_OPEN',
  /** The vault is being liquidated: its collateral belongs to the auction. */
  'VAULT_LIQUIDATING',
  /** A spend of the vault's coins is in flight (reviewed, signing, sent): one change at a time. */
  'SPEND_IN_FLIGHT',
  /** A spend of the vault's coins waits for the guardian's signed file. */
  'AWAITING_GUARDIAN',
  /** An emergency exit the owner signed can still be sent by the guardian; its coins stay held. */
  'EXIT_SIGNED',
  /** The vault still owes bsUSD. */
  'DEBT_OUTSTANDING',
  /** Minting needs an address of the owner's for the rest of a liquidated vault's collateral. */
  'RETURN_ADDRESS_MISSING',
  /** A reviewed transaction nobody signed in time; review again. */
  'DRAFT_EXPIRED',
  /** The vault changed between the review and the signature (coins, debt, state or price). */
  'DRAFT_CHANGED',
  /** A transaction moved on meanwhile (completed, cancelled, dropped); nothing was changed. */
  'SPEND_STATE_CHANGED',
  /** Only the operator (admin) may do this. */
  'ADMIN_ONLY',
  /** Nothing to sweep: the vault holds no coins. */
  'NOTHING_TO_SWEEP',
  // Accounts
  /** Not a bsa1… account id (or a bad account key). */
  'INVALID_ACCOUNT',
  /** No account with that id is registered on this node. */
  'ACCOUNT_NOT_FOUND',
  /** The call acts for an account, and the caller is signed in as none. */
  'ACCOUNT_REQUIRED',
  /** The sign-in signature, challenge or session is not valid. */
  'SIGN_IN_FAILED',
  /** The call ends a session, and the caller presented a gateway token (which the operator revokes). */
  'SESSION_REQUIRED',
  /** Registration needs an invite code from the operator on this node. */
  'REGISTRATION_CLOSED',
  // The wallet's checks of what the protocol node says (SPEC §4)
  /** The node's protocol or guardian key is not the one this wallet pinned. */
  'NODE_KEYS_CHANGED',
  /** The node's vault address or descriptor is not what the wallet derives itself. */
  'ADDRESS_MISMATCH',
  /** A PSBT from the node pays other outputs than the person asked for. */
  'PSBT_OUTPUTS_CHANGED',
  /** A PSBT from the node spends a coin that is not the vault's (or not as the wallet's node sees it). */
  'PSBT_FOREIGN_INPUT',
  /** A PSBT from the node pays a higher fee than it said, or more than the wallet allows. */
  'PSBT_FEE_TOO_HIGH',
  /** The wallet needs its own Bitcoin node for this (an exit without the protocol node). */
  'OWN_NODE_REQUIRED',
  // Node
  'NODE_UNREACHABLE',
  'NODE_AUTH_FAILED',
  'NODE_TIMEOUT',
  'NODE_RPC_ERROR',
  'NODE_WALLET_ERROR',
  'BITCOIND_NOT_FOUND',
  'BITCOIND_START_FAILED',
  // Oracle
  'PRICE_UNAVAILABLE',
  'ORACLE_SOURCE_ERROR',
  /** An alert the webhook chosen in Settings did not take (after its retries). */
  'WEBHOOK_FAILED',
  'INVALID_CONFIG',
  // Vault rules
  'RATIO_TOO_LOW',
  'DEBT_BELOW_FLOOR',
  /** A mint past the vault's or the system's debt ceiling (details.scope says which). */
  'DEBT_CEILING',
  /** A mint that would take the system's total collateral ratio under its floor. */
  'SYSTEM_RATIO_TOO_LOW',
  /** No vault could be redeemed from (or not enough for what was asked with `minSats`). */
  'NOTHING_TO_REDEEM',
  /** A vault owes a redeemer bitcoin; its coins are held until that payout confirms. */
  'REDEMPTION_OWED',
  /** A redemption payout cannot be built from the vault's coins (retried at the next sync). */
  'REDEMPTION_UNPAYABLE',
  'INSUFFICIENT_FUNDS',
  'INSUFFICIENT_BALANCE',
  // Auctions
  'AUCTION_NOT_FOUND',
  'AUCTION_CLOSED',
  'AUCTION_PRICE_ABOVE_MAX',
  /** A take would leave less than the minimum of lot or tab behind: take all of it. */
  'TAKE_LEAVES_DUST',
  /** A take too small to pay out (below the dust limit or the minimum take). */
  'TAKE_TOO_SMALL',
  /** A settlement that cannot be built now (why in words); retried, logged and shown. */
  'SETTLEMENT_UNBUILDABLE',
  // Signing and PSBTs
  'SPEND_NOT_FOUND',
  'PSBT_INVALID',
  'SIGNER_REFUSED',
  'KEYSTORE_ERROR',
  'DEVICE_NOT_FOUND',
  'DEVICE_LOCKED',
  'DEVICE_WRONG_APP',
  'DEVICE_APP_TOO_OLD',
  'DEVICE_REJECTED',
  'DEVICE_TIMEOUT',
  'DEVICE_POLICY_NOT_REGISTERED',
  'DEVICE_HMAC_MISMATCH',
  'DEVICE_ERROR',
  // Database
  'DATABASE_ERROR',
  'MIGRATION_FAILED',
  'BACKUP_INVALID',
  // Fallback
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * Refusals that say "not now, because of the vault's state" (one change at a time, a spend in
 * flight, a review that went stale): expected in any churn of concurrent operations.
 */
export const STATE_REFUSAL_CODES: readonly ErrorCode[] = [
  'INVALID_STATE',
  'VAULT_NOT_OPEN',
  'VAULT_LIQUIDATING',
  'SPEND_IN_FLIGHT',
  'AWAITING_GUARDIAN',
  'EXIT_SIGNED',
  'DEBT_OUTSTANDING',
  'RETURN_ADDRESS_MISSING',
  'DRAFT_EXPIRED',
  'DRAFT_CHANGED',
  'SPEND_STATE_CHANGED',
  'TAKE_LEAVES_DUST',
  'TAKE_TOO_SMALL',
  'REDEMPTION_OWED',
];

/** The shape an error has on the wire (IPC, WebSocket, logs). */
export interface WireError {
  code: ErrorCode;
  message: string;
  data?: Record<string, unknown>;
}

/** A refusal or failure with a stable code and a sentence a person can act on. */
export class BitStableError extends Error {
  readonly code: ErrorCode;
  readonly data: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message: string,
    data: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BitStableError';
    this.code = code;
    this.data = data;
  }

  toWire(): WireError {
    return { code: this.code, message: this.message, data: this.data };
  }
}

/** True when `err` is a BitStableError, optionally with the given code. */
export function isBitStableError(err: unknown, code?: ErrorCode): err is BitStableError {
  return err instanceof BitStableError && (code === undefined || err.code === code);
}

/** Turns anything thrown into the wire shape; unknown errors never leak their internals. */
export function toWireError(err: unknown): WireError {
  if (err instanceof BitStableError) return err.toWire();
  return {
    code: 'INTERNAL',
    message: 'Something went wrong inside BitStable. The log has details.',
  };
}

export const invalidArgument = (message: string, data: Record<string, unknown> = {}) =>
  new BitStableError('INVALID_ARGUMENT', message, data);
