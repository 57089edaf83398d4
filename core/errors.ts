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
  'INVALID_CONFIG',
  // Vault rules
  'RATIO_TOO_LOW',
  'DEBT_BELOW_FLOOR',
  'INSUFFICIENT_FUNDS',
  'INSUFFICIENT_BALANCE',
  // Auctions
  'AUCTION_NOT_FOUND',
  'AUCTION_CLOSED',
  'AUCTION_PRICE_ABOVE_MAX',
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
