/**
 * Gateway behaviours a security review wants to keep holding, each pinned by a test:
 *   - `Origin: null` is refused like any foreign origin, on POST /rpc and on the WebSocket;
 *   - bodies a cross-site form can send (text/plain, urlencoded) are refused with 415;
 *   - tokens are never read from the query string;
 *   - batches hold 1 to 50 calls; a 1,000,000-deep array and a body over 4 MB (with a valid
 *     token) are answered and the gateway keeps serving; 300 slowloris sockets starve no one;
 *   - token comparison is constant-time per entry;
 *   - on a real node: roles are checked per call inside a batch, and method names and params
 *     that a careless object lookup would find (`__proto__`, `constructor`) change nothing.
 * Most of these need no node: they run against a gateway over a stub API that records calls.
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createApiService, type ApiService } from '../../core/api/dispatcher';
import { logicalHash } from '../../core/db/snapshot';
import { startGateway, WS_PROTOCOL, type Gateway } from '../../core/gateway/server';
import { matchToken, newToken, type TokenEntry } from '../../core/gateway/tokens';
import { useBitStableNode } from '../helpers/app';

const TEST_MS = 20_000;

/** Every client socket a test opens, destroyed in afterAll whatever happened. */
const sockets = new Set<Socket | WebSocket>();
afterAll(() => {
  for (const s of sockets) {
    if (s instanceof WebSocket) s.terminate();
    else s.destroy();
  }
  sockets.clear();
});

interface RpcAnswer {
  jsonrpc?: string;
  id?: unknown;
  result?: unknown;
  error?: { code: number | string; message: string; data?: { code: string } };
}

/** POSTs `body` (a string as is, anything else as JSON) to `url`/rpc. */
async function postRpc(
  url: string,
  body: unknown,
  headers: Record<string, string>,
  path = '/rpc',
): Promise<{ status: number; body: RpcAnswer | RpcAnswer[] }> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: (await res.json()) as RpcAnswer | RpcAnswer[] };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const call = (id: number, method: string, params: unknown = {}) => ({
  jsonrpc: '2.0',
  id,
  method,
  params,
});

/** Opens a WebSocket; resolves with it open, or with the refusal's status and body. */
function openSocket(
  url: string,
  protocols: string[],
  headers: Record<string, string> = {},
): Promise<WebSocket | { status: number; body: { error: { code: string } } }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers });
    sockets.add(ws);
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) }));
    });
    ws.once('error', reject);
  });
}

/** Sends one frame on an open socket and resolves with the next answer. */
function askSocket(ws: WebSocket, text: string): Promise<RpcAnswer | RpcAnswer[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no answer on the socket')), 10_000);
    ws.once('message', (d) => {
      clearTimeout(timer);
      resolve(JSON.parse(d.toString()) as RpcAnswer | RpcAnswer[]);
    });
    ws.send(text);
  });
}

/**
 * Writes `head` on a raw connection (then `more`, if given, chunk by chunk) and resolves with
 * everything the server sent once it closes, or after `ms`.
 */
function raw(
  port: number,
  head: string,
  more?: (sock: Socket) => void,
  ms = 10_000,
): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const sock = connect(port, '127.0.0.1', () => {
      sock.write(head);
      more?.(sock);
    });
    sockets.add(sock);
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(text);
    }, ms);
    sock.on('data', (d) => (text += d.toString('latin1')));
    // The server may close while we still write (an early refusal): EPIPE/ECONNRESET are fine.
    sock.on('error', () => undefined);
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
}

