/**
 * Soak `input`: thousands of malformed, oversized and wrong-role calls through the real gateway
 * (HTTP and WebSocket, loopback only) against a real node on regtest. Every answer must be a typed
 * rejection (a known error code), the gateway must keep answering, and the database's logical
 * content must be byte-identical before and after.
 *
 *   soak input runs=<n> failures=<f> http=<n> ws=<n> codes=<k> db_identical=<bool> seconds=<s>
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import {
  API,
  METHOD_NAMES,
  ROLES,
  allows,
  type MethodName,
  type Role,
} from '../../core/api/contract';
import { createApiService } from '../../core/api/dispatcher';
import { API_ERROR_CODES } from '../../core/api/errors';
import { BitStableNode } from '../../core/app/bitstable-node';
import { logicalHash } from '../../core/db/snapshot';
import { startGateway, WS_PROTOCOL, WS_TOKEN_PREFIX } from '../../core/gateway/server';
import { newToken, type TokenEntry } from '../../core/gateway/tokens';
import { InMemoryKeyStore } from '../../core/keys/keystore';
import type { Cents, Sats } from '../../core/money';

import type { SoakOptions, SoakResult } from './lib/types';

/** The full soak: 10,000 calls (about 70 s). */
export const defaults = { runs: 10_000, seconds: 900 };

/** A small seeded generator, so a failing run can be replayed with its seed. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
  };
}

const KNOWN_CODES = new Set<string>(API_ERROR_CODES);
const MAINNET_ADDRESS = 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4';

/** Values of the wrong type or out of range for any field. */
function badValue(r: ReturnType<typeof rng>): unknown {
  return r.pick<() => unknown>([
    () => -1,
    () => 1.5,
    () => 1e308,
    () => -0.0000001,
    () => Number.MAX_SAFE_INTEGER + 2,
    () => 'NaN',
    () => '1; DROP TABLE vaults;--',
    () => 'x'.repeat(10_000 + r.int(90_000)),
    () => null,
    () => 'true',
    () => [],
    () => [1, 2, 3],
    () => ({ $gt: 0 }),
    // An own "__proto__" key, as JSON.parse makes it (a literal would set the prototype instead).
    () =>
      JSON.parse(
        '{"__proto__": {"admin": true}, "constructor": {"prototype": {"x": 1}}}',
      ) as unknown,
    () => '\u0000\uffff\ud800',
    () => '../../etc/passwd',
    () => MAINNET_ADDRESS,
  ])();
}

interface Call {
  kind: string;
  /** Raw body to POST, or a JSON-RPC request object. */
  body: string;
  token: string | null;
}

export type InputSoakOptions = Partial<SoakOptions>;

