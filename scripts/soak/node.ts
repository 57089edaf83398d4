/**
 * Node soak: a BitStable node connected over RPC (cookie auth) to a regtest bitcoind that goes
 * away and comes back, cycle after cycle, in three ways in turn:
 *
 *   rpc-stop   `stop` over RPC, then bitcoind started again on the same data directory and ports;
 *   sigterm    SIGTERM, then started again the same way;
 *   sigstop    SIGSTOP (the node keeps its sockets but answers nothing), then SIGCONT.
 *
 * The app runs its background loop (chain poll every 500 ms, oracle rounds). Each cycle proves:
 * `nodeStatus().online` turns false within 10 s of the outage; while the node is away the price
 * drops through a vault's liquidation price and no liquidation starts and no spend is made (the
 * spends, liquidations and auction_takes tables are unchanged); after recovery, deposits in blocks
 * mined at once are all seen by the background loop (no block missed), and every vault's
 * collateral equals the chain's. Half of the cycles also mine a block just before the outage, so
 * a sync may be in flight when the node goes away.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BitStableNode } from '../../core/app/bitstable-node';
import type { Sqlite } from '../../core/db/database';
import { InMemoryKeyStore } from '../../core/keys/keystore';
import type { Sats } from '../../core/money';
import { MinerWallet } from '../../core/node/bitcoin-node';
import { freePort } from '../../core/node/regtest';
import { RpcClient } from '../../core/node/rpc';
import { FixedBitcoind, type FixedPorts } from './lib/bitcoind';
import { collateralProblems, databaseProblems, spendProblems } from './lib/chain';
import { setPrice } from './lib/price';
import { budget, describeError, Failures, finish, keep, seedOf } from './lib/report';
import { Rng } from './lib/rng';
import type { SoakOptions, SoakResult } from './lib/types';

export const defaults = { runs: 30, seconds: 1_800 };

const POLL_MS = 500;
const OFFLINE_WITHIN_MS = 10_000;
const RECOVERY_WITHIN_MS = 20_000;
const BASE_PRICE = 50_000_00;
const MODES = ['rpc-stop', 'sigterm', 'sigstop'] as const;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 25 ms; resolves with the milliseconds it took, or null after `timeoutMs`. */
async function until(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<number | null> {
  const start = Date.now();
  for (;;) {
    if (await cond()) return Date.now() - start;
    if (Date.now() - start > timeoutMs) return null;
    await sleep(25);
  }
}

/** A hash of everything a liquidation or a spend writes. */
function actionsHash(db: Sqlite): string {
  const h = createHash('sha256');
  for (const table of ['spends', 'liquidations', 'auction_takes']) {
    h.update(JSON.stringify(db.prepare(`SELECT * FROM ${table} ORDER BY rowid`).raw().all()));
  }
  return h.digest('hex');
}

/** Runs the node soak; prints `soak node runs=… failures=… …`. */
export async function run(options: SoakOptions): Promise<SoakResult> {
  const seed = seedOf(options);
  const rng = new Rng(seed);
  const failures = new Failures(options.log);
  const time = budget(options);
  const dir = mkdtempSync(join(tmpdir(), 'bitstable-soak-node-'));
  const ports: FixedPorts = {
    dataDir: join(dir, 'bitcoind'),
    rpcPort: await freePort(),
    p2pPort: await freePort(),
  };
  const f = {
    'rpc-stop': 0,
    sigterm: 0,
    sigstop: 0,
    inflight_outages: 0,
    max_offline_ms: 0,
    max_recovery_ms: 0,
    blocks_after_recovery: 0,
    offline_crossings: 0,
    offline_actions: 0,
  };
  let done = 0;
  let btc: FixedBitcoind | undefined;
  let app: BitStableNode | undefined;
  try {
    btc = await FixedBitcoind.start(ports);
    const rpc = new RpcClient(FixedBitcoind.connection(ports));
    const miner = new MinerWallet(rpc);
    await miner.ensure();
    await miner.mine(101);
    app = await BitStableNode.start({
      dataDir: join(dir, 'app'),
      network: 'regtest',
      keyStore: new InMemoryKeyStore(),
      bitcoin: { kind: 'rpc', rpc: FixedBitcoind.connection(ports) },
    });
    const a = app;
    let where = 'setup';
    a.onBackgroundError = (err) => options.log(`${where}: background: ${describeError(err)}`);
    if (!(await setPrice(a, BASE_PRICE))) throw new Error('the simulated price was not accepted');
    a.startBackground(POLL_MS);
    const chainHeight = () => rpc.call<number>('getblockcount', [], { timeoutMs: 5_000 });

    options.log(
      `node soak: seed ${seed}, ${options.runs} cycles, bitcoind on 127.0.0.1:${ports.rpcPort}, data ${dir}`,
    );
    while (time.more(done)) {
      const mode = MODES[done % MODES.length]!;
      where = `cycle ${done} (${mode})`;
      const problems: string[] = [];
      const problem = (m: string) => {
        problems.push(m);
        options.log(`problem in ${where}: ${m}`);
      };
      try {
        f[mode]++;
        // A fresh vault at 170 %, seen by the background loop.
        const vault = await a.vaults.createVault({
          keySetId: a.keySetId,
          returnAddress: await miner.newAddress(),
        });
        await miner.send(vault.address, 50_000_000 as Sats);
        await miner.mine(1);
        if (
          (await until(
            async () => (await a.vaults.getVault(vault.id)).collateralSats === 50_000_000,
            RECOVERY_WITHIN_MS,
          )) === null
        ) {
          throw new Error(`the deposit to vault ${vault.id} was not seen while the node was up`);
        }
        await a.operations.mint(
          vault.id,
          Math.floor((50_000_000 * (BASE_PRICE / 100_000_000) * 100) / 170),
        );
        let expected = 50_000_000;
        if (rng.chance(0.5)) {
          // A block right before the outage: the app may be syncing it when the node goes away.
          await miner.send(vault.address, 10_000_000 as Sats);
          await miner.mine(1);
          expected += 10_000_000;
          f.inflight_outages++;
        }

        const before = actionsHash(a.db);
        const lastLiquidation = a.db
          .prepare('SELECT COALESCE(MAX(id), 0) FROM liquidations')
          .pluck()
          .get() as number;
        const t0 = Date.now();
        if (mode === 'rpc-stop') await btc.stop();
        else if (mode === 'sigterm') await btc.terminate();
        else btc.pause();
        const offlineMs = await until(() => !a.nodeStatus().online, 30_000);
        if (offlineMs === null || offlineMs > OFFLINE_WITHIN_MS) {
          problem(
            `the node was down but the app showed it online for ${offlineMs === null ? 'over 30 s' : `${offlineMs} ms`} (limit ${OFFLINE_WITHIN_MS} ms)`,
          );
        }
        f.max_offline_ms = Math.max(f.max_offline_ms, offlineMs ?? Date.now() - t0);

        // While it is away the price falls through the vault's liquidation price (170 % → 144.5 %).
        a.simulated!.setPrice(Math.floor(BASE_PRICE * 0.85) as never);
        await a.oracle.runRound();
        await a.healthPasses;
        if (
          a.oracle.current().status === 'ok' &&
          a.oracle.current().priceCents === Math.floor(BASE_PRICE * 0.85)
        )
          f.offline_crossings++;
        await sleep(rng.int(500, 3_000));
        if (actionsHash(a.db) !== before) {
          f.offline_actions++;
          const started = a.db
            .prepare('SELECT vault_id FROM liquidations WHERE id > ?')
            .pluck()
            .all(lastLiquidation) as number[];
          problem(
            started.length
              ? `the auction of vault(s) ${started.join(', ')} started while the node was offline`
              : 'a spend or an auction take was written while the node was offline',
          );
        }
        if (a.nodeStatus().online)
          problem('the app showed the node online again while it was still away');
        await setPrice(a, BASE_PRICE);

        // Back, and blocks with deposits at once.
        const t1 = Date.now();
        if (mode === 'sigstop') btc.resume();
        else {
          btc = await FixedBitcoind.start(ports);
          await miner.ensure();
        }
        const blocks = rng.int(1, 3);
        for (let i = 0; i < blocks; i++) {
          await miner.send(vault.address, 5_000_000 as Sats);
          await miner.mine(1);
          expected += 5_000_000;
        }
        f.blocks_after_recovery += blocks;
        const height = await chainHeight();
        const seen = await until(
          async () =>
            a.nodeStatus().online &&
            a.nodeStatus().height === height &&
            (await a.vaults.getVault(vault.id)).collateralSats === expected,
          RECOVERY_WITHIN_MS,
        );
        if (seen === null) {
          const v = await a.vaults.getVault(vault.id);
          problem(
            `${RECOVERY_WITHIN_MS / 1000} s after recovery the app shows ${JSON.stringify(a.nodeStatus())} and vault ${vault.id} at ${v.collateralSats} sats; the chain is at ${height} with ${expected} sats`,
          );
        }
        f.max_recovery_ms = Math.max(f.max_recovery_ms, Date.now() - t1);

        await a.sync();
        const { problems: found } = await collateralProblems(
          rpc,
          a.db,
          a.network,
          a.params.confirmations,
        );
        for (const p of [
          ...found,
          ...(await databaseProblems(a.db)),
          ...(await spendProblems(a.db)),
        ])
          problem(p);
      } catch (err) {
        problem(`threw: ${describeError(err)}`);
        if (!btc.alive) btc = await FixedBitcoind.start(ports).catch(() => btc!);
        btc.resume();
      }
      failures.endRun(where, problems, ` [seed ${seed}]`);
      done++;
      if (done % 5 === 0)
        options.log(
          `node soak: ${done} cycles, ${failures.count} failures, ${Math.round(time.elapsed())} s`,
        );
    }
  } finally {
    btc?.resume();
    await app?.stop();
    await btc?.stop();
    if (!keep(failures, options, dir)) rmSync(dir, { recursive: true, force: true });
  }
  return finish('node', options, done, failures, { seed, ...f }, time.elapsed());
}
