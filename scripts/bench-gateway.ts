/**
 * `bench gateway`: requests per second and p99 of `vaults.get` and `vaults.list` against one
 * protocol node instance, then against three on the same PostgreSQL (requests spread over
 * them in turn), in the same run on the same data — so the scale-out is a measured ratio.
 * Real processes (`scripts/protocol.ts --db …`), one regtest bitcoind, loopback only; each
 * measurement is a fixed number of requests with a fixed number in flight, so it is bounded.
 * On this 2-core machine the three instances and this load generator share two cores: the
 * ratio says what the database allows here, not what three machines would.
 * Run: npx tsx scripts/bench-gateway.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { findPostgresBin, startLocalPostgres } from '../core/db/pg/local-cluster';
import { RegtestNode } from '../core/node/regtest';
import { call, startInstance, stopInstance, type Instance } from './soak/lib/instances';
import { pct } from './bench/percentile';

const VAULTS = 100;
const REQUESTS = 3_000;
const IN_FLIGHT = 24;
const SETTLE_MS = 10_000;

interface Measured {
  perSecond: number;
  p99: number;
}

/** `REQUESTS` calls, `IN_FLIGHT` at a time, the i-th to instance i mod n. */
async function measure(
  instances: Instance[],
  method: string,
  params: (i: number) => unknown,
): Promise<Measured> {
  const times: number[] = [];
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    for (let i = next++; i < REQUESTS; i = next++) {
      const t = performance.now();
      await call(instances[i % instances.length]!, method, params(i));
      times.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const seconds = (performance.now() - started) / 1000;
  return { perSecond: REQUESTS / seconds, p99: pct(times, 0.99) };
}

export async function main(): Promise<void> {
  if (!findPostgresBin()) {
    console.log('bench gateway skipped: PostgreSQL is not installed (npm run setup)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'bitstable-bench-gateway-'));
  const bitcoin = await RegtestNode.start({ dataDir: join(dir, 'bitcoind') });
  const cluster = await startLocalPostgres();
  const instances: Instance[] = [];
  try {
    const setup = {
      database: cluster.url,
      dataDir: join(dir, 'node'),
      bitcoin,
      passphrase: 'gateway-bench-passphrase',
    };
    instances.push(await startInstance(setup, 0));
    const ids: number[] = [];
    for (let v = 0; v < VAULTS; v++)
      ids.push((await call<{ id: number }>(instances[0]!, 'vaults.create', {})).id);
    const get = (i: number) => ({ vaultId: ids[i % ids.length]! });
    const list = () => ({ limit: 20 });
    // Warm-up: connections open, statements planned.
    await measure(instances, 'vaults.get', get);
    const get1 = await measure(instances, 'vaults.get', get);
    const list1 = await measure(instances, 'vaults.list', list);
    instances.push(await startInstance(setup, 1), await startInstance(setup, 2));
    // A new instance's first seconds are busy (its watch-only imports, its first polls): let
    // them pass, then warm up as for the one.
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    await measure(instances, 'vaults.get', get);
    const get3 = await measure(instances, 'vaults.get', get);
    const list3 = await measure(instances, 'vaults.list', list);
    const f = (x: number) => x.toFixed(1);
    const r = (x: number) => x.toFixed(2);
    console.log(
      `bench gateway vaults=${VAULTS} requests=${REQUESTS} in_flight=${IN_FLIGHT} get_1_per_s=${f(get1.perSecond)} get_1_ms_p99=${f(get1.p99)} list_1_per_s=${f(list1.perSecond)} list_1_ms_p99=${f(list1.p99)} get_3_per_s=${f(get3.perSecond)} get_3_ms_p99=${f(get3.p99)} list_3_per_s=${f(list3.perSecond)} list_3_ms_p99=${f(list3.p99)} get_ratio=${r(get3.perSecond / get1.perSecond)} list_ratio=${r(list3.perSecond / list1.perSecond)}`,
    );
  } finally {
    await Promise.all(instances.map((i) => stopInstance(i)));
    await cluster.stop();
    await bitcoin.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
