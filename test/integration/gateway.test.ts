/**
 * The gateway over a real node on regtest: bad arguments, a missing or wrong token, and a token
 * without the role give typed errors and change nothing (the database's logical hash is the
 * same); WebSocket upgrades from a foreign Origin are refused; a good token gets calls and
 * pushed events; /health and /metrics answer.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import WebSocket from 'ws';
import { createApiService, type ApiService } from '../../core/api/dispatcher';
import type { ApiEvent } from '../../core/api/events';
import { logicalHash } from '../../core/db/snapshot';
import { isBitStableError } from '../../core/errors';
import { startHeadless } from '../../core/gateway/host';
import { startGateway, WS_PROTOCOL, type Gateway } from '../../core/gateway/server';
import { newToken, type TokenEntry } from '../../core/gateway/tokens';
import { request } from 'node:http';
import { connect } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startScript } from '../helpers/process';
import { setPrice, useBitStableNode } from '../helpers/app';

const t = useBitStableNode();
const tokens: Record<'admin' | 'viewer' | 'owner' | 'liquidator', TokenEntry> = {
  admin: { label: 'admin', roles: ['admin'], token: newToken() },
  viewer: { label: 'viewer', roles: ['viewer'], token: newToken() },
  owner: { label: 'owner', roles: ['owner'], token: newToken() },
  liquidator: { label: 'liquidator', roles: ['liquidator'], token: newToken() },
};
let api: ApiService;
let gw: Gateway;

beforeAll(async () => {
  const { app } = t();
  // The owner's token acts for the node's own account (an unbound non-admin token acts for none).
  tokens.owner.account = app.localAccountId;
  api = createApiService({ core: app });
  gw = await startGateway({ api, core: app, tokens: Object.values(tokens), port: 0 });
});
afterAll(async () => {
  await gw?.close();
  api?.close();
});

/** One JSON-RPC call over HTTP POST; returns the HTTP status and the body. */
async function post(
  method: string,
  params: unknown,
  token: string | null,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${gw.url}/rpc`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  return {
    status: res.status,
    body: (await res.json()) as {
      result?: unknown;
      error?: { code: number; message: string; data: { code: string } };
    },
  };
}

const codeOf = (r: { body: { error?: { data: { code: string } } } }) =>
  r.body.error?.data.code ?? 'ok';

/** Opens a WebSocket; resolves with it open, or rejects with the refusal's status and body. */
function openSocket(protocols: string[], headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${gw.url.replace('http', 'ws')}/rpc`, protocols, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () =>
        reject(
          Object.assign(new Error(`refused ${res.statusCode}`), {
            status: res.statusCode,
            body: JSON.parse(body),
          }),
        ),
      );
    });
    ws.once('error', reject);
  });
}

