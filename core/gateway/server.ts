/**
 * The headless host's gateway (SPEC §2, §10): one HTTP server on loopback that serves
 *   - JSON-RPC 2.0 over WebSocket at /rpc (calls and pushed events), and over HTTP POST /rpc;
 *   - GET /health (JSON) and GET /metrics (Prometheus text, bearer token);
 *   - the built renderer at /.
 * Every call needs a bearer token whose roles grant the method's permission. WebSocket upgrades
 * from a browser page must come from the gateway's own origin, and on loopback the Host header
 * must name loopback (no DNS rebinding).
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { extname, join, resolve, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { API, isMethodName, SESSION_ROLES } from '../api/contract';
import type { ApiService, CallContext } from '../api/dispatcher';
import type { ApiError } from '../api/errors';
import type { ApiEvent } from '../api/events';
import type { ApiCore } from '../api/handlers';
import { BitStableError } from '../errors';
import { healthReport } from './health';
import { handleRpcText } from './jsonrpc';
import { createMetrics } from './metrics';
import { matchToken, type TokenEntry } from './tokens';

/** The WebSocket subprotocol of the API; a browser sends its token as a second one, `bearer.<token>`. */
export const WS_PROTOCOL = 'bitstable.v1';
export const WS_TOKEN_PREFIX = 'bearer.';
const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Sign-in calls are small: a caller without a token may send no more than this. */
const MAX_ANONYMOUS_BODY_BYTES = 16 * 1024;

/** The CSP the renderer runs under (as in renderer/index.html). */
/**
 * The UI's policy when the gateway serves it: the desktop window's (main/security.ts), with the
 * API socket on this gateway's own address as the one thing to connect to besides itself.
 */
function cspFor(host: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src 'self' ws://${host}`,
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "frame-src 'none'",
    "frame-ancestors 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join('; ');
}

export interface GatewayLogger {
  debug?(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface GatewayOptions {
  api: ApiService;
  /**
   * The protocol node behind the API (its health, metrics and sign-in sessions). A wallet host
   * has none: it passes `health` instead, and knows no sessions.
   */
  core?: ApiCore;
  /** /health when there is no `core` (a wallet host: its connection to the protocol node). */
  health?: () => Promise<{ status: 'ok' | 'degraded' | 'down' } & Record<string, unknown>>;
  /** Tokens and their roles (from the 0600 token file), or where to read them as they change. */
  tokens: readonly TokenEntry[] | (() => readonly TokenEntry[]);
  /** Default 127.0.0.1. Anything else needs `allowRemote`. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  allowRemote?: boolean;
  /** The built renderer (out/renderer). */
  staticDir?: string;
  /** More origins allowed to open the WebSocket (e.g. a Vite dev server). */
  extraOrigins?: string[];
  /** Where wallets reach this node when not directly (a TLS proxy in front): logins name these. */
  publicUrls?: string[];
  /** Open connections allowed from one address (default 1,500) and in all (default 4,096). */
  maxConnectionsPerHost?: number;
  maxConnections?: number;
  logger?: GatewayLogger;
}

export interface Gateway {
  /** The base URL, e.g. http://127.0.0.1:7420 */
  url: string;
  port: number;
  host: string;
  close(): Promise<void>;
}

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1';
  return false;
}

/** Refuses a non-loopback bind unless explicitly allowed (INVALID_CONFIG). */
export function checkBindHost(host: string, allowRemote: boolean): void {
  if (!isLoopback(host) && !allowRemote) {
    throw new BitStableError(
      'INVALID_CONFIG',
      `The gateway listens on loopback only; ${host} is not a loopback address. Pass --allow-remote to listen on it anyway (and put TLS in front of it).`,
      { host },
    );
  }
}

/** Starts the gateway; resolves once it listens. */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const host = options.host ?? '127.0.0.1';
  checkBindHost(host, options.allowRemote ?? false);
  const log = options.logger;
  const metrics = options.core ? await createMetrics(options.core) : createMetrics.bare();
  const api = options.api;
  const dispatch: ApiService['dispatch'] = async (method, params, ctx) => {
    const started = performance.now();
    const outcome = await api.dispatch(method, params, ctx);
    // Labels from the contract's method list only: names a caller makes up would grow the
    // registry without bound.
    metrics.observeCall(
      isMethodName(method) ? method : 'unknown',
      outcome.ok ? 'ok' : outcome.error.code,
      performance.now() - started,
    );
    // A session that ended closes its sockets now, not at the next sweep.
    if (outcome.ok && method === 'auth.signOut' && ctx.session) {
      const ended = ctx.session;
      setImmediate(() => endSocketsOf(ended));
    }
    return outcome;
  };
  const staticRoot = options.staticDir ? resolve(options.staticDir) : null;

