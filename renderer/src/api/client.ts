/**
 * The renderer's one API: inside Electron the preload's `window.bitstable`, in a browser a
 * JSON-RPC 2.0 WebSocket to the headless gateway. Both speak the same contract.
 */
import type { MethodName, Params, Result } from '../../../core/api/contract';
import type { BitStableBridge } from '../../../core/api/bridge';
import type { ApiErrorCode } from '../../../core/api/errors';
import type { ApiEvent } from '../../../core/api/events';

/** A refused or failed call: a stable code and a sentence to show as is. */
export class ApiCallError extends Error {
  constructor(
    readonly code: ApiErrorCode | 'DISCONNECTED',
    message: string,
    readonly data: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiCallError';
  }
}

export type ConnectionState = 'connecting' | 'open' | 'closed' | 'unauthorized';

export interface BitStableClient {
  readonly transport: 'ipc' | 'websocket';
  call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>>;
  onEvent(listener: (event: ApiEvent) => void): () => void;
  onConnection(listener: (state: ConnectionState) => void): () => void;
  connection(): ConnectionState;
  close(): void;
}

declare global {
  interface Window {
    bitstable?: BitStableBridge;
  }
}

/** The client over Electron's preload bridge. */
export function ipcClient(bridge: BitStableBridge): BitStableClient {
  return {
    transport: 'ipc',
    async call(method, params) {
      const fn = bridge.methods[method] as (
        p: unknown,
      ) => ReturnType<BitStableBridge['methods'][typeof method]>;
      const outcome = await fn(params);
      if (!outcome.ok)
        throw new ApiCallError(outcome.error.code, outcome.error.message, outcome.error.data ?? {});
      return outcome.result as Result<typeof method>;
    },
    onEvent: (listener) => bridge.onEvent(listener),
    onConnection: () => () => {},
    connection: () => 'open',
    close: () => {},
  };
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: ApiCallError) => void;
  timer: ReturnType<typeof setTimeout>;
}

const CALL_TIMEOUT_MS = 180_000;

/** The client over a WebSocket to the gateway; reconnects with backoff and resends nothing twice. */
export function wsClient(url: string, token: string): BitStableClient {
  let ws: WebSocket | null = null;
  let state: ConnectionState = 'connecting';
  let nextId = 1;
  let attempts = 0;
  let closed = false;
  let everOpened = false;
  const pending = new Map<number, Pending>();
  const queue: string[] = [];
  const events = new Set<(e: ApiEvent) => void>();
  const states = new Set<(s: ConnectionState) => void>();

  const setState = (s: ConnectionState) => {
    state = s;
    for (const l of states) l(s);
  };

  const connect = () => {
    if (closed) return;
    setState('connecting');
    const socket = new WebSocket(url, ['bitstable.v1', `bearer.${token}`]);
    ws = socket;
    socket.onopen = () => {
      attempts = 0;
      everOpened = true;
      setState('open');
      for (const m of queue.splice(0)) socket.send(m);
    };
    socket.onmessage = (msg) => {
      let data: {
        id?: number;
        method?: string;
        params?: ApiEvent;
        result?: unknown;
        error?: { message: string; data?: { code?: ApiErrorCode } & Record<string, unknown> };
      };
      try {
        data = JSON.parse(String(msg.data));
      } catch {
        return;
      }
      if (data.method === 'event' && data.params) {
        for (const l of events) l(data.params);
        return;
      }
      if (typeof data.id !== 'number') return;
      const p = pending.get(data.id);
      if (!p) return;
      pending.delete(data.id);
      clearTimeout(p.timer);
      if (data.error)
        p.reject(
          new ApiCallError(
            data.error.data?.code ?? 'INTERNAL',
            data.error.message,
            data.error.data ?? {},
          ),
        );
      else p.resolve(data.result);
    };
    socket.onclose = () => {
      if (ws !== socket) return;
      ws = null;
      // Calls in flight may or may not have run: fail them rather than send them again.
      for (const [id, p] of pending) {
        clearTimeout(p.timer);
        p.reject(
          new ApiCallError(
            'DISCONNECTED',
            'The connection to BitStable dropped before it answered. Check the result before trying again.',
          ),
        );
        pending.delete(id);
      }
      if (closed) return setState('closed');
      attempts++;
      // Never opened: the gateway refused the upgrade (a wrong token looks like this to a browser).
      if (!everOpened && attempts >= 3) return setState('unauthorized');
      setState('closed');
      setTimeout(connect, Math.min(5_000, 250 * 2 ** attempts));
    };
  };
  connect();

  return {
    transport: 'websocket',
    call(method, params) {
      const id = nextId++;
      const text = JSON.stringify({ jsonrpc: '2.0', id, method, params: params ?? {} });
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(
            new ApiCallError(
              'DISCONNECTED',
              'BitStable did not answer in time. Check the result before trying again.',
            ),
          );
        }, CALL_TIMEOUT_MS);
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
        if (ws && ws.readyState === WebSocket.OPEN) ws.send(text);
        else queue.push(text);
      });
    },
    onEvent(listener) {
      events.add(listener);
      return () => events.delete(listener);
    },
    onConnection(listener) {
      states.add(listener);
      return () => states.delete(listener);
    },
    connection: () => state,
    close() {
      closed = true;
      ws?.close();
    },
  };
}

const TOKEN_KEY = 'bitstable.token';

/**
 * Takes the token from the URL fragment (`#token=…`, which browsers never send to servers),
 * keeps it for this tab only, and removes it from the address bar and history.
 */
export function takeToken(): string | null {
  const m = /(?:^#|&)token=([A-Za-z0-9_-]+)/.exec(window.location.hash);
  if (m) {
    sessionStorage.setItem(TOKEN_KEY, m[1]!);
    window.history.replaceState(null, '', `${window.location.pathname}${window.location.search}#/`);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

export function saveToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token.trim());
}

export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** The gateway's API socket on the page's own origin. */
export function gatewaySocketUrl(): string {
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${window.location.host}/rpc`;
}