describe('the gateway over a stub API (no node)', () => {
  const viewer: TokenEntry = { label: 'viewer', roles: ['viewer'], token: newToken() };
  const calls: string[] = [];
  const api: ApiService = {
    dispatch: async (method) => {
      calls.push(method);
      return { ok: true, result: {} as never };
    },
    subscribe: () => () => undefined,
    emit: () => undefined,
    close: () => undefined,
  };
  let gw: Gateway | undefined;
  const g = () => {
    if (!gw) throw new Error('the gateway did not start; see the beforeAll error');
    return gw;
  };
  const wsUrl = (suffix = '') => `${g().url.replace('http', 'ws')}/rpc${suffix}`;
  /** The gateway still answers an ordinary call with a valid token. */
  const stillServes = async () => {
    const before = calls.length;
    const r = await postRpc(g().url, call(9, 'status.get'), bearer(viewer.token));
    expect(r).toEqual({ status: 200, body: { jsonrpc: '2.0', id: 9, result: {} } });
    expect(calls.length).toBe(before + 1);
    expect((await fetch(`${g().url}/health`, { signal: AbortSignal.timeout(5_000) })).status).toBe(
      200,
    );
  };

  beforeAll(async () => {
    gw = await startGateway({ api, tokens: [viewer], port: 0 });
  });
  afterAll(async () => {
    await gw?.close();
  });
  beforeEach(() => {
    calls.length = 0;
  });

  it(
    'refuses the literal "Origin: null" (and look-alike origins) with 403 on POST /rpc and on the WebSocket',
    async () => {
      const { port } = g();
      const origins = [
        'null',
        'http://127.0.0.1.evil.example',
        `http://evil.example:${port}`,
        `https://127.0.0.1:${port}`,
        `http://127.0.0.1:${port + 1}`,
      ];
      for (const origin of origins) {
        const posted = await postRpc(g().url, call(1, 'status.get'), {
          ...bearer(viewer.token),
          origin,
        });
        expect({ origin, status: posted.status }).toEqual({ origin, status: 403 });
        expect((posted.body as { error: { code: string } }).error.code).toBe('FORBIDDEN');
        const upgraded = await openSocket(wsUrl(), [WS_PROTOCOL, `bearer.${viewer.token}`], {
          origin,
        });
        expect(upgraded instanceof WebSocket, origin).toBe(false);
        expect({ origin, refused: upgraded }).toMatchObject({
          origin,
          refused: { status: 403, body: { error: { code: 'FORBIDDEN' } } },
        });
      }
      expect(calls).toEqual([]);
      // The gateway's own origin still gets in.
      const own = await openSocket(wsUrl(), [WS_PROTOCOL, `bearer.${viewer.token}`], {
        origin: g().url,
      });
      expect(own).toBeInstanceOf(WebSocket);
      (own as WebSocket).close();
    },
    TEST_MS,
  );

  it(
    'refuses text/plain and application/x-www-form-urlencoded bodies on POST /rpc with 415',
    async () => {
      const json = JSON.stringify(call(1, 'status.get'));
      for (const type of [
        'text/plain',
        'text/plain;charset=UTF-8',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
      ]) {
        const r = await postRpc(g().url, json, { ...bearer(viewer.token), 'content-type': type });
        expect({ type, status: r.status }).toEqual({ type, status: 415 });
        expect((r.body as { error: { code: string } }).error.code).toBe('INVALID_ARGUMENT');
      }
      // What a cross-site <form> posts: a urlencoded body, no custom header.
      const form = await fetch(`${g().url}/rpc`, {
        method: 'POST',
        headers: bearer(viewer.token),
        body: new URLSearchParams({ [json]: '' }),
        signal: AbortSignal.timeout(5_000),
      });
      expect(form.status).toBe(415);
      await form.arrayBuffer();
      expect(calls).toEqual([]);
    },
    TEST_MS,
  );

  it(
    'never takes a token from the query string: /rpc?token= and ?access_token= stay 401',
    async () => {
      const t = encodeURIComponent(viewer.token);
      for (const query of [`?token=${t}`, `?access_token=${t}`, `?bearer=${t}`]) {
        const posted = await postRpc(g().url, call(1, 'status.get'), {}, `/rpc${query}`);
        expect({ query, status: posted.status }).toEqual({ query, status: 401 });
        expect((posted.body as RpcAnswer).error?.data?.code).toBe('UNAUTHENTICATED');
        const upgraded = await openSocket(wsUrl(query), [WS_PROTOCOL], { origin: g().url });
        expect(upgraded instanceof WebSocket, query).toBe(false);
        expect(upgraded).toMatchObject({
          status: 401,
          body: { error: { code: 'UNAUTHENTICATED' } },
        });
        const metrics = await fetch(`${g().url}/metrics${query}`);
        expect(metrics.status).toBe(401);
        await metrics.arrayBuffer();
      }
      expect(calls).toEqual([]);
    },
    TEST_MS,
  );

  it(
    'refuses a batch of 51 (over HTTP and the WebSocket) without running any of it, and runs 50',
    async () => {
      const batch = (n: number) => Array.from({ length: n }, (_, i) => call(i + 1, 'status.get'));
      const over = await postRpc(g().url, batch(51), bearer(viewer.token));
      expect(over.status).toBe(200);
      expect(Array.isArray(over.body)).toBe(false);
      expect((over.body as RpcAnswer).error).toMatchObject({
        code: -32602,
        data: { code: 'INVALID_ARGUMENT' },
      });
      expect((over.body as RpcAnswer).error!.message).toMatch(/1 to 50/);
      const huge = await postRpc(g().url, batch(5_000), bearer(viewer.token));
      expect((huge.body as RpcAnswer).error?.data?.code).toBe('INVALID_ARGUMENT');
      expect(calls).toEqual([]);

      const ws = await openSocket(wsUrl(), [WS_PROTOCOL, `bearer.${viewer.token}`], {
        origin: g().url,
      });
      expect(ws).toBeInstanceOf(WebSocket);
      const overWs = await askSocket(ws as WebSocket, JSON.stringify(batch(51)));
      expect((overWs as RpcAnswer).error?.data?.code).toBe('INVALID_ARGUMENT');
      expect(calls).toEqual([]);
      (ws as WebSocket).close();

      const fifty = await postRpc(g().url, batch(50), bearer(viewer.token));
      expect(fifty.status).toBe(200);
      expect((fifty.body as RpcAnswer[]).map((a) => a.id)).toEqual(batch(50).map((c) => c.id));
      expect(calls).toHaveLength(50);
    },
    TEST_MS,
  );

  it(
    'answers a 1,000,000-deep JSON array with a typed error (HTTP and WebSocket) and keeps serving',
    async () => {
      const depth = 1_000_000;
      const deep = '['.repeat(depth) + ']'.repeat(depth);
      const started = performance.now();
      const r = await postRpc(g().url, deep, bearer(viewer.token));
      expect(r.status).toBe(200);
      const answer = (Array.isArray(r.body) ? r.body[0] : r.body)!;
      expect(answer.error?.data?.code).toBe('INVALID_ARGUMENT');
      expect([-32700, -32600]).toContain(answer.error?.code);
      expect(performance.now() - started).toBeLessThan(10_000);
      await stillServes();

      const ws = await openSocket(wsUrl(), [WS_PROTOCOL, `bearer.${viewer.token}`], {
        origin: g().url,
      });
      expect(ws).toBeInstanceOf(WebSocket);
      const overWs = await askSocket(ws as WebSocket, deep);
      expect((Array.isArray(overWs) ? overWs[0] : overWs)?.error?.data?.code).toBe(
        'INVALID_ARGUMENT',
      );
      (ws as WebSocket).close();
      expect(calls).toEqual(['status.get']);
      await stillServes();
    },
    TEST_MS,
  );

  it(
    'answers a body over 4 MB with a valid token with 413 (declared or streamed), and still takes exactly 4 MB',
    async () => {
      const { port } = g();
      const limit = 4 * 1024 * 1024;
      const head = (extra: string) =>
        `POST /rpc HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nAuthorization: Bearer ${viewer.token}\r\n${extra}\r\n`;
      // Declared: refused on the headers, before any of the body is sent.
      const declared = await raw(port, head(`Content-Length: ${limit + 1}\r\n`));
      expect(declared).toMatch(/^HTTP\/1\.1 413 /);
      expect(declared).toContain('"INVALID_ARGUMENT"');
      // Streamed without a length: refused once it passes 4 MB.
      const chunk = Buffer.alloc(256 * 1024, 0x20);
      const streamed = await raw(port, head('Transfer-Encoding: chunked\r\n'), (sock) => {
        let sent = 0;
        const pump = () => {
          while (sent <= limit + chunk.length && !sock.destroyed) {
            sent += chunk.length;
            if (!sock.write(`${chunk.length.toString(16)}\r\n${chunk.toString('latin1')}\r\n`))
              return void sock.once('drain', pump);
          }
        };
        pump();
      });
      expect(streamed).toMatch(/^HTTP\/1\.1 413 /);
      expect(calls).toEqual([]);

      // Exactly the limit is not too big: a call padded with spaces to 4 MB is answered.
      const json = JSON.stringify(call(3, 'status.get'));
      const padded = json + ' '.repeat(limit - Buffer.byteLength(json));
      expect(Buffer.byteLength(padded)).toBe(limit);
      const fits = await postRpc(g().url, padded, bearer(viewer.token));
      expect(fits).toEqual({ status: 200, body: { jsonrpc: '2.0', id: 3, result: {} } });
      await stillServes();
    },
    TEST_MS,
  );

  it(
    'keeps answering while 300 slowloris sockets drip a header, and every one of them is closed after',
    async () => {
      const { port } = g();
      const slow: Socket[] = [];
      let answered = 0;
      for (let i = 0; i < 300; i++) {
        const s = connect(port, '127.0.0.1');
        sockets.add(s);
        s.on('error', () => undefined);
        s.on('data', () => answered++);
        slow.push(s);
      }
      await Promise.all(
        slow.map((s) => new Promise<void>((resolve) => s.once('connect', () => resolve()))),
      );
      for (const s of slow) s.write(`GET /health HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`);
      let n = 0;
      const drip = setInterval(() => {
        n++;
        for (const s of slow) if (!s.destroyed) s.write(`X-Slow-${n}: a\r\n`);
      }, 200);
      try {
        for (let round = 0; round < 5; round++) {
          const started = performance.now();
          await stillServes();
          // Well under the 10 s headers timeout: answered beside the slow sockets, not after
          // the server gave up on them.
          expect(performance.now() - started).toBeLessThan(5_000);
          await new Promise((r) => setTimeout(r, 300));
        }
        // The slow sockets were really held open all along (none was answered or dropped).
        expect(slow.filter((s) => s.destroyed)).toHaveLength(0);
        expect(answered).toBe(0);
        expect(n).toBeGreaterThanOrEqual(5);
      } finally {
        clearInterval(drip);
        for (const s of slow) s.destroy();
      }
      await Promise.all(
        slow.map((s) =>
          s.closed ? undefined : new Promise<void>((resolve) => s.once('close', () => resolve())),
        ),
      );
      expect(slow.every((s) => s.destroyed && s.closed)).toBe(true);
      for (const s of slow) sockets.delete(s);
      await stillServes();
    },
    TEST_MS,
  );
});

