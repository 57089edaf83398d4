/**
 * JSON-RPC 2.0 framing over the dispatcher: one request (or a batch) in, responses out. The
 * transport (WebSocket message, HTTP POST body) is the caller's business.
 */
import { isInteger, parse as parseLossless } from 'lossless-json';
import type { CallContext, DispatchOutcome } from '../api/dispatcher';
import type { ApiError, ApiErrorCode } from '../api/errors';

type Id = string | number | null;

export interface RpcResponse {
  jsonrpc: '2.0';
  id: Id;
  result?: unknown;
  error?: { code: number; message: string; data: { code: ApiErrorCode } & Record<string, unknown> };
}

/** JSON-RPC's numeric codes for our string codes (the string code is always in error.data.code). */
export function rpcCode(code: ApiErrorCode): number {
  switch (code) {
    case 'METHOD_NOT_FOUND':
      return -32601;
    case 'INVALID_ARGUMENT':
      return -32602;
    case 'INTERNAL':
      return -32603;
    case 'UNAUTHENTICATED':
      return -32001;
    case 'FORBIDDEN':
      return -32003;
    default:
      return -32000;
  }
}

export function errorResponse(id: Id, error: ApiError): RpcResponse {
  return {
    jsonrpc: '2.0',
    id,
    error: {
      code: rpcCode(error.code),
      message: error.message,
      data: { ...(error.data ?? {}), code: error.code },
    },
  };
}

const MAX_BATCH = 50;

type Dispatch = (method: string, params: unknown, ctx: CallContext) => Promise<DispatchOutcome>;

/** Handles one JSON text; returns the response text, or null when nothing is to be sent back. */
export async function handleRpcText(
  text: string,
  ctx: CallContext,
  dispatch: Dispatch,
): Promise<string | null> {
  let body: unknown;
  let inexact: string | null = null;
  try {
    JSON.parse(text); // the quick, strict check first (and deep nesting refused without recursion)
    // Then once more keeping every number's text: a literal that a double cannot hold exactly
    // (100.0000000000000001, 1e400, 9007199254740993) is refused, not rounded into another amount.
    body = parseLossless(text, null, (literal: string) => {
      const n = Number(literal);
      const exact =
        Number.isFinite(n) &&
        (isInteger(literal)
          ? Number.isSafeInteger(n)
          : !Number.isInteger(n) && String(n) === literal.replace(/^(-?)0+(?=\d)/, '$1'));
      if (!exact) inexact ??= literal;
      return n;
    });
  } catch {
    const r = errorResponse(null, {
      code: 'INVALID_ARGUMENT',
      message: 'The request is not valid JSON.',
    });
    r.error!.code = -32700;
    return JSON.stringify(r);
  }
  if (inexact !== null) {
    return JSON.stringify(
      errorResponse(null, {
        code: 'INVALID_ARGUMENT',
        message: `The number ${String(inexact).slice(0, 40)} cannot be read exactly. Amounts, counts and ids are whole numbers: send them without a fraction or exponent.`,
      }),
    );
  }
  if (Array.isArray(body)) {
    if (body.length === 0 || body.length > MAX_BATCH) {
      return JSON.stringify(
        errorResponse(null, {
          code: 'INVALID_ARGUMENT',
          message: `A batch holds 1 to ${MAX_BATCH} requests.`,
        }),
      );
    }
    const out = (await Promise.all(body.map((b) => handleOne(b, ctx, dispatch)))).filter(
      (r): r is RpcResponse => r !== null,
    );
    return out.length ? JSON.stringify(out) : null;
  }
  const r = await handleOne(body, ctx, dispatch);
  return r ? JSON.stringify(r) : null;
}

async function handleOne(
  req: unknown,
  ctx: CallContext,
  dispatch: Dispatch,
): Promise<RpcResponse | null> {
  const r = req as { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown };
  const id: Id = typeof r?.id === 'string' || typeof r?.id === 'number' ? r.id : null;
  // JSON-RPC 2.0: an id, when present, is a string, a number or null; anything else makes the
  // request invalid, and an invalid request is not executed.
  const badId =
    typeof r === 'object' &&
    r !== null &&
    'id' in r &&
    r.id !== null &&
    typeof r.id !== 'string' &&
    typeof r.id !== 'number';
  if (
    typeof r !== 'object' ||
    r === null ||
    r.jsonrpc !== '2.0' ||
    typeof r.method !== 'string' ||
    badId
  ) {
    const resp = errorResponse(id, {
      code: 'INVALID_ARGUMENT',
      message: 'A request needs "jsonrpc": "2.0" and a method name.',
    });
    resp.error!.code = -32600;
    return resp;
  }
  const outcome = await dispatch(r.method, r.params, ctx);
  if (!('id' in r)) return null; // a notification: no answer
  return outcome.ok
    ? { jsonrpc: '2.0', id, result: outcome.result }
    : errorResponse(id, outcome.error);
}