  let port = options.port;
  const allowedHosts = () => {
    const hosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
    if (!isLoopback(host)) hosts.add(`${host.includes(':') ? `[${host}]` : host}:${port}`);
    return hosts;
  };
  const allowedOrigins = () =>
    new Set([...[...allowedHosts()].map((h) => `http://${h}`), ...(options.extraOrigins ?? [])]);

  /**
   * Who the request's bearer token is: a token from the token file (its roles, and its account
   * if it is bound to one), or a signed-in account's session. `anonymous` when no token was sent
   * (only sign-in may be called then); null for a token nobody knows.
   */
  const currentTokens =
    typeof options.tokens === 'function'
      ? options.tokens
      : () => options.tokens as readonly TokenEntry[];
  const contextOf = async (req: IncomingMessage): Promise<CallContext | 'anonymous' | null> =>
    await contextOfCredential(presentedOf(req));
  /** What the request presents: its bearer token or the token in its WebSocket subprotocol. */
  const presentedOf = (req: IncomingMessage): string | null => {
    const header = req.headers.authorization;
    let presented: string | null = null;
    if (typeof header === 'string' && /^Bearer /i.test(header)) presented = header.slice(7).trim();
    if (!presented) {
      const protocols = String(req.headers['sec-websocket-protocol'] ?? '')
        .split(',')
        .map((s) => s.trim());
      const p = protocols.find((s) => s.startsWith(WS_TOKEN_PREFIX));
      if (p) presented = p.slice(WS_TOKEN_PREFIX.length);
    }
    return presented;
  };
  const contextOfCredential = async (
    presented: string | null,
  ): Promise<CallContext | 'anonymous' | null> => {
    if (!presented) return 'anonymous';
    const entry = matchToken(currentTokens(), presented);
    // A token bound to an account acts for it; the operator's (admin) token bound to none acts for
    // the node's own account; any other unbound token acts for nobody (it reads public data).
    if (entry)
      return entry.account
        ? { roles: entry.roles, account: entry.account }
        : entry.roles.includes('admin')
          ? { roles: entry.roles }
          : { roles: entry.roles, account: null };
    const account = (await options.core?.accounts.sessionAccount(presented)) ?? null;
    return account ? { roles: SESSION_ROLES, account, session: presented } : null;
  };
  const known = (ctx: CallContext | 'anonymous' | null): ctx is CallContext =>
    ctx !== null && ctx !== 'anonymous';

  const hostOk = (req: IncomingMessage) =>
    !isLoopback(host) || allowedHosts().has(String(req.headers.host ?? ''));