describe('token comparison', () => {
  it('finds the one right entry among many, and refuses a prefix, an extension or a near miss', () => {
    const entries: TokenEntry[] = Array.from({ length: 1_000 }, (_, i) => ({
      label: `t${i}`,
      roles: ['viewer'],
      token: newToken(),
    }));
    for (const i of [0, 1, 499, 998, 999]) {
      const token = entries[i]!.token;
      expect(matchToken(entries, token)).toBe(entries[i]);
      for (const wrong of [
        token.slice(0, -1),
        token.slice(0, 8),
        token.slice(1),
        `${token}x`,
        `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`,
        token.toUpperCase() === token ? token.toLowerCase() : token.toUpperCase(),
        ` ${token}`,
      ])
        expect(matchToken(entries, wrong)).toBeNull();
    }
    expect(matchToken(entries, '')).toBeNull();
    expect(matchToken(entries, null)).toBeNull();
    expect(matchToken([], entries[0]!.token)).toBeNull();
  });

  it('compares with timingSafeEqual over SHA-256 digests, every entry, with no early exit', () => {
    const source = readFileSync(new URL('../../core/gateway/tokens.ts', import.meta.url), 'utf8');
    const fn = /export function matchToken\([\s\S]*?\n\}/.exec(source)?.[0];
    expect(fn, 'matchToken is in core/gateway/tokens.ts').toBeDefined();
    const digest =
      /const (\w+) = \(s: string\) => createHash\('sha256'\)\.update\(s\)\.digest\(\);/.exec(
        source,
      );
    expect(digest, 'a SHA-256 digest helper').not.toBeNull();
    const d = digest![1]!;
    expect(fn).toMatch(new RegExp(`timingSafeEqual\\(${d}\\(t\\.token\\), \\w+\\)`));
    expect(fn).toMatch(new RegExp(`= ${d}\\(presented\\)`));
    // No string comparison of tokens, and the loop runs over every entry: it remembers the
    // match and returns after the loop, never from inside it.
    expect(fn).not.toMatch(/===|!==|startsWith|localeCompare|\bbreak\b/);
    expect(fn).toMatch(/for \(const t of tokens\) if \(timingSafeEqual\([^\n]*\)\) found = t;\n/);
    expect(fn!.match(/\breturn\b[^;]*;/g)).toEqual(['return null;', 'return found;']);
  });
});

