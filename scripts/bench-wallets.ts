/**
 * Benchmark of one protocol node serving many wallets (SPEC §3, §10): 1,000 signed-in wallets on
 * one node's WebSocket gateway, and 100,000 vaults spread over 1,000 accounts in its database.
 *
 *   bench wallets wallets=1000 fanout_ms_p50=… fanout_ms_p99=… list_ms_p99=… naive_fanout_ms_p99=… naive_list_ms_p99=…
 *
 * - fanout: a `price.accepted` event emitted on the node's event bus, through the API service's
 *   audience filter and the gateway, until the last of the 1,000 sockets has received (and
 *   parsed) its JSON-RPC notification. 50 timed events after 5 untimed ones, one at a time, 20 ms
 *   apart, so no two are in flight at once. The oracle is not started, so its price is stale and
 *   the node's health pass (also a `price.accepted` listener) does not run: only the fan-out is
 *   timed. The wallets' sockets live in a worker thread (`bench-wallets-clients.ts`): wallets are
 *   other processes, and on this node's event loop their parsing would be half the figure. The
 *   wave is timed from the emit in this thread to the last parse in that one, on the clock both
 *   share. On a machine with two cores the thread competes with the node for the second one.
 * - naive_fanout: the same 1,000 wallets' worth of sockets on a plain `ws` server in this
 *   process, fanned out the naive way: for every socket, an ownership check that asks SQLite
 *   (prepare + get, as a per-subscriber filter would) and a JSON.stringify of its own frame. Its
 *   events alternate with the gateway's in the same loop, so both see the same machine.
 * - list: `vaults.list` (limit 50) through the dispatcher for one account owning 100 of the
 *   100,000 vaults (the indexed per-account query), 200 calls after 10 untimed.
 * - naive_list: the same page the naive way: every vault loaded (`listVaults()`), filtered by
 *   account in JS and sliced; up to 200 calls, stopping early past 30 s once it has 30.
 *
 * Everything is on loopback; the node, its regtest bitcoind, the API service, both servers and
 * all 2,000 client sockets are closed at the end, whatever happens. With 50 samples a p99 is the
 * slowest one. Run: npx tsx scripts/bench-wallets.ts
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { WebSocketServer } from 'ws';
import { sharedNow, type FromClients, type ToClients } from './bench-wallets-clients';
import { accountIdOf } from '../core/accounts/id';
import { createApiService, type ApiService } from '../core/api/dispatcher';
import { BitStableNode } from '../core/app/bitstable-node';
import { startGateway, WS_PROTOCOL, WS_TOKEN_PREFIX, type Gateway } from '../core/gateway/server';
import { InMemoryKeyStore } from '../core/keys/keystore';
import type { Cents, Sats } from '../core/money';
import { storedPrices } from '../core/vaults/debt';
import { pct } from './bench/percentile';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface WalletsBenchResult {
  wallets: number;
  fanoutP50: number;
  fanoutP99: number;
  listP99: number;
  naiveFanoutP99: number;
  naiveListP99: number;
  line: string;
}

export interface WalletsBenchOptions {
  /** Connected wallets (sockets on each server) and accounts. */
  wallets?: number;
  /** Vaults in the database, spread evenly over the accounts. */
  vaults?: number;
  /** Timed events on each path (after 5 untimed). */
  events?: number;
  /** Gap between one event's last delivery and the next emit. */
  gapMs?: number;
  /** Timed `vaults.list` calls (and at most as many naive ones). */
  listCalls?: number;
  /** The naive list stops early past this, once it has 30 samples. */
  naiveListBudgetMs?: number;
  /** Print the line (default true). */
  print?: boolean;
}

