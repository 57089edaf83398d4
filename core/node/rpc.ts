/**
 * JSON-RPC client for Bitcoin Core (and Core-compatible nodes such as Bitcoin Knots).
 *
 * Responses are parsed with lossless-json so BTC amounts keep their exact decimal text and are
 * turned into satoshis by integer arithmetic. Core's error codes that we depend on are given a
 * meaning here, so callers never match raw numbers.
 */
import { readFile } from 'node:fs/promises';
import { isInteger, LosslessNumber, parse, stringify } from 'lossless-json';
import { BitStableError } from '../errors';
import { btcStringToSats, sats, satsToBtcString, type Sats } from '../money';

export type RpcAuth =
  { kind: 'cookie'; cookieFile: string } | { kind: 'userpass'; user: string; password: string };

export interface RpcConfig {
  /** e.g. http://127.0.0.1:18443 */
  url: string;
  auth: RpcAuth;
  /** Per-call timeout; default 30 s. */
  timeoutMs?: number;
}

/** Core's RPC error codes that carry a meaning we act on. */
export const RPC = {
  MISC_ERROR: -1,
  WALLET_ERROR: -4,
  INVALID_ADDRESS_OR_KEY: -5,
  WALLET_INSUFFICIENT_FUNDS: -6,
  INVALID_PARAMETER: -8,
  IN_WARMUP: -28,
  VERIFY_ERROR: -25,
  VERIFY_REJECTED: -26,
  VERIFY_ALREADY_IN_CHAIN: -27,
  WALLET_NOT_FOUND: -18,
  WALLET_ALREADY_LOADED: -35,
  METHOD_NOT_FOUND: -32601,
} as const;

/** A BTC amount as the node sent it; keep as text until converted with `toSats`. */
export type RpcAmount = LosslessNumber;

/** Converts an amount from an RPC result into satoshis, exactly. */
export function toSats(amount: unknown): Sats {
  if (amount instanceof LosslessNumber) return btcStringToSats(amount.toString());
  if (typeof amount === 'number' && Number.isSafeInteger(amount))
    return btcStringToSats(String(amount));
  throw new BitStableError('NODE_RPC_ERROR', 'The node sent an amount BitStable could not read.', {
    amount: String(amount),
  });
}

/** Wraps satoshis so they are sent to the node as an exact decimal BTC number. */
export function btcParam(amount: Sats): LosslessNumber {
  return new LosslessNumber(satsToBtcString(sats(amount)));
}

/** Converts a non-money number from an RPC result (heights, progress) to a JS number. */
export function num(value: unknown): number {
  if (value instanceof LosslessNumber) return Number(value.toString());
  if (typeof value === 'number') return value;
  throw new BitStableError('NODE_RPC_ERROR', 'The node sent a number BitStable could not read.', {
    value: String(value),
  });
}

// Integers stay numbers (heights, confirmations); anything with a fraction stays exact text.
const parseNumber = (text: string) => (isInteger(text) ? Number(text) : new LosslessNumber(text));

/** True when `err` is an RPC error from the node with Core's code `rpcCode`. */
export function isRpcError(err: unknown, rpcCode: number): boolean {
  return (
    err instanceof BitStableError && err.code === 'NODE_RPC_ERROR' && err.data.rpcCode === rpcCode
  );
}

/** Anything that makes node RPC calls: one client, or a failover pair. */
export interface RpcCaller {
  /** The endpoint calls go to now. */
  readonly url: string;
  call<T = unknown>(
    method: string,
    params?: unknown[],
    options?: { wallet?: string; timeoutMs?: number },
  ): Promise<T>;
}

let nextId = 1;

/** A typed JSON-RPC client with timeouts and errors that name the method and Core's code. */
export class RpcClient implements RpcCaller {
  private readonly timeoutMs: number;

  constructor(readonly config: RpcConfig) {
    this.timeoutMs = config.timeoutMs ?? 30_000;
  }

  get url(): string {
    return this.config.url;
  }

  /** Calls `method`; with `wallet`, on that wallet's endpoint. */
  async call<T = unknown>(
    method: string,
    params: unknown[] = [],
    options: { wallet?: string; timeoutMs?: number } = {},
  ): Promise<T> {
    const url = options.wallet
      ? `${this.config.url}/wallet/${encodeURIComponent(options.wallet)}`
      : this.config.url;
    const body = stringify({ jsonrpc: '2.0', id: nextId++, method, params }) ?? '';
    const authorization = await this.authorizationHeader();
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new BitStableError(
          'NODE_TIMEOUT',
          `The Bitcoin node did not answer ${method} within ${Math.round(timeoutMs / 1000)} s.`,
          { method, url: this.config.url },
        );
      }
      throw new BitStableError(
        'NODE_UNREACHABLE',
        `Cannot reach the Bitcoin node at ${this.config.url}. Check that bitcoind is running with server=1 and that the RPC port is right.`,
        { method, url: this.config.url },
        { cause: err },
      );
    }

    if (response.status === 401 || response.status === 403) throw this.authError();
    const text = await response.text();
    let payload: { result?: unknown; error?: { code: number; message: string } | null };
    try {
      payload = parse(text, null, parseNumber) as typeof payload;
    } catch {
      throw new BitStableError(
        'NODE_RPC_ERROR',
        `The Bitcoin node answered ${method} with something that is not JSON (HTTP ${response.status}).`,
        { method, httpStatus: response.status },
      );
    }
    if (payload.error) {
      const rpcCode = num(payload.error.code);
      throw new BitStableError(
        'NODE_RPC_ERROR',
        `The Bitcoin node refused ${method}: ${payload.error.message} (code ${rpcCode}).`,
        { method, rpcCode, nodeMessage: payload.error.message },
      );
    }
    if (!response.ok) {
      throw new BitStableError(
        'NODE_RPC_ERROR',
        `The Bitcoin node answered ${method} with HTTP ${response.status}.`,
        {
          method,
          httpStatus: response.status,
        },
      );
    }
    return payload.result as T;
  }

  private async authorizationHeader(): Promise<string> {
    const { auth } = this.config;
    let credentials: string;
    if (auth.kind === 'userpass') {
      credentials = `${auth.user}:${auth.password}`;
    } else {
      try {
        credentials = (await readFile(auth.cookieFile, 'utf8')).trim();
      } catch {
        throw new BitStableError(
          'NODE_AUTH_FAILED',
          `No readable RPC cookie at ${auth.cookieFile}. Is the node running with that data directory and network? The cookie is written when bitcoind starts.`,
          // bitcoind deletes its cookie when it stops: for callers, the node is not answering.
          { cookieFile: auth.cookieFile, reason: 'cookie-missing' },
        );
      }
    }
    return `Basic ${Buffer.from(credentials).toString('base64')}`;
  }

  private authError(): BitStableError {
    const { auth } = this.config;
    return auth.kind === 'cookie'
      ? new BitStableError(
          'NODE_AUTH_FAILED',
          `The Bitcoin node refused the cookie in ${auth.cookieFile}. Check that this file belongs to the node at ${this.config.url} (same data directory and network); a restarted node writes a new cookie.`,
          { cookieFile: auth.cookieFile, url: this.config.url },
        )
      : new BitStableError(
          'NODE_AUTH_FAILED',
          `The Bitcoin node refused user "${auth.user}". Check rpcuser/rpcpassword (or rpcauth) in bitcoin.conf and the password set in BitStable.`,
          { user: auth.user, url: this.config.url },
        );
  }
}