  const server: Server = createServer((req, res) => {
    void handleHttp(req, res).catch((err) => {
      // A client that went away mid-request is not BitStable's failure.
      if (aborted(err)) {
        log?.debug?.({ code: (err as { code?: string }).code }, 'a client went away mid-request');
        res.destroy();
        return;
      }
      log?.error({ err }, 'gateway request failed');
      if (!res.headersSent)
        sendJson(res, 500, {
          error: {
            code: 'INTERNAL',
            message: 'Something went wrong inside BitStable. The log has details.',
          },
        });
      else res.destroy();
    });
  });

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    if (!hostOk(req)) {
      sendJson(
        res,
        421,
        errorBody('FORBIDDEN', 'This gateway answers only to its loopback address.'),
      );
      return;
    }
    const url = { pathname: pathOf(req) };
    if (url.pathname === '/health' && req.method === 'GET') {
      const report = options.core
        ? await healthReport(options.core)
        : ((await options.health?.()) ?? { status: 'ok' as const });
      res.setHeader('Cache-Control', 'no-store');
      // Without a token: up or down only. The parts (network, height, price, sources) are for
      // those who hold one.
      sendJson(
        res,
        report.status === 'down' ? 503 : 200,
        known(await contextOf(req)) ? report : { status: report.status },
      );
      return;
    }
    if (url.pathname === '/metrics' && req.method === 'GET') {
      if (!known(await contextOf(req))) {
        sendJson(
          res,
          401,
          errorBody('UNAUTHENTICATED', 'Send a gateway token as "Authorization: Bearer <token>".'),
        );
        return;
      }
      res.writeHead(200, {
        'Content-Type': metrics.registry.contentType,
        'Cache-Control': 'no-store',
      });
      res.end(await metrics.registry.metrics());
      return;
    }
    if (url.pathname === '/rpc') {
      await handleHttpRpc(req, res);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, errorBody('INVALID_ARGUMENT', 'Only GET is served here.'));
      return;
    }
    // The Host header passed hostOk (loopback binds accept only their own names).
    const asked = String(req.headers.host ?? '');
    serveStatic(
      url.pathname,
      res,
      /^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(asked)
        ? asked
        : `${host}:${port}`,
    );
  }

  async function handleHttpRpc(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') {
      sendJson(
        res,
        405,
        errorBody(
          'INVALID_ARGUMENT',
          'POST a JSON-RPC 2.0 request to /rpc, or open a WebSocket there.',
        ),
      );
      return;
    }
    // Browsers may not call this from other sites: a foreign Origin is refused outright.
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins().has(origin)) {
      sendJson(res, 403, errorBody('FORBIDDEN', 'Calls from other sites are refused.'));
      return;
    }
    if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) {
      sendJson(res, 415, errorBody('INVALID_ARGUMENT', 'Send the request as application/json.'));
      return;
    }
    // Who is calling is known from the headers: an unknown token is refused before a byte of
    // its body is read, and a caller without one may send only a small one.
    const ctx = await contextOf(req);
    if (ctx === null) {
      refuseEarly(
        req,
        res,
        401,
        rpcErrorFor('', {
          code: 'UNAUTHENTICATED',
          message:
            'That token is not valid here (unknown, or a session that ended): sign in again or send another "Authorization: Bearer <token>".',
        }),
      );
      return;
    }
    const limit = ctx === 'anonymous' ? MAX_ANONYMOUS_BODY_BYTES : MAX_BODY_BYTES;
    const tooBig = () =>
      refuseEarly(
        req,
        res,
        413,
        errorBody('INVALID_ARGUMENT', `The request is larger than ${limit} bytes.`),
      );
    if (Number(req.headers['content-length'] ?? 0) > limit) {
      tooBig();
      return;
    }
    const body = await readBody(req, limit);
    if (body === null) {
      tooBig();
      return;
    }
    if (ctx === 'anonymous' && !onlyPublic(body)) {
      sendJson(
        res,
        401,
        rpcErrorFor(body, {
          code: 'UNAUTHENTICATED',
          message:
            'Sign in first (auth.challenge, then auth.signIn), or send a gateway token as "Authorization: Bearer <token>".',
        }),
      );
      return;
    }
    const out = await handleRpcText(
      body,
      ctx === 'anonymous' ? { roles: [], account: null } : ctx,
      dispatch,
    );
    if (out === null) {
      res.writeHead(204).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    res.end(out);
  }

  function serveStatic(pathname: string, res: ServerResponse, host: string): void {
    if (!staticRoot || !existsSync(join(staticRoot, 'index.html'))) {
      res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(
        'The BitStable UI is not built. Run `npm run headless` (it builds it) or `npx electron-vite build`.\n',
      );
      return;
    }
    let rel: string;
    try {
      rel = decodeURIComponent(pathname);
    } catch {
      rel = '/';
    }
    let file = resolve(staticRoot, `.${rel}`);
    if (file !== staticRoot && !file.startsWith(staticRoot + sep))
      file = join(staticRoot, 'index.html');
    if (!existsSync(file) || !statSync(file).isFile()) {
      // Unknown paths without an extension are app routes: serve the app.
      if (extname(rel)) {
        sendJson(res, 404, errorBody('INVALID_ARGUMENT', 'Not found.'));
        return;
      }
      file = join(staticRoot, 'index.html');
    }
    const immutable = file.includes(`${sep}assets${sep}`);
    res.writeHead(200, {
      'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Security-Policy': cspFor(host),
      'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    createReadStream(file).pipe(res);
  }

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_BODY_BYTES,
    handleProtocols: (protocols) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgrade(req, socket, head).catch((err: unknown) => {
      log?.error({ err }, 'WebSocket upgrade failed');
      socket.destroy();
    });
  });
  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = { pathname: pathOf(req) };
    const refuse = (status: number, error: ApiError) => {
      const body = JSON.stringify({ error });
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    };
    if (url.pathname !== '/rpc')
      return refuse(404, { code: 'INVALID_ARGUMENT', message: 'The API is at /rpc.' });
    if (!hostOk(req))
      return refuse(421, {
        code: 'FORBIDDEN',
        message: 'This gateway answers only to its loopback address.',
      });
    // A browser always sends Origin: only the gateway's own pages may open the API socket.
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins().has(origin)) {
      log?.warn({ origin }, 'refused a WebSocket from a foreign origin');
      return refuse(403, {
        code: 'FORBIDDEN',
        message: `WebSocket connections from ${origin.slice(0, 100)} are refused.`,
      });
    }
    const presented = presentedOf(req);
    const ctx = await contextOfCredential(presented);
    if (!known(ctx))
      return refuse(401, {
        code: 'UNAUTHENTICATED',
        message:
          'A valid gateway token or session is needed to open the API socket (sign in with POST /rpc first).',
      });
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, ctx, presented!));
  }

  /** Each socket and the credential it opened with: a revoked token or ended session closes it. */
  const credentials = new Map<WebSocket, string>();
  const stillValid = async (presented: string) => known(await contextOfCredential(presented));
  const endSocket = (ws: WebSocket) =>
    ws.close(4001, 'Your token was revoked or your session ended: sign in again.');
  const sweep = setInterval(() => {
    void (async () => {
      for (const [ws, presented] of credentials) if (!(await stillValid(presented))) endSocket(ws);
    })().catch((err: unknown) => log?.warn({ err }, 'checking open sockets’ sessions failed'));
  }, 5_000);
  sweep.unref();
  /** Replies each socket still owes; one whose session ended closes once they are sent. */
  const inFlight = new Map<WebSocket, number>();
  const endAfterReplies = new Set<WebSocket>();
  function endSocketsOf(presented: string): void {
    for (const [ws, p] of credentials) {
      if (p !== presented) continue;
      if (inFlight.get(ws)) endAfterReplies.add(ws);
      else endSocket(ws);
    }
  }

  function onConnection(ws: WebSocket, ctx: CallContext, presented: string): void {
    credentials.set(ws, presented);
    const unsubscribe = api.subscribe((event) => {
      if (ws.readyState === ws.OPEN) ws.send(eventFrame(event));
    }, ctx);
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      onMessage(data).catch((err: unknown) => {
        log?.error({ err }, 'WebSocket message failed');
        ws.close(1011, 'The node could not check your session; connect again.');
      });
    });
    const onMessage = async (data: WebSocket.RawData) => {
      // Checked on every message, not only at the upgrade: a socket outlives no revocation.
      if (!(await stillValid(presented))) return endSocket(ws);
      inFlight.set(ws, (inFlight.get(ws) ?? 0) + 1);
      void handleRpcText(data.toString(), ctx, dispatch).then((out) => {
        const left = inFlight.get(ws)! - 1;
        if (left > 0) inFlight.set(ws, left);
        else inFlight.delete(ws);
        if (out !== null && ws.readyState === ws.OPEN) ws.send(out);
        // The reply to a sign-out (and to anything in flight beside it) goes out first.
        if (left === 0 && endAfterReplies.delete(ws) && ws.readyState === ws.OPEN) endSocket(ws);
      });
    };
    const done = () => {
      credentials.delete(ws);
      inFlight.delete(ws);
      endAfterReplies.delete(ws);
      unsubscribe();
    };
    ws.on('close', done);
    ws.on('error', done);
  }

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new BitStableError(
              'INVALID_CONFIG',
              `Port ${options.port} on ${host} is already in use. Pick another with --port.`,
              { port: options.port },
            )
          : err,
      ),
    );
    server.listen(options.port, host, () => resolveListen());
  });
  // Slow or idle clients hold nothing for long, and no address may hold every socket.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.maxConnections = options.maxConnections ?? 4_096;
  const perHost = options.maxConnectionsPerHost ?? 1_500;
  const openFrom = new Map<string, number>();
  server.on('connection', (socket) => {
    const from = socket.remoteAddress ?? '?';
    const n = (openFrom.get(from) ?? 0) + 1;
    if (n > perHost) {
      log?.warn({ from, open: n - 1 }, 'refused a connection: too many open from one address');
      socket.destroy();
      return;
    }
    openFrom.set(from, n);
    socket.once('close', () => {
      const left = (openFrom.get(from) ?? 1) - 1;
      if (left > 0) openFrom.set(from, left);
      else openFrom.delete(from);
    });
  });
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : options.port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const gateway: Gateway = {
    url: `http://${shownHost}:${port}`,
    port,
    host,
    async close() {
      clearInterval(sweep);
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  // Logins must name the address wallets reach this node at (see core/accounts/login.ts).
  if (options.core) {
    for (const h of allowedHosts()) options.core.accounts.addOrigin(`http://${h}`);
    for (const u of options.publicUrls ?? []) options.core.accounts.addOrigin(u);
  }
  log?.info({ url: gateway.url }, 'gateway listening');
  return gateway;
}

/**
 * An event's JSON-RPC notification, serialized once however many sockets it goes to (the same
 * event object reaches every subscriber; 1,000 wallets would otherwise mean 1,000 stringifies).
 */
const frames = new WeakMap<object, string>();
function eventFrame(event: ApiEvent): string {
  let frame = frames.get(event);
  if (frame === undefined) {
    frame = JSON.stringify({ jsonrpc: '2.0', method: 'event', params: event });
    frames.set(event, frame);
  }
  return frame;
}

/** The request's path without the query, with repeated slashes collapsed. */
function pathOf(req: IncomingMessage): string {
  const raw = (req.url ?? '/').split(/[?#]/)[0] ?? '/';
  return raw.replace(/\/{2,}/g, '/') || '/';
}

/**
 * True when a request without a token asks only for what needs none (sign-in). Anything else,
 * and anything unreadable, is answered 401 at once; the dispatcher would refuse it anyway.
 */
function onlyPublic(body: string): boolean {
  try {
    const parsed = JSON.parse(body) as unknown;
    const calls = Array.isArray(parsed) ? parsed : [parsed];
    return (
      calls.length > 0 &&
      calls.every((c) => {
        const m = (c as { method?: unknown } | null)?.method;
        return isMethodName(m) && API[m].permission === 'Public';
      })
    );
  } catch {
    return false;
  }
}

function errorBody(code: ApiError['code'], message: string) {
  return { error: { code, message } };
}

/** A JSON-RPC error reply for a request refused before dispatch (keeps its id when it has one). */
function rpcErrorFor(body: string, error: ApiError) {
  let id: string | number | null = null;
  try {
    const parsed = JSON.parse(body) as { id?: unknown };
    if (typeof parsed?.id === 'string' || typeof parsed?.id === 'number') id = parsed.id;
  } catch {
    id = null;
  }
  return {
    jsonrpc: '2.0',
    id,
    error: { code: -32001, message: error.message, data: { code: error.code } },
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

/** The body, or null as soon as it passes `limit` (the rest is not read). */
function readBody(req: IncomingMessage, limit: number): Promise<string | null> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size <= limit) return void chunks.push(c);
      req.off('data', onData);
      req.pause();
      resolveBody(null);
    };
    req.on('data', onData);
    req.on('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Answers at once and closes the connection, leaving whatever body is still coming unread. */
function refuseEarly(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: unknown,
): void {
  res.setHeader('Connection', 'close');
  sendJson(res, status, body);
  res.once('finish', () => req.socket.destroySoon?.() ?? req.socket.end());
}

/** A request the client abandoned (reset, aborted): logged at debug, not as a failure. */
function aborted(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === 'ECONNRESET' || code === 'ECONNABORTED' || (err as Error)?.message === 'aborted';
}

const STATUS_TEXT: Record<number, string> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  421: 'Misdirected Request',
};

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};
