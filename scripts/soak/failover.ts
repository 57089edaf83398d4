/**
 * Failover soak: three protocol node instances (`scripts/protocol.ts --db postgres://…`, real
 * processes) on one PostgreSQL and one regtest bitcoind, with a WebSocket client on each. Every
 * run opens vaults at about 170 %, drops the price below 150 % and SIGKILLs the leader while the
 * drop is being acted on, then checks:
 *
 * - another instance leads within 10 s of the kill (its /health says so);
 * - every vault that was due is Liquidating with exactly one auction — none started twice,
 *   none missed — once the new leader's rounds have run;
 * - the clients on the surviving instances were told of every one of those auctions;
 * - two survivors taking the same auction's whole lot at once: one take goes through, the
 *   other is refused, and the auction's takes never exceed its lot (nothing taken twice).
 *
 * The killed instance is started again, so every run has three. This process owns bitcoind and
 * the PostgreSQL cluster and stops every child it started, even on failure.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import WebSocket from 'ws';
import { startLocalPostgres, type LocalPostgres } from '../../core/db/pg/local-cluster';
import { RegtestNode } from '../../core/node/regtest';
import { WS_PROTOCOL, WS_TOKEN_PREFIX } from '../../core/gateway/server';
import type { Sats } from '../../core/money';
import { budget, describeError, Failures, finish, seedOf } from './lib/report';
import { Rng } from './lib/rng';
import type { SoakOptions, SoakResult } from './lib/types';
import { call, leads, sleep, startInstance, stopInstance, type Instance } from './lib/instances';

export const defaults = { runs: 50, seconds: 3_600 };

const PASSPHRASE = 'failover-soak-passphrase';
const INSTANCES = 3;
const VAULTS_PER_RUN = 3;
const HIGH = 50_000_00; // $50,000
const LOW = 40_000_00; // $40,000: a vault minted at 170 % at $50,000 is at 136 %
const LEAD_WITHIN_MS = 10_000;

interface Seen {
  /** vault ids a client was told became Liquidating (vault.changed or auction.started). */
  liquidating: Set<number>;
  socket: WebSocket;
}

