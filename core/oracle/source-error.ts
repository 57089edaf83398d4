/**
 * One typed error for everything a price source can get wrong. The code is always
 * ORACLE_SOURCE_ERROR; `data.reason` says which failure it was, so rounds can store it and
 * tests can match it without reading sentences.
 */
import { BitStableError, isBitStableError } from '../errors';

export const SOURCE_ERROR_REASONS = [
  'timeout', // no answer within the per-request timeout
  'aborted', // the oracle was stopped mid-request
  'network', // connection refused, DNS, TLS, reset…
  'http', // a non-2xx status
  'not-json', // a body that is not JSON (typically an HTML error page)
  'too-large', // a body far bigger than any ticker
  'bad-shape', // JSON, but not this exchange's ticker format
  'exchange-error', // the exchange answered with its own error object
  'bad-price', // zero, negative, unparseable or absurd
  'bad-timestamp', // a timestamp that is not a time
  'internal', // the source implementation threw something unexpected
] as const;

export type SourceErrorReason = (typeof SOURCE_ERROR_REASONS)[number];

/** Builds the error a source raises; `detail` is a short plain sentence. */
export function sourceError(
  source: string,
  reason: SourceErrorReason,
  detail: string,
  extra: Record<string, unknown> = {},
  cause?: unknown,
): BitStableError {
  return new BitStableError(
    'ORACLE_SOURCE_ERROR',
    `Price source ${source}: ${detail}`,
    { source, reason, ...extra },
    cause === undefined ? undefined : { cause },
  );
}

/** The reason stored with a failed answer; anything untyped counts as 'internal'. */
export function sourceErrorReason(err: unknown): SourceErrorReason {
  if (isBitStableError(err, 'ORACLE_SOURCE_ERROR')) {
    const r = err.data.reason;
    if (typeof r === 'string' && (SOURCE_ERROR_REASONS as readonly string[]).includes(r)) {
      return r as SourceErrorReason;
    }
  }
  return 'internal';
}
