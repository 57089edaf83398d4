/**
 * Error codes on the wire: every core code, plus the ones only the API boundary produces.
 * (The boundary codes would sit well in core/errors.ts's ERROR_CODES; until they move there they
 * live here, and a test checks that the two lists never overlap.)
 */
import { ERROR_CODES, toWireError, type ErrorCode } from '../errors';

export const API_ONLY_ERROR_CODES = [
  /** No token, or a token the gateway does not know. */
  'UNAUTHENTICATED',
  /** The token's roles do not grant the method's permission. */
  'FORBIDDEN',
  /** No such method in the contract. */
  'METHOD_NOT_FOUND',
  /** The method exists but not here (e.g. regtest controls on mainnet, auctions before they exist). */
  'NOT_SUPPORTED',
] as const;

export const API_ERROR_CODES = [...ERROR_CODES, ...API_ONLY_ERROR_CODES] as const;
export type ApiErrorCode = ErrorCode | (typeof API_ONLY_ERROR_CODES)[number];

/** An error as it crosses the API boundary: a stable code and a sentence a person can act on. */
export interface ApiError {
  code: ApiErrorCode;
  message: string;
  data?: Record<string, unknown>;
}

/** An error raised at the boundary itself (auth, unknown method, not supported). */
export class ApiBoundaryError extends Error {
  constructor(
    readonly code: (typeof API_ONLY_ERROR_CODES)[number],
    message: string,
    readonly data: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiBoundaryError';
  }
}

/** Turns anything thrown into an ApiError; unknown errors become INTERNAL without internals. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiBoundaryError)
    return { code: err.code, message: err.message, data: err.data };
  return toWireError(err);
}