export async function run(options: SoakOptions): Promise<SoakResult> {
  const seed = seedOf(options);
  const rng = new Rng(seed);
  const failures = new Failures(options.log);
  const time = budget(options);
  const dir = mkdtempSync(join(tmpdir(), 'bitstable-failover-'));
  let bitcoin: RegtestNode | null = null;
  let cluster: LocalPostgres | null = null;
  let db: pg.Pool | null = null;
  const instances: (Instance | null)[] = new Array<Instance | null>(INSTANCES).fill(null);
  const seen: (Seen | null)[] = new Array<Seen | null>(INSTANCES).fill(null);
  let token = '';
  const figures = { kills: 0, auctions: 0, max_lead_ms: 0, takes_refused: 0 };
  let runs = 0;

  const start = (n: number) =>
    startInstance(
      {
        database: cluster!.url,
        dataDir: join(dir, 'node'),
        bitcoin: bitcoin!,
        passphrase: PASSPHRASE,
        env: { BITSTABLE_ORACLE: JSON.stringify({ intervalMs: 1_000 }) },
      },
      n,
    ).then((inst) => {
      token = inst.token;
      return inst;
    });

  const listen = (inst: Instance): Promise<Seen> =>
    new Promise((resolveSeen, reject) => {
      const socket = new WebSocket(`${inst.url.replace('http', 'ws')}/rpc`, [
        WS_PROTOCOL,
        `${WS_TOKEN_PREFIX}${token}`,
      ]);
      const s: Seen = { liquidating: new Set(), socket };
      socket.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as {
          method?: string;
          params?: { type?: string; payload?: { vaultId?: number; state?: string } };
        };
        const e = frame.params;
        if (!e?.payload?.vaultId) return;
        if (
          e.type === 'auction.started' ||
          (e.type === 'vault.changed' && e.payload.state === 'liquidating')
        )
          s.liquidating.add(e.payload.vaultId);
      });
      socket.once('open', () => resolveSeen(s));
      socket.once('error', reject);
    });

  const live = () => instances.filter((i): i is Instance => i !== null);

  try {
    options.log('starting bitcoind and PostgreSQL');
    bitcoin = await RegtestNode.start({ dataDir: join(dir, 'bitcoind') });
    cluster = await startLocalPostgres();
    db = new pg.Pool({ connectionString: cluster.url, max: 2 });
    // The first instance makes the keys and the schema; the others find them.
    instances[0] = await start(0);
    for (let n = 1; n < INSTANCES; n++) instances[n] = await start(n);
    for (let n = 0; n < INSTANCES; n++) seen[n] = await listen(instances[n]!);
    options.log(
      `three instances up: ${live()
        .map((i) => i.url)
        .join(' ')}`,
    );

    while (time.more(runs)) {
      const where = `run ${runs} [seed ${seed}]`;
      try {
        for (const inst of live()) await call(inst, 'regtest.setPrice', { priceCents: HIGH });
        // Vaults at 170 % at $50,000, opened through any instance.
        const vaults: number[] = [];
        for (let v = 0; v < VAULTS_PER_RUN; v++) {
          const via = live()[rng.int(0, live().length - 1)]!;
          const returnAddress = await bitcoin.miner.newAddress();
          const vault = await call<{ id: number; address: string }>(via, 'vaults.create', {
            returnAddress,
          });
          await bitcoin.miner.send(vault.address, 1_000_000 as Sats); // 0.01 BTC = $500
          vaults.push(vault.id);
        }
        await bitcoin.miner.mine(1);
        await until(`${where}: the deposits confirmed`, 30_000, async () => {
          for (const id of vaults) {
            const v = await call<{ state: string }>(live()[0]!, 'vaults.get', { vaultId: id });
            if (v.state !== 'active') return false;
          }
          return true;
        });
        for (const id of vaults) {
          const via = live()[rng.int(0, live().length - 1)]!;
          await call(via, 'vaults.mint', { vaultId: id, amountCents: 29_400 }); // $294: 170 %
        }

        // The drop: the followers' simulated sources first, then the leader's — and the leader
        // is killed while it acts on it.
        let leader: Instance | undefined;
        for (const inst of live()) if (await leads(inst)) leader = inst;
        if (!leader) throw new Error('no instance leads');
        for (const inst of live())
          if (inst !== leader) await call(inst, 'regtest.setPrice', { priceCents: LOW });
        const dropping = call(leader, 'regtest.setPrice', { priceCents: LOW }).catch(
          () => undefined,
        );
        await sleep(rng.int(0, 1_500));
        process.kill(-leader.child.pid!, 'SIGKILL');
        const killedAt = Date.now();
        figures.kills++;
        await leader.exited;
        await dropping;
        instances[leader.n] = null;
        seen[leader.n]?.socket.terminate();
        seen[leader.n] = null;

        // Another leads within 10 s.
        let next: Instance | undefined;
        while (!next && Date.now() - killedAt < LEAD_WITHIN_MS + 2_000) {
          for (const inst of live()) if (await leads(inst)) next = inst;
          if (!next) await sleep(100);
        }
        const leadMs = Date.now() - killedAt;
        figures.max_lead_ms = Math.max(figures.max_lead_ms, leadMs);
        failures.check(
          next !== undefined && leadMs <= LEAD_WITHIN_MS,
          () => `${where}: no instance led within ${LEAD_WITHIN_MS} ms of the kill (${leadMs} ms)`,
        );

        // Every due auction starts, exactly once.
        await until(`${where}: the due vaults liquidating`, 30_000, async () => {
          const { rows } = await db!.query<{ n: string }>(
            `SELECT COUNT(DISTINCT vault_id) AS n FROM liquidations WHERE vault_id = ANY($1::bigint[])`,
            [vaults],
          );
          return Number(rows[0]!.n) === vaults.length;
        }).catch((err: unknown) => failures.add(describeError(err)));
        const twice = await db.query<{ vault_id: string; n: string }>(
          // This run's vaults are new: each has been liquidated once, here. (An older vault may
          // have a second auction legitimately: the run's price rise cures a running one.)
          `SELECT vault_id, COUNT(*) AS n FROM liquidations WHERE vault_id = ANY($1::bigint[]) GROUP BY vault_id HAVING COUNT(*) > 1`,
          [vaults],
        );
        failures.check(
          twice.rows.length === 0,
          () =>
            `${where}: auctions started twice for vaults ${twice.rows.map((r) => r.vault_id).join(', ')}`,
        );
        figures.auctions += vaults.length;

        // The survivors' clients were told.
        await until(`${where}: the survivors' clients told`, 10_000, async () =>
          seen.every((s) => s === null || vaults.every((id) => s.liquidating.has(id))),
        ).catch(() =>
          failures.add(
            `${where}: a client on a surviving instance was not told of every auction (${seen.map((s) => (s ? [...s.liquidating].join('/') : '-')).join(' | ')})`,
          ),
        );

        // Two survivors take the same auction's whole lot at once: one is taken, never twice.
        const { rows: auctions } = await db.query<{ id: string; lot_sats: string }>(
          `SELECT id, lot_sats FROM liquidations WHERE vault_id = $1 AND state = 'running'`,
          [vaults[0]],
        );
        const auction = auctions[0];
        if (auction) {
          const takers = live().slice(0, 2);
          const btcAddress = await bitcoin.miner.newAddress();
          const results = await Promise.allSettled(
            takers.map((inst) =>
              call(inst, 'auctions.take', {
                auctionId: Number(auction.id),
                maxSats: Number(auction.lot_sats),
                maxPriceCents: 100_000_00,
                btcAddress,
              }),
            ),
          );
          figures.takes_refused += results.filter((r) => r.status === 'rejected').length;
          const { rows } = await db.query<{ taken: string; lot: string }>(
            `SELECT COALESCE(SUM(t.sats), 0)::bigint AS taken, l.lot_sats AS lot FROM liquidations l LEFT JOIN auction_takes t ON t.liquidation_id = l.id WHERE l.id = $1 GROUP BY l.lot_sats`,
            [auction.id],
          );
          const taken = Number(rows[0]?.taken ?? 0);
          failures.check(
            taken <= Number(auction.lot_sats),
            () =>
              `${where}: auction ${auction.id} sold ${taken} sats of a ${auction.lot_sats}-sat lot`,
          );
        }

        // Three instances again for the next run.
        instances[leader.n] = await start(leader.n);
        seen[leader.n] = await listen(instances[leader.n]!);
      } catch (err) {
        failures.add(`${where}: ${describeError(err)}`);
        // Whatever died, three instances again.
        for (let n = 0; n < INSTANCES; n++) {
          if (instances[n] && instances[n]!.child.exitCode === null) continue;
          instances[n] = await start(n);
          seen[n] = await listen(instances[n]!);
        }
      }
      runs++;
      options.log(
        `${runs} run(s), ${failures.count} failure(s), longest takeover ${figures.max_lead_ms} ms`,
      );
    }
  } catch (err) {
    failures.add(`setup: ${describeError(err)}`);
  } finally {
    for (const s of seen) s?.socket.terminate();
    await Promise.all(instances.map((inst) => (inst ? stopInstance(inst) : undefined)));
    await db?.end();
    await cluster?.stop();
    await bitcoin?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return finish('failover', options, runs, failures, figures, time.elapsed());
}

async function until(what: string, ms: number, ok: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(200);
  }
}