/** Runs the soak; prints its line; failures listed in `details`. */
export async function run(options: InputSoakOptions = {}): Promise<SoakResult> {
  const runs = options.runs ?? 10_000;
  const seed = options.seed ?? 20261124;
  const log = options.log ?? console.error;
  const started = Date.now();
  log(`input soak: seed ${seed}, ${runs} calls through the gateway`);
  const dataDir = mkdtempSync(join(tmpdir(), 'bitstable-soak-input-'));
  const details: string[] = [];
  const app = await BitStableNode.start({
    dataDir,
    network: 'regtest',
    keyStore: new InMemoryKeyStore(),
    backups: false,
  });
  const api = createApiService({ core: app });
  const tokens: Record<Role, TokenEntry> = Object.fromEntries(
    ROLES.map((role) => [role, { label: role, roles: [role], token: newToken() }]),
  ) as Record<Role, TokenEntry>;
  const gw = await startGateway({ api, core: app, tokens: Object.values(tokens), port: 0 });
  let http = 0;
  let ws = 0;
  const codes = new Set<string>();
  try {
    // Something to aim at: a funded vault with debt, a pending one, and a live auction.
    app.simulated!.setPrice(4_500_000 as Cents);
    await app.oracle.runRound();
    await app.healthPasses;
    const funded = await app.vaults.createVault({
      keySetId: app.keySetId,
      returnAddress: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
    });
    const pending = await app.vaults.createVault({
      keySetId: app.keySetId,
      returnAddress: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
    });
    await app.regtest!.miner.send(funded.address, 10_000_000 as Sats);
    await app.regtest!.miner.mine(1);
    await app.sync();
    await app.operations.mint(funded.id, 200_000);
    const destination = await app.regtest!.miner.newAddress();
    const before = logicalHash(app.db);

    const r = rng(seed);
    // Methods for which some "bad" values are good ones: any name is a playground account's
    // name ("NaN" included), and a null node address means "this computer".
    const ANY_VALUE_WORKS = new Set<MethodName>([
      'playground.addAccount',
      'settings.setProtocolNode',
    ]);
    const mutating = METHOD_NAMES.filter(
      (m) => API[m].permission !== 'Read' && API[m].permission !== 'Public',
    );
    // Sign-in is open to everyone: what needs a token is everything else.
    const needsToken = METHOD_NAMES.filter((m) => API[m].permission !== 'Public');
    const rpc = (method: unknown, params: unknown, id: unknown = r.int(1e6)) =>
      JSON.stringify({ jsonrpc: '2.0', id, method, params });
    // Schema-valid calls the core itself must refuse (unknown ids, rules, foreign addresses).
    const semantic: (() => [MethodName, unknown])[] = [
      () => ['vaults.get', { vaultId: 100_000 + r.int(1e6) }],
      () => ['vaults.mint', { vaultId: funded.id, amountCents: 10_000_000 + r.int(1e9) }],
      () => ['vaults.mint', { vaultId: pending.id, amountCents: 10_000 }],
      () => ['vaults.mint', { vaultId: 100_000 + r.int(1e6), amountCents: 10_000 }],
      () => ['vaults.repay', { vaultId: funded.id, amountCents: 200_001 + r.int(1e6) }],
      () => [
        'vaults.withdraw',
        { vaultId: funded.id, amountSats: 10_000_001 + r.int(1e8), destination },
      ],
      () => ['vaults.withdraw', { vaultId: pending.id, amountSats: 10_000, destination }],
      () => ['vaults.close', { vaultId: funded.id, destination }],
      () => ['vaults.emergencyExit', { vaultId: pending.id, destination }],
      () => [
        'auctions.take',
        { auctionId: 1 + r.int(1e6), maxSats: 100_000, maxPriceCents: 1, btcAddress: destination },
      ],
      () => ['auctions.get', { auctionId: 1 + r.int(1e6) }],
      () => ['psbt.decode', { psbtBase64: Buffer.from(`psbt\xff${r.next()}`).toString('base64') }],
      () => ['regtest.faucet', { address: destination, amountSats: 2_100_000_000_000_000 }],
    ];
    const generators: (() => Call)[] = [
      // Transport: not JSON, truncated, deep, oversized, empty and huge batches.
      () => ({
        kind: 'garbage',
        token: tokens.admin.token,
        body: Buffer.from(Array.from({ length: 1 + r.int(500) }, () => r.int(256))).toString(
          'latin1',
        ),
      }),
      () => ({
        kind: 'truncated',
        token: tokens.admin.token,
        body: rpc('vaults.list', {}).slice(0, 1 + r.int(30)),
      }),
      () => ({
        kind: 'deep',
        token: tokens.admin.token,
        body: '['.repeat(2_000 + r.int(20_000)) + ']'.repeat(10),
      }),
      () => ({
        kind: 'oversized',
        token: tokens.admin.token,
        body: rpc('vaults.create', { label: 'x'.repeat(4 * 1024 * 1024 + 10) }),
      }),
      () => ({
        kind: 'batch',
        token: tokens.admin.token,
        body:
          r.next() < 0.5
            ? '[]'
            : JSON.stringify(
                Array.from({ length: 51 }, () => ({
                  jsonrpc: '2.0',
                  id: 1,
                  method: 'status.get',
                  params: {},
                })),
              ),
      }),
      () => ({
        kind: 'envelope',
        token: tokens.admin.token,
        body: JSON.stringify(
          r.pick([
            { jsonrpc: '1.0', id: 1, method: 'status.get' },
            { id: 1, method: 42 },
            { jsonrpc: '2.0', id: {}, method: 'status.get', params: {} },
            'a string',
            17,
            null,
          ]),
        ),
      }),
      // Names that are no method, including what a careless lookup would find on an object.
      () => ({
        kind: 'method',
        token: tokens.admin.token,
        body: rpc(
          r.pick([
            '__proto__',
            'constructor',
            'toString',
            'hasOwnProperty',
            'vaults',
            'vaults.',
            'VAULTS.GET',
            'x'.repeat(5_000),
            '',
          ]),
          {},
        ),
      }),
      // Authentication and roles.
      () => ({ kind: 'no-token', token: null, body: rpc(r.pick(needsToken), {}) }),
      () => ({
        kind: 'wrong-token',
        token: r.pick([
          newToken(),
          tokens.admin.token.toUpperCase(),
          tokens.admin.token.slice(1),
          `${tokens.admin.token}x`,
          'Bearer',
        ]),
        body: rpc(r.pick(METHOD_NAMES), {}),
      }),
      () => {
        const m = r.pick(mutating);
        const role = r.pick(ROLES.filter((x) => !allows([x], API[m].permission)));
        return { kind: 'wrong-role', token: tokens[role].token, body: rpc(m, semantic[0]!()[1]) };
      },
      // Schema: an unknown field, or a bad value in a known one.
      () => ({
        kind: 'extra-field',
        token: tokens.admin.token,
        body: rpc(r.pick(METHOD_NAMES), { [`f${r.int(100)}`]: badValue(r) }),
      }),
      () => {
        const m = r.pick(
          METHOD_NAMES.filter(
            (x) =>
              Object.keys((API[x].params as { shape?: object }).shape ?? {}).length > 0 &&
              !ANY_VALUE_WORKS.has(x),
          ),
        );
        const fields = Object.keys((API[m].params as unknown as { shape: object }).shape);
        const params: Record<string, unknown> = {};
        for (const f of fields) params[f] = badValue(r);
        return {
          kind: 'bad-values',
          token: tokens.admin.token,
          body: rpc(m, r.next() < 0.1 ? badValue(r) : params),
        };
      },
      // Valid shapes the core must refuse.
      () => {
        const [m, params] = r.pick(semantic)();
        return { kind: 'semantic', token: tokens.admin.token, body: rpc(m, params) };
      },
    ];

    const check = (what: string, text: string, status: number) => {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        details.push(`${what}: HTTP ${status} answered with something that is not JSON`);
        return;
      }
      const answers = Array.isArray(body) ? body : [body];
      for (const a of answers as {
        result?: unknown;
        error?: { code?: unknown; data?: { code?: string } };
      }[]) {
        // JSON-RPC errors carry the code in error.data.code; HTTP-level refusals (413, 401) in error.code.
        const code =
          a?.error?.data?.code ?? (typeof a?.error?.code === 'string' ? a.error.code : undefined);
        if (!code || !KNOWN_CODES.has(code)) {
          details.push(
            `${what}: ${a && 'result' in a ? 'succeeded' : 'untyped answer'} ${text.slice(0, 160)}`,
          );
          continue;
        }
        codes.add(code);
      }
    };

    const post = async (call: Call) => {
      const res = await fetch(`${gw.url}/rpc`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(call.token ? { authorization: `Bearer ${call.token}` } : {}),
        },
        body: call.body,
        signal: AbortSignal.timeout(30_000),
      });
      http++;
      check(`${call.kind} (POST)`, await res.text(), res.status);
    };

    // One authenticated WebSocket takes a share of the calls as raw frames.
    const socket = await new Promise<WebSocket>((resolve, reject) => {
      const s = new WebSocket(
        `${gw.url.replace('http', 'ws')}/rpc`,
        [WS_PROTOCOL, `${WS_TOKEN_PREFIX}${tokens.admin.token}`],
        { headers: { origin: gw.url } },
      );
      s.once('open', () => resolve(s));
      s.once('error', reject);
    });
    const pendingWs = new Map<number, (text: string) => void>();
    socket.on('message', (data) => {
      const text = data.toString();
      const parsed = (() => {
        try {
          return JSON.parse(text) as { id?: unknown; type?: string };
        } catch {
          return null;
        }
      })();
      // Pushed events are notifications (no id); they answer no call.
      if (
        parsed &&
        typeof parsed === 'object' &&
        (parsed as { method?: unknown }).method === 'event'
      )
        return;
      const resolveFirst = pendingWs.values().next().value;
      const key = pendingWs.keys().next().value;
      if (resolveFirst !== undefined && key !== undefined) {
        pendingWs.delete(key);
        resolveFirst(text);
      }
    });
    const sendWs = (call: Call) =>
      new Promise<void>((resolve) => {
        const id = ws++;
        const timer = setTimeout(() => {
          pendingWs.delete(id);
          details.push(`${call.kind} (WS): no answer within 30 s`);
          resolve();
        }, 30_000);
        pendingWs.set(id, (text) => {
          clearTimeout(timer);
          check(`${call.kind} (WS)`, text, 0);
          resolve();
        });
        socket.send(call.body);
      });

    const wsKinds = new Set([
      'garbage',
      'truncated',
      'envelope',
      'method',
      'extra-field',
      'bad-values',
      'semantic',
    ]);
    let next = 0;
    const worker = async (lane: number) => {
      while (next < runs) {
        next++;
        const call = r.pick(generators)();
        try {
          // Lane 0 speaks WebSocket, one frame at a time so answers pair with calls.
          if (lane === 0 && wsKinds.has(call.kind)) await sendWs(call);
          else await post(call);
        } catch (err) {
          details.push(`${call.kind}: the gateway failed to answer (${(err as Error).message})`);
        }
      }
    };
    await Promise.all([0, 1, 2, 3, 4, 5].map(worker));
    socket.close();

    // Still alive, and nothing changed.
    const health = await fetch(`${gw.url}/health`);
    if (!health.ok && health.status !== 503)
      details.push(`/health answered ${health.status} after the soak`);
    const after = logicalHash(app.db);
    const identical = after === before;
    if (!identical) details.push('the database changed');
    const failures = details.length;
    const figures = {
      seed,
      http,
      ws,
      codes: codes.size,
      db_identical: String(identical),
      complete: 'yes',
      seconds: ((Date.now() - started) / 1000).toFixed(1),
    };
    const line = `soak input runs=${runs} failures=${failures} ${Object.entries(figures)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`;
    // The result line goes to stdout like every soak's (progress goes to `log`, stderr).
    console.log(line);
    return { name: 'input', runs, failures, details: details.slice(0, 50), figures, line };
  } finally {
    await gw.close();
    api.close();
    await app.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