describe('the gateway on a real node', () => {
  it('serves a good token: creates a vault over HTTP and pushes events over the WebSocket', async () => {
    const { app } = t();
    const ws = await openSocket([WS_PROTOCOL, `bearer.${tokens.owner.token}`], { origin: gw.url });
    const events: ApiEvent[] = [];
    const answers: { id: number; result?: { id: number }; error?: unknown }[] = [];
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      if (m.method === 'event') events.push(m.params);
      else answers.push(m);
    });
    ws.send(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 5,
        method: 'vaults.create',
        params: { label: 'over ws' },
      }),
    );
    await expect.poll(() => answers.length, { timeout: 20_000 }).toBe(1);
    expect(answers[0]).toMatchObject({ id: 5, result: { label: 'over ws', state: 'pending' } });
    const vaultId = answers[0]!.result!.id;
    await expect
      .poll(() => events.some((e) => e.type === 'vault.created' && e.payload.vaultId === vaultId))
      .toBe(true);
    ws.close();
    expect((await app.vaults.getVault(vaultId)).label).toBe('over ws');

    const status = await post('status.get', {}, tokens.viewer.token);
    expect(status.body.result).toMatchObject({
      network: 'regtest',
      regtest: true,
      node: { online: true },
    });
  });

  it('refuses bad arguments, missing and wrong tokens, and tokens without the role — and nothing changes', async () => {
    const { app } = t();
    await setPrice(app, 5_000_000);
    const vault = await app.vaults.createVault({
      keySetId: app.keySetId,
      returnAddress: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
    });
    const before = logicalHash(app.db);

    const cases: [string, Awaited<ReturnType<typeof post>>, number, string][] = [
      [
        'text for an amount',
        await post('vaults.mint', { vaultId: vault.id, amountCents: '100' }, tokens.admin.token),
        200,
        'INVALID_ARGUMENT',
      ],
      [
        'a fractional amount',
        await post('vaults.mint', { vaultId: vault.id, amountCents: 1.5 }, tokens.admin.token),
        200,
        'INVALID_ARGUMENT',
      ],
      [
        'an unknown field',
        await post('vaults.create', { label: 'x', keySetId: 99 }, tokens.admin.token),
        200,
        'INVALID_ARGUMENT',
      ],
      [
        'a vault that does not exist',
        await post('vaults.mint', { vaultId: 99_999, amountCents: 100 }, tokens.admin.token),
        200,
        'VAULT_NOT_FOUND',
      ],
      [
        'minting on a pending vault',
        await post('vaults.mint', { vaultId: vault.id, amountCents: 10_000 }, tokens.admin.token),
        200,
        'VAULT_NOT_OPEN',
      ],
      [
        'a bad return address',
        await post('vaults.create', { returnAddress: 'bc1qnotregtest' }, tokens.admin.token),
        200,
        'INVALID_ADDRESS',
      ],
      [
        'an unknown method',
        await post('vaults.drain', {}, tokens.admin.token),
        200,
        'METHOD_NOT_FOUND',
      ],
      ['no token', await post('vaults.create', {}, null), 401, 'UNAUTHENTICATED'],
      ['a wrong token', await post('vaults.create', {}, newToken()), 401, 'UNAUTHENTICATED'],
      [
        'a viewer creating a vault',
        await post('vaults.create', {}, tokens.viewer.token),
        200,
        'FORBIDDEN',
      ],
      [
        'a viewer minting',
        await post('vaults.mint', { vaultId: vault.id, amountCents: 10_000 }, tokens.viewer.token),
        200,
        'FORBIDDEN',
      ],
      [
        'a viewer mining',
        await post('regtest.mine', { blocks: 1 }, tokens.viewer.token),
        200,
        'FORBIDDEN',
      ],
      [
        'a viewer setting the price',
        await post('regtest.setPrice', { priceCents: 1 }, tokens.viewer.token),
        200,
        'FORBIDDEN',
      ],
      [
        'an owner taking an auction',
        await post(
          'auctions.take',
          { auctionId: 1, maxSats: 1, maxPriceCents: 1, btcAddress: 'x' },
          tokens.owner.token,
        ),
        200,
        'FORBIDDEN',
      ],
    ];
    for (const [what, res, status, code] of cases) {
      expect({ what, status: res.status, code: codeOf(res) }).toEqual({ what, status, code });
      expect(res.body.error!.message, what).toMatch(/^["A-Z].*[.)]$/);
    }
    expect(logicalHash(app.db)).toBe(before);

    // The same over the WebSocket: no token or a wrong one is refused before the upgrade.
    for (const protocols of [[WS_PROTOCOL], [WS_PROTOCOL, `bearer.${newToken()}`]]) {
      const err = (await openSocket(protocols).catch((e: unknown) => e)) as {
        status: number;
        body: { error: { code: string } };
      };
      expect(err.status).toBe(401);
      expect(err.body.error.code).toBe('UNAUTHENTICATED');
    }
    expect(logicalHash(app.db)).toBe(before);
  });

  it("refuses WebSocket upgrades and calls from another site's Origin, and a foreign Host", async () => {
    const err = (await openSocket([WS_PROTOCOL, `bearer.${tokens.admin.token}`], {
      origin: 'https://evil.example',
    }).catch((e: unknown) => e)) as {
      status: number;
      body: { error: { code: string } };
    };
    expect(err.status).toBe(403);
    expect(err.body.error.code).toBe('FORBIDDEN');
    const ok = await openSocket([WS_PROTOCOL, `bearer.${tokens.admin.token}`], {
      origin: gw.url.replace('127.0.0.1', 'localhost'),
    });
    ok.close();

    const cross = await post('status.get', {}, tokens.admin.token, {
      origin: 'https://evil.example',
    });
    expect(cross.status).toBe(403);
    // A page on another name that resolves to 127.0.0.1 (DNS rebinding) sends its own Host.
    const rebinding = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: gw.port, path: '/health', headers: { host: 'evil.example' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(rebinding).toBe(421);
  });

  it('answers /health with every part and /metrics in Prometheus text (with a token)', async () => {
    // Without a token: up or down, nothing about the network, the height or the price.
    const bare = await fetch(`${gw.url}/health`);
    expect(bare.status).toBe(200);
    expect(Object.keys((await bare.json()) as object)).toEqual(['status']);
    const health = await fetch(`${gw.url}/health`, {
      headers: { authorization: `Bearer ${tokens.viewer.token}` },
    });
    expect(health.status).toBe(200);
    const report = (await health.json()) as {
      status: string;
      parts: Record<string, { status: string }>;
    };
    expect(['ok', 'degraded']).toContain(report.status);
    expect(Object.keys(report.parts)).toEqual(
      expect.arrayContaining(['node', 'database', 'oracle', 'oracle.simulated', 'lastBlock']),
    );
    expect(report.parts.node!.status).toBe('ok');
    expect(report.parts.database!.status).toBe('ok');

    expect((await fetch(`${gw.url}/metrics`)).status).toBe(401);
    const metrics = await fetch(`${gw.url}/metrics`, {
      headers: { authorization: `Bearer ${tokens.viewer.token}` },
    });
    const text = await metrics.text();
    expect(metrics.headers.get('content-type')).toMatch(/text\/plain/);
    for (const name of [
      'bitstable_vaults{state="pending"}',
      'bitstable_collateral_sats',
      'bitstable_liquidations',
      'bitstable_block_height',
      'bitstable_api_request_duration_seconds_bucket',
    ]) {
      expect(text).toContain(name);
    }
  });

  it("/metrics counts each oracle source's answers by outcome and each round by result", async () => {
    const { app } = t();
    const scrape = async () =>
      (
        await fetch(`${gw.url}/metrics`, {
          headers: { authorization: `Bearer ${tokens.viewer.token}` },
        })
      ).text();
    const count = (text: string, series: string) =>
      Number(new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    const before = await scrape();
    await setPrice(app, 4_400_000);
    app.simulated!.setFailure(new Error('exchange down'));
    await app.oracle.runRound();
    await app.healthPasses;
    app.simulated!.setFailure(null);
    const after = await scrape();
    const used = 'bitstable_oracle_answers_total{source="simulated",outcome="used"}';
    expect(count(after, used) - count(before, used)).toBeGreaterThanOrEqual(1);
    expect(after).toMatch(
      /bitstable_oracle_answers_total\{source="simulated",outcome="error:[a-z-]+"\} [1-9]/,
    );
    const insufficient = 'bitstable_oracle_rounds_total{status="insufficient-sources"}';
    expect(count(after, insufficient) - count(before, insufficient)).toBe(1);
  });

  it('the headless host refuses a non-loopback bind before it starts anything', async () => {
    const logger = { info: () => {}, warn: () => {}, error: () => {} };
    const err = await startHeadless({
      dataDir: t().dataDir,
      network: 'regtest',
      port: 0,
      host: '0.0.0.0',
      logger,
    }).catch((e: unknown) => e);
    expect(isBitStableError(err, 'INVALID_CONFIG')).toBe(true);
    await expect(
      startGateway({ api, core: t().app, tokens: [], port: 0, host: '0.0.0.0' }),
    ).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
  });

  it('labels metrics by the contract only: 10,000 made-up method names from a viewer leave /metrics small', async () => {
    const scrape = async () =>
      (
        await fetch(`${gw.url}/metrics`, {
          headers: { authorization: `Bearer ${tokens.viewer.token}` },
        })
      ).text();
    const before = (await scrape()).length;
    for (let b = 0; b < 200; b++) {
      const batch = Array.from({ length: 50 }, (_, i) => ({
        jsonrpc: '2.0',
        id: i,
        method: `made.up.${b}.${i}`,
        params: {},
      }));
      const res = await fetch(`${gw.url}/rpc`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${tokens.viewer.token}`,
        },
        body: JSON.stringify(batch),
      });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    const after = await scrape();
    expect(after).not.toContain('made.up');
    expect(after).toContain('method="unknown"');
    expect(after.length - before).toBeLessThan(20_000);
  });

  it('refuses an unknown token and an oversized anonymous body before reading them, and caps connections per address', async () => {
    // Headers that promise 4 MB, then nothing: the answer comes without the body ever sent.
    const early = (headers: string) =>
      new Promise<string>((resolve, reject) => {
        const sock = connect(gw.port, '127.0.0.1', () =>
          sock.write(
            `POST /rpc HTTP/1.1\r\nHost: 127.0.0.1:${gw.port}\r\nContent-Type: application/json\r\nContent-Length: 4000000\r\n${headers}\r\n`,
          ),
        );
        let text = '';
        sock.on('data', (d) => (text += d.toString()));
        sock.on('close', () => resolve(text));
        sock.on('error', reject);
        setTimeout(() => reject(new Error('no answer before the body')), 5_000).unref();
      });
    expect(await early('Authorization: Bearer not-a-token\r\n')).toMatch(/^HTTP\/1\.1 401/);
    expect(await early('')).toMatch(/^HTTP\/1\.1 413/);

    // Forty bodies of 4 MB with a token nobody knows, at once, at a gateway in its own process:
    // refused, and that server's memory barely moves.
    const child = startScript('../test/fixtures/gateway-child.ts', []);
    const [, childUrl] = await child.waitFor(/Gateway: (http:\/\/\S+)/);
    const rssOf = () =>
      Number(
        /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.child.pid}/status`, 'utf8'))![1],
      ) * 1024;
    const rss = rssOf();
    const big = Buffer.alloc(4 * 1024 * 1024 - 1, 0x20);
    const results = await Promise.all(
      Array.from({ length: 40 }, () =>
        fetch(`${childUrl}/rpc`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer nobody' },
          body: big,
        }).then(
          (r) => r.status,
          () => 0, // the server may close before the client finished sending: also refused
        ),
      ),
    );
    expect(results.every((st) => st === 401 || st === 0)).toBe(true);
    const grew = rssOf() - rss;
    await child.stop();
    // Had the bodies been read, 40 × 4 MB would be 160 MB.
    expect(grew).toBeLessThan(40 * 1024 * 1024);

    // A gateway that allows 3 sockets from one address: the fourth is closed at once.
    const small = await startGateway({
      api,
      tokens: Object.values(tokens),
      port: 0,
      maxConnectionsPerHost: 3,
    });
    try {
      const open = () =>
        new Promise<ReturnType<typeof connect>>((resolve) => {
          const c = connect(small.port, '127.0.0.1', () => resolve(c));
        });
      const held = await Promise.all([open(), open(), open()]);
      const fourth = await open();
      await new Promise<void>((resolve) => fourth.once('close', () => resolve()));
      expect(fourth.destroyed).toBe(true);
      for (const c of held) expect(c.destroyed).toBe(false);
      for (const c of held) c.destroy();
    } finally {
      await small.close();
    }
  });

  it("serves the UI under the desktop window's policy, connecting only to itself", async () => {
    const staticDir = mkdtempSync(join(tmpdir(), 'bitstable-ui-'));
    writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>x</title>');
    const ui = await startGateway({ api, tokens: Object.values(tokens), port: 0, staticDir });
    try {
      const csp = (await fetch(`${ui.url}/`)).headers.get('content-security-policy')!;
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${ui.port};`);
      expect(csp).not.toContain('*');
      const byName = await new Promise<string>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: ui.port,
            path: '/',
            headers: { host: `localhost:${ui.port}` },
          },
          (res) => {
            res.resume();
            resolve(String(res.headers['content-security-policy']));
          },
        );
        req.on('error', reject);
        req.end();
      });
      expect(byName).toContain(`connect-src 'self' ws://localhost:${ui.port};`);
    } finally {
      await ui.close();
      rmSync(staticDir, { recursive: true, force: true });
    }
  });
});