/** Runs the bench on a fresh regtest node and prints (and returns) its one line. */
export async function main(options: WalletsBenchOptions = {}): Promise<WalletsBenchResult> {
  const wallets = options.wallets ?? 1_000;
  const vaults = options.vaults ?? 100_000;
  const events = options.events ?? 50;
  const warmup = 5;
  const gapMs = options.gapMs ?? 20;
  const listCalls = options.listCalls ?? 200;
  const naiveListBudgetMs = options.naiveListBudgetMs ?? 30_000;

  const dataDir = mkdtempSync(join(tmpdir(), 'bitstable-bench-wallets-'));
  let node: BitStableNode | null = null;
  let api: ApiService | null = null;
  let gateway: Gateway | null = null;
  let naiveWss: WebSocketServer | null = null;
  let clients: Worker | null = null;
  try {
    node = await BitStableNode.start({
      dataDir,
      network: 'regtest',
      keyStore: new InMemoryKeyStore(),
    });
    const core = node;
    api = createApiService({ core });
    gateway = await startGateway({ api, core, tokens: [], port: 0 });

    // 1,000 accounts, each signed in once (a session token), in one transaction.
    const accounts: { id: string; token: string }[] = [];
    await core.store.transaction(async () => {
      for (let i = 0; i < wallets; i++) {
        const id = accountIdOf(randomBytes(32));
        await core.accounts.register(id);
        accounts.push({ id, token: (await core.accounts.openSession(id)).token });
      }
    });

    // 100,000 healthy vaults (0.1 BTC against $1,000: 450 % at $45,000), interleaved over the
    // accounts as if they had opened them in turn. Indexes far above the key set's next_index.
    const collateral = 10_000_000 as Sats;
    const debt = 100_000 as Cents;
    const prices = storedPrices(collateral, debt * 1_000_000, core.params);
    const insert = core.db.prepare(
      `INSERT INTO vaults (key_set_id, idx, network, address, descriptor, state, collateral_sats,
         debt_cents, debt_art, liquidation_price_cents, warning_price_cents, account_id, created_at, updated_at)
       VALUES (?, ?, 'regtest', ?, '', 'active', ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const ts = Date.now();
    core.db.transaction(() => {
      for (let i = 0; i < vaults; i++) {
        insert.run(
          core.keySetId,
          1_000_000 + i,
          `bench-wallets-addr-${i}`,
          collateral,
          debt,
          debt * 1_000_000,
          prices.liquidation,
          prices.warning,
          accounts[i % wallets]!.id,
          ts,
          ts,
        );
      }
    })();
    core.db.pragma('optimize');

    // --- vaults.list for one account, then the same page from a scan of every vault.
    const who = accounts[Math.floor(wallets / 2)]!.id;
    const ctx = { roles: ['owner', 'liquidator'] as const, account: who };
    const list: number[] = [];
    let page: number[] = [];
    for (let i = -10; i < listCalls; i++) {
      const t = performance.now();
      const out = await api.dispatch('vaults.list', { limit: 50 }, ctx);
      if (i >= 0) list.push(performance.now() - t);
      if (!out.ok) throw new Error(`vaults.list failed: ${out.error.code} ${out.error.message}`);
      page = (out.result as { items: { id: number }[] }).items.map((v) => v.id);
    }
    const naiveList: number[] = [];
    let naivePage: number[] = [];
    const naiveStarted = performance.now();
    for (let i = -2; i < listCalls; i++) {
      const t = performance.now();
      naivePage = (await core.vaults.listVaults())
        .filter((v) => v.accountId === who)
        .slice(0, 50)
        .map((v) => v.id);
      if (i >= 0) naiveList.push(performance.now() - t);
      if (performance.now() - naiveStarted > naiveListBudgetMs && naiveList.length >= 30) break;
    }
    if (page.length === 0 || page.join() !== naivePage.join()) {
      throw new Error('vaults.list and the naive scan return different pages');
    }

    // --- Fan-out: every client socket of both servers lives in the wallets' thread.
    // The thread runs TypeScript as this script does: tsx's loader is not inherited by a worker
    // (`--import tsx` in execArgv is ignored there on Node 20), so it imports through tsx's API.
    const clientsUrl = new URL('./bench-wallets-clients.ts', import.meta.url).href;
    const thread = new Worker(
      `import('tsx/esm/api').then(({ tsImport }) => tsImport(${JSON.stringify(clientsUrl)}, ${JSON.stringify(clientsUrl)}))`,
      { eval: true },
    );
    clients = thread;
    const waiting = new Map<string, (m: FromClients) => void>();
    const keyOf = (m: FromClients) =>
      m.type === 'ready' || m.type === 'delivered' || m.type === 'late'
        ? `round:${m.roundId}`
        : m.type;
    let threadFailure: Error | null = null;
    const fail = (err: Error) => {
      threadFailure = err;
      for (const r of waiting.values()) r({ type: 'failed', message: err.message });
      waiting.clear();
    };
    thread.on('message', (m: FromClients) => {
      if (m.type === 'failed') return fail(new Error(`wallets' thread: ${m.message}`));
      const r = waiting.get(keyOf(m));
      waiting.delete(keyOf(m));
      r?.(m);
    });
    thread.on('error', fail);
    /** Sends one message and waits for the reply with `key` ('connected', 'round:7', ...). */
    const ask = (m: ToClients, key: string) =>
      new Promise<FromClients>((resolve, reject) => {
        if (threadFailure) return reject(threadFailure);
        waiting.set(key, (reply) =>
          reply.type === 'failed' ? reject(new Error(reply.message)) : resolve(reply),
        );
        thread.postMessage(m);
      });
    /** Waits for the next reply with `key` without sending anything. */
    const next = (key: string) =>
      new Promise<FromClients>((resolve, reject) => {
        if (threadFailure) return reject(threadFailure);
        waiting.set(key, (reply) =>
          reply.type === 'failed' ? reject(new Error(reply.message)) : resolve(reply),
        );
      });

    const rpcUrl = `${gateway.url.replace('http', 'ws')}/rpc`;
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    naiveWss = wss;
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    const naivePort = (wss.address() as { port: number }).port;
    const targets: [string, string[]][] = [
      ...accounts.map((a): [string, string[]] => [
        rpcUrl,
        [WS_PROTOCOL, `${WS_TOKEN_PREFIX}${a.token}`],
      ]),
      ...accounts.map((): [string, string[]] => [`ws://127.0.0.1:${naivePort}`, []]),
    ];
    await ask({ type: 'connect', targets }, 'connected');

    /** Times one event from emit until every one of the `wallets` sockets has parsed it. */
    const timeWave = async (roundId: number, emit: () => void): Promise<number> => {
      await ask({ type: 'expect', roundId, expected: wallets }, `round:${roundId}`);
      const outcome = next(`round:${roundId}`);
      const t0 = sharedNow();
      emit();
      const reply = await outcome;
      if (reply.type !== 'delivered') {
        const count = reply.type === 'late' ? reply.count : 0;
        throw new Error(`event ${roundId} reached ${count} of ${wallets} sockets in 10 s`);
      }
      return reply.lastAt - t0;
    };
    const payloadOf = (roundId: number) => ({
      roundId,
      priceCents: 4_500_000 + roundId,
      ts: Date.now(),
    });
    const naiveEmit = (roundId: number) => {
      const event = { type: 'price.accepted', payload: payloadOf(roundId) };
      for (const ws of wss.clients) {
        // A per-subscriber ownership check, one SQLite lookup per socket.
        core.db.prepare('SELECT account_id FROM vaults WHERE id = ?').get(1);
        ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'event', params: event }));
      }
    };

    const fanout: number[] = [];
    const naiveFanout: number[] = [];
    for (let i = -warmup; i < events; i++) {
      const round = i + warmup;
      const a = await timeWave(round, () => core.bus.emit('price.accepted', payloadOf(round)));
      await sleep(gapMs);
      const naiveRound = 1_000_000 + round;
      const b = await timeWave(naiveRound, () => naiveEmit(naiveRound));
      await sleep(gapMs);
      if (i >= 0) {
        fanout.push(a);
        naiveFanout.push(b);
      }
    }

    const result = {
      wallets,
      fanoutP50: pct(fanout, 0.5),
      fanoutP99: pct(fanout, 0.99),
      listP99: pct(list, 0.99),
      naiveFanoutP99: pct(naiveFanout, 0.99),
      naiveListP99: pct(naiveList, 0.99),
    };
    const f = (x: number) => x.toFixed(1);
    const line =
      `bench wallets wallets=${wallets} fanout_ms_p50=${f(result.fanoutP50)} fanout_ms_p99=${f(result.fanoutP99)} ` +
      `list_ms_p99=${f(result.listP99)} naive_fanout_ms_p99=${f(result.naiveFanoutP99)} naive_list_ms_p99=${f(result.naiveListP99)}`;
    if (options.print !== false) console.log(line);
    return { ...result, line };
  } finally {
    // Each step on its own, so one failure does not leave the rest running.
    const quietly = async (step: () => unknown) => {
      try {
        await step();
      } catch (err) {
        console.error('bench wallets: cleanup step failed', err);
      }
    };
    if (clients) {
      const thread = clients;
      // The thread closes its sockets itself; terminating it is the backstop.
      await quietly(
        () =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 2_000);
            thread.on('message', (m: FromClients) => {
              if (m.type === 'closed') {
                clearTimeout(timer);
                resolve();
              }
            });
            thread.postMessage({ type: 'close' } satisfies ToClients);
          }),
      );
      await quietly(() => thread.terminate());
    }
    if (naiveWss) {
      const wss = naiveWss;
      for (const ws of wss.clients) await quietly(() => ws.terminate());
      await quietly(() => new Promise<void>((r) => wss.close(() => r())));
    }
    if (gateway) await quietly(() => gateway!.close());
    if (api) await quietly(() => api!.close());
    if (node) await quietly(() => node!.stop());
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