describe('the gateway on a real node', () => {
  const t = useBitStableNode();
  const admin: TokenEntry = { label: 'admin', roles: ['admin'], token: newToken() };
  const viewer: TokenEntry = { label: 'viewer', roles: ['viewer'], token: newToken() };
  let api: ApiService | undefined;
  let gw: Gateway | undefined;
  const g = () => {
    if (!gw) throw new Error('the gateway did not start; see the beforeAll error');
    return gw;
  };

  beforeAll(async () => {
    api = createApiService({ core: t().app });
    gw = await startGateway({ api, core: t().app, tokens: [admin, viewer], port: 0 });
  });
  afterAll(async () => {
    await gw?.close();
    api?.close();
  });

  it(
    "checks roles per call inside a viewer's mixed batch: the read is answered, the rest FORBIDDEN, nothing changes",
    async () => {
      const { app } = t();
      const before = logicalHash(app.db);
      const vaultCount = () => app.db.prepare('SELECT COUNT(*) FROM vaults').pluck().get();
      const vaultsBefore = vaultCount();
      const batch = [
        call(1, 'status.get'),
        call(2, 'vaults.create', { label: 'from a viewer' }),
        call(3, 'api.version'),
        call(4, 'regtest.mine', { blocks: 1 }),
      ];
      const check = (answers: RpcAnswer[]) => {
        const byId = new Map(answers.map((a) => [a.id, a]));
        expect([...byId.keys()].sort()).toEqual([1, 2, 3, 4]);
        expect(byId.get(1)!.result).toMatchObject({ network: 'regtest' });
        expect(byId.get(3)!.result).toMatchObject({ version: expect.any(Number) });
        for (const id of [2, 4]) {
          expect(byId.get(id)!.result).toBeUndefined();
          expect(byId.get(id)!.error).toMatchObject({ code: -32003, data: { code: 'FORBIDDEN' } });
        }
      };
      const http = await postRpc(g().url, batch, bearer(viewer.token));
      expect(http.status).toBe(200);
      check(http.body as RpcAnswer[]);

      const ws = await openSocket(
        `${g().url.replace('http', 'ws')}/rpc`,
        [WS_PROTOCOL, `bearer.${viewer.token}`],
        { origin: g().url },
      );
      expect(ws).toBeInstanceOf(WebSocket);
      check((await askSocket(ws as WebSocket, JSON.stringify(batch))) as RpcAnswer[]);
      (ws as WebSocket).close();

      expect(logicalHash(app.db)).toBe(before);
      expect(vaultCount()).toBe(vaultsBefore);
    },
    TEST_MS,
  );

  it(
    'refuses __proto__, constructor and toString as methods, and __proto__ params, with typed errors; nothing changes',
    async () => {
      const { app } = t();
      const before = logicalHash(app.db);
      const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];
      for (const method of names) {
        const r = await postRpc(g().url, call(1, method), bearer(admin.token));
        expect({ method, status: r.status }).toEqual({ method, status: 200 });
        expect((r.body as RpcAnswer).error, method).toMatchObject({
          code: -32601,
          data: { code: 'METHOD_NOT_FOUND' },
        });
      }
      // As JSON text: `{"__proto__": ...}` is an own key once parsed, never the prototype.
      const bodies = [
        '{"jsonrpc":"2.0","id":1,"method":"status.get","params":{"__proto__":{"admin":true}}}',
        '{"jsonrpc":"2.0","id":1,"method":"vaults.create","params":{"__proto__":{"label":"pwned"}}}',
        '{"jsonrpc":"2.0","id":1,"method":"vaults.create","params":{"label":"x","__proto__":{"roles":["admin"]}}}',
        '{"jsonrpc":"2.0","id":1,"method":"vaults.create","params":{"constructor":{"prototype":{"polluted":true}}}}',
        '{"jsonrpc":"2.0","id":1,"method":"vaults.list","params":{"__proto__":{"limit":1}}}',
        '{"jsonrpc":"2.0","id":1,"method":"status.get","params":"__proto__"}',
        '{"__proto__":{"jsonrpc":"2.0","method":"vaults.create"},"id":1}',
      ];
      for (const body of bodies) {
        for (const token of [admin.token, viewer.token]) {
          const r = await postRpc(g().url, body, bearer(token));
          expect({ body, status: r.status }).toEqual({ body, status: 200 });
          const err = (r.body as RpcAnswer).error;
          expect(err, body).toBeDefined();
          expect(['INVALID_ARGUMENT', 'FORBIDDEN'], body).toContain(err!.data?.code);
          if (token === admin.token) expect(err!.data?.code, body).toBe('INVALID_ARGUMENT');
        }
      }
      // Nothing leaked into any prototype of this process (the gateway runs in it).
      const probe = {} as Record<string, unknown>;
      expect(probe.admin).toBeUndefined();
      expect(probe.polluted).toBeUndefined();
      expect(probe.label).toBeUndefined();
      expect(logicalHash(app.db)).toBe(before);
      const still = await postRpc(g().url, call(2, 'status.get'), bearer(viewer.token));
      expect((still.body as RpcAnswer).result).toMatchObject({ network: 'regtest' });
    },
    TEST_MS,
  );
});
