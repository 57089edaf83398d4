/**
 * The typed client of the protocol API (SPEC §2): what a wallet or a bot calls on a protocol
 * node. One client, two transports — in-process (local mode: the node runs in this process) and
 * WebSocket (a remote node over its gateway) — so local and remote run one code path.
 */
import WebSocket from 'ws';
import type { MethodName, Params, Result } from '../api/contract';
import type { CallContext, ApiService } from '../api/dispatcher';
import type { ApiEvent } from '../api/events';
import { WS_PROTOCOL, WS_TOKEN_PREFIX } from '../gateway/server';
import { accountKey, originOf, signLogin } from '../accounts/login';

/** A refusal or failure the protocol node answered with: its code, sentence and data. */
export class ProtocolError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly data: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

export interface ProtocolTransport {
  call(method: string, params: unknown): Promise<unknown>;
  /** Receives the node's events; returns the unsubscribe function. */
  onEvent(listener: (event: ApiEvent) => void): () => void;
  close(): Promise<void>;
}

/** Typed calls over a transport. */
export class ProtocolClient {
  constructor(readonly transport: ProtocolTransport) {}

  call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>> {
    return this.transport.call(method, params) as Promise<Result<M>>;
  }

  onEvent(listener: (event: ApiEvent) => void): () => void {
    return this.transport.onEvent(listener);
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}

/** Local mode: the node's dispatcher in this process, called as `ctx`. */
export function inProcessTransport(api: ApiService, ctx: CallContext): ProtocolTransport {
  return {
    async call(method, params) {
      const out = await api.dispatch(method, params, ctx);
      if (!out.ok) throw new ProtocolError(out.error.code, out.error.message, out.error.data);
      return out.result;
    },
    onEvent: (listener) => api.subscribe(listener, ctx),
    close: async () => undefined,
  };
}

/** Signs in at a node over its `POST /rpc` with the account key; returns the session token. */
export async function signInOverHttp(
  baseUrl: string,
  accountSecret: Uint8Array,
  label?: string,
): Promise<{ token: string; accountId: string; nodeId: string }> {
  const post = (method: string, params: unknown) => postRpc(baseUrl, method, params);
  const { challenge, nodeId } = (await post('auth.challenge', {})) as {
    challenge: string;
    nodeId: string;
  };
  const { id } = accountKey(accountSecret);
  const session = (await post('auth.signIn', {
    accountId: id,
    challenge,
    origin: originOf(baseUrl),
    signature: signLogin(accountSecret, nodeId, challenge, originOf(baseUrl)),
    ...(label ? { label } : {}),
  })) as { token: string; accountId: string };
  return { ...session, nodeId };
}

/**
 * Ends a session at a node over its `POST /rpc` (a wallet that signed in again after a reconnect
 * ends the session it had before, so no token of it is left alive).
 */
export async function signOutOverHttp(baseUrl: string, token: string): Promise<void> {
  await postRpc(baseUrl, 'auth.signOut', {}, token);
}

/** One JSON-RPC call over `POST /rpc`, with a bearer token if given. */
async function postRpc(
  baseUrl: string,
  method: string,
  params: unknown,
  token?: string,
): Promise<unknown> {
  const res = await fetch(`${baseUrl}/rpc`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = (await res.json()) as RpcReply;
  if (body.error) throw errorOf(body.error);
  return body.result;
}

interface RpcReply {
  id?: number | string | null;
  method?: string;
  params?: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: { code?: string } & Record<string, unknown> };
}

function errorOf(e: NonNullable<RpcReply['error']>): ProtocolError {
  const { code, ...data } = e.data ?? {};
  return new ProtocolError(code ?? 'INTERNAL', e.message, data);
}

/** A remote node: JSON-RPC 2.0 over its WebSocket, events on the same socket. */
export async function webSocketTransport(
  baseUrl: string,
  token: string,
  options: {
    callTimeoutMs?: number;
    /**
     * Reconnects when the socket drops (the node restarted, the network blinked): a fresh token
     * (sign in again), then `onReconnected`. Calls made while it is away fail NODE_UNREACHABLE.
     */
    reconnect?: {
      token: () => Promise<string>;
      onReconnected?: () => void;
      /** The socket dropped; reconnecting begins. */
      onDisconnected?: () => void;
    };
    /**
     * Start without a connection (the node is down as the wallet starts): calls fail
     * NODE_UNREACHABLE until the reconnect loop, begun at once, gets through.
     */
    offline?: boolean;
  } = {},
): Promise<ProtocolTransport> {
  const timeoutMs = options.callTimeoutMs ?? 60_000;
  const pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >();
  const listeners = new Set<(event: ApiEvent) => void>();
  let nextId = 1;
  let closing = false;
  let ws: WebSocket | null = null;

  const failAll = (why: string) => {
    for (const [id, p] of pending) {
      clearTimeout(p.timer);
      p.reject(new ProtocolError('NODE_UNREACHABLE', why));
      pending.delete(id);
    }
  };
  const onMessage = (data: WebSocket.RawData) => {
    let msg: RpcReply;
    try {
      msg = JSON.parse(data.toString()) as RpcReply;
    } catch {
      return;
    }
    if (msg.method === 'event') {
      for (const l of listeners) l(msg.params as ApiEvent);
      return;
    }
    const waiting = typeof msg.id === 'number' ? pending.get(msg.id) : undefined;
    if (!waiting) return;
    pending.delete(msg.id as number);
    clearTimeout(waiting.timer);
    if (msg.error) waiting.reject(errorOf(msg.error));
    else waiting.resolve(msg.result);
  };
  const open = (withToken: string) =>
    new Promise<WebSocket>((resolve, reject) => {
      const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/rpc`, [
        WS_PROTOCOL,
        `${WS_TOKEN_PREFIX}${withToken}`,
      ]);
      socket.once('open', () => resolve(socket));
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) =>
        reject(
          new ProtocolError(
            res.statusCode === 401 ? 'UNAUTHENTICATED' : 'NODE_UNREACHABLE',
            `The protocol node refused the connection (HTTP ${res.statusCode}).`,
          ),
        ),
      );
    });
  const attach = (socket: WebSocket) => {
    ws = socket;
    socket.on('message', onMessage);
    socket.on('error', () => failAll('The connection to the protocol node failed.'));
    socket.on('close', () => {
      failAll('The connection to the protocol node closed.');
      if (!closing && options.reconnect) {
        options.reconnect.onDisconnected?.();
        void again(options.reconnect);
      }
    });
  };
  const again = async (r: NonNullable<typeof options.reconnect>) => {
    for (let attempt = 0; !closing; attempt++) {
      await new Promise((w) => setTimeout(w, Math.min(5_000, 250 * 2 ** attempt)));
      if (closing) return;
      try {
        const socket = await open(await r.token());
        if (closing) {
          socket.close();
          return;
        }
        attach(socket);
        r.onReconnected?.();
        return;
      } catch {
        // not back yet; the next attempt waits longer (at most 5 s)
      }
    }
  };
  if (options.offline && options.reconnect) {
    options.reconnect.onDisconnected?.();
    void again(options.reconnect);
  } else attach(await open(token));

  return {
    call(method, params) {
      const socket = ws;
      if (!socket || socket.readyState !== socket.OPEN) {
        return Promise.reject(
          new ProtocolError('NODE_UNREACHABLE', 'Not connected to the protocol node.'),
        );
      }
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new ProtocolError('NODE_TIMEOUT', `The protocol node did not answer ${method}.`));
        }, timeoutMs);
        pending.set(id, { resolve, reject, timer });
        socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
      });
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: () => {
      closing = true;
      return new Promise<void>((resolve) => {
        const socket = ws;
        if (!socket || socket.readyState === socket.CLOSED) return resolve();
        socket.once('close', () => resolve());
        socket.close();
      });
    },
  };
}
