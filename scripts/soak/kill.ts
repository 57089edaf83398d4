/**
 * Kill soak: the BitStable node runs as a real child process (test/fixtures/soak-kill-child.ts)
 * doing vault operations and liquidation settlements on regtest with its background loop on, and
 * is SIGKILLed at a random moment — during start-up and recovery, in the middle of the work, or
 * exactly at a fault point (BITSTABLE_FAULT: after a draft is stored, between storing a signed
 * transaction and broadcasting it, between broadcasting and marking it, after a take) — and
 * restarted, N times. This process owns bitcoind, so a kill never orphans it.
 *
 * After each kill the app is restarted here (which recovers: stored transactions broadcast,
 * drafts dropped) and must show: SQLite integrity_check ok; the ledger invariant; every vault the
 * child reported still there with its address, and every journal row it reported committed;
 * every vault's collateral equal to its coins on chain under the app's confirmation rule; no
 * transaction made or paid twice (unique txids, one spend in flight per vault at most, no vault
 * coin in two transactions, one settlement per auction, every destination and taker address
 * paid by one transaction only); nothing left signed-but-unsent or half-drafted.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { BitStableNode } from '../../core/app/bitstable-node';
import { PassphraseKeyStore, REGTEST_SCRYPT } from '../../core/keys/passphrase-keystore';
import { RegtestNode } from '../../core/node/regtest';
import { KILL_SOAK_PASSPHRASE } from './lib/kill-keys';
import { collateralProblems, databaseProblems, spendProblems } from './lib/chain';
import { budget, describeError, Failures, finish, keep, seedOf } from './lib/report';
import { Rng } from './lib/rng';
import type { SoakOptions, SoakResult } from './lib/types';

export const defaults = { runs: 200, seconds: 3_600 };

const CHILD = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'soak-kill-child.ts');
/**
 * Fault points (core/fault.ts) a fault run picks from: a spend stored but not signed, signed but
 * not sent, sent but not marked; a take paid and recorded before its settlement. A run whose
 * point is not reached ends with the backstop kill instead.
 */
const FAULT_POINTS = ['spend.draft', 'spend.signed', 'spend.broadcast', 'auction.taken'];

interface ChildRun {
  code: number | null;
  signal: string | null;
  /** Killed by this process (not by a fault point in the child). */
  byUs: boolean;
  ready: boolean;
  stderr: string;
  /** Vaults the child reported created (id → address). */
  created: Map<number, string>;
  /** The highest events.id the child reported committed. */
  journal: number;
  ops: number;
}

type KillPlan =
  | { kind: 'startup'; afterSpawnMs: number }
  | { kind: 'timer'; afterReadyMs: number }
  | { kind: 'fault'; point: string; backstopMs: number };

/** Runs the child until the plan kills it (or it stops by itself). */
function runChild(args: string[], plan: KillPlan): Promise<ChildRun> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env.BITSTABLE_FAULT;
    if (plan.kind === 'fault') env.BITSTABLE_FAULT = plan.point;
    const p = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: ChildRun = {
      code: null,
      signal: null,
      byUs: false,
      ready: false,
      stderr: '',
      created: new Map(),
      journal: 0,
      ops: 0,
    };
    let buffer = '';
    const timers: NodeJS.Timeout[] = [];
    const kill = () => {
      out.byUs = true;
      p.kill('SIGKILL');
    };
    // Whatever happens, no child outlives two minutes.
    timers.push(setTimeout(kill, 120_000));
    if (plan.kind === 'startup') timers.push(setTimeout(kill, plan.afterSpawnMs));
    p.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        let msg: {
          ready?: boolean;
          created?: number;
          address?: string;
          journal?: number;
          op?: string;
        };
        try {
          msg = JSON.parse(line) as typeof msg;
        } catch {
          continue;
        }
        if (msg.ready && !out.ready) {
          out.ready = true;
          if (plan.kind === 'timer') timers.push(setTimeout(kill, plan.afterReadyMs));
          if (plan.kind === 'fault') timers.push(setTimeout(kill, plan.backstopMs));
        }
        if (msg.created !== undefined && msg.address) out.created.set(msg.created, msg.address);
        if (msg.journal !== undefined) out.journal = Math.max(out.journal, msg.journal);
        if (msg.op) out.ops++;
      }
    });
    p.stderr.on(
      'data',
      (chunk: Buffer) => (out.stderr = (out.stderr + chunk.toString()).slice(-4_000)),
    );
    p.on('exit', (code, signal) => {
      for (const t of timers) clearTimeout(t);
      out.code = code;
      out.signal = signal;
      resolve(out);
    });
  });
}

/** Runs the kill soak; prints `soak kill runs=… failures=… …`. */
export async function run(options: SoakOptions): Promise<SoakResult> {
  const seed = seedOf(options);
  const rng = new Rng(seed);
  const failures = new Failures(options.log);
  const time = budget(options);
  const dataDir = mkdtempSync(join(tmpdir(), 'bitstable-soak-kill-'));
  const f = {
    startup_kills: 0,
    timer_kills: 0,
    fault_kills: 0,
    fault_hits: 0,
    killed: 0,
    exited: 0,
    signed_found: 0,
    drafts_found: 0,
    child_ops: 0,
    vaults: 0,
    settlements: 0,
    withdrawals: 0,
    closes: 0,
    takes: 0,
  };
  const created = new Map<number, string>();
  let journal = 0;
  let done = 0;
  let node: RegtestNode | undefined;
  try {
    node = await RegtestNode.start();
    const { rpc, miner } = node;
    const cookieFile = join(node.dataDir, 'regtest', '.cookie');
    const start = () =>
      BitStableNode.start({
        dataDir,
        network: 'regtest',
        keyStore: new PassphraseKeyStore(join(dataDir, 'keys'), KILL_SOAK_PASSPHRASE, {
          scrypt: REGTEST_SCRYPT,
        }),
        bitcoin: {
          kind: 'rpc',
          rpc: { url: rpc.config.url, auth: { kind: 'cookie', cookieFile } },
        },
      });
    /** The spends table before the restart: signed ones must be broadcast by it, drafts dropped. */
    const peek = () => {
      const file = join(dataDir, 'regtest', 'bitstable.sqlite');
      if (!existsSync(file)) return []; // killed at startup before the database was made
      const db = new Database(file, {
        readonly: true,
        fileMustExist: true,
      });
      try {
        return db
          .prepare(
            "SELECT state, count(*) AS n FROM spends WHERE state IN ('draft', 'signed') GROUP BY state",
          )
          .all() as { state: string; n: number }[];
      } catch {
        return []; // killed before the first migration committed
      } finally {
        db.close();
      }
    };
    options.log(
      `kill soak: seed ${seed}, ${options.runs} kills, data ${dataDir}, bitcoind ${rpc.config.url}`,
    );

    while (time.more(done)) {
      const where = `run ${done}`;
      const problems: string[] = [];
      const problem = (m: string) => {
        problems.push(m);
        options.log(`problem in ${where}: ${m}`);
      };
      const kind = rng.weighted({ startup: 1, timer: 6, fault: 3 });
      const plan: KillPlan =
        kind === 'startup'
          ? { kind, afterSpawnMs: rng.int(300, 3_000) }
          : kind === 'timer'
            ? { kind, afterReadyMs: rng.int(0, 4_000) }
            : { kind, point: rng.pick(FAULT_POINTS), backstopMs: 8_000 };
      f[`${kind}_kills`]++;
      let app: BitStableNode | undefined;
      try {
        const child = await runChild(
          [dataDir, rpc.config.url, cookieFile, String(rng.seed())],
          plan,
        );
        f.child_ops += child.ops;
        for (const [id, address] of child.created) created.set(id, address);
        journal = Math.max(journal, child.journal);
        if (child.signal === 'SIGKILL') {
          // Killed by our timer, or by the child's own fault point: both are the test, not a failure.
          f.killed++;
          if (!child.byUs) f.fault_hits++;
        } else if (child.code === 0) f.exited++;
        else {
          const fatal =
            child.stderr.split('\n').find((l) => l.startsWith('FATAL')) ??
            child.stderr.trim().split('\n').slice(-3).join(' | ');
          problem(
            `the child failed on its own (code ${child.code}, signal ${child.signal}): ${fatal}`,
          );
        }

        for (const { state, n } of peek())
          f[state === 'signed' ? 'signed_found' : 'drafts_found'] += n;

        // Restart (recovery runs inside start), then check.
        app = await start();
        const db = app.db;
        for (const p of await databaseProblems(db)) problem(p);
        for (const p of await spendProblems(db)) problem(p);
        const leftover = db
          .prepare("SELECT id, state FROM spends WHERE state IN ('draft', 'signed')")
          .all() as { id: number; state: string }[];
        for (const s of leftover) problem(`spend ${s.id} is still ${s.state} after the restart`);
        const keySets = db.prepare('SELECT count(*) FROM key_sets').pluck().get() as number;
        if (keySets !== 1) problem(`${keySets} key sets after the restart (the keys changed?)`);
        const addressOf = db.prepare('SELECT address FROM vaults WHERE id = ?').pluck();
        for (const [id, address] of created) {
          const now = addressOf.get(id) as string | undefined;
          if (now !== address)
            problem(
              `vault ${id} (${address}) was reported created but is ${now === undefined ? 'gone' : `now ${now}`}`,
            );
        }
        const lastEvent = db
          .prepare('SELECT COALESCE(MAX(id), 0) FROM events')
          .pluck()
          .get() as number;
        if (lastEvent < journal)
          problem(`the journal ends at ${lastEvent}, but the child reported ${journal} committed`);

        const conf = app.params.confirmations;
        for (const p of (await collateralProblems(rpc, db, app.network, conf, { incoming: true }))
          .problems)
          problem(`after restart: ${p}`);
        // Everything in the mempool confirms; then the chain alone is the truth.
        await miner.mine(1);
        await app.sync();
        for (const p of (await collateralProblems(rpc, db, app.network, conf, { incoming: true }))
          .problems)
          problem(`after a block: ${p}`);
        for (const p of await spendProblems(db)) problem(`after a block: ${p}`);
        for (const p of await paidOnce(rpc, db)) problem(p);
      } catch (err) {
        problem(`threw: ${describeError(err)}`);
      } finally {
        await app
          ?.stop()
          .catch((err: unknown) => problem(`stopping the restarted app: ${describeError(err)}`));
      }
      failures.endRun(`${where} (${kind} kill)`, problems, ` [seed ${seed}]`);
      done++;
      if (done % 10 === 0)
        options.log(
          `kill soak: ${done} kills, ${failures.count} failures, ${Math.round(time.elapsed())} s`,
        );
    }

    const db = new Database(join(dataDir, 'regtest', 'bitstable.sqlite'), { readonly: true });
    try {
      const count = (sql: string) => db.prepare(sql).pluck().get() as number;
      f.vaults = count('SELECT count(*) FROM vaults');
      f.settlements = count(
        "SELECT count(*) FROM spends WHERE kind = 'settlement' AND state = 'confirmed'",
      );
      f.withdrawals = count(
        "SELECT count(*) FROM spends WHERE kind = 'withdraw' AND state = 'confirmed'",
      );
      f.closes = count("SELECT count(*) FROM spends WHERE kind = 'close' AND state = 'confirmed'");
      f.takes = count('SELECT count(*) FROM auction_takes');
    } finally {
      db.close();
    }
  } finally {
    await node?.stop();
    if (node) rmSync(node.dataDir, { recursive: true, force: true });
    if (!keep(failures, options, dataDir)) rmSync(dataDir, { recursive: true, force: true });
  }
  return finish('kill', options, done, failures, { seed, ...f }, time.elapsed());
}

/**
 * Every spend's destination and every taker's address is a fresh address of the miner wallet, so
 * each must have been paid by exactly one transaction, with the planned amount.
 */
async function paidOnce(rpc: RegtestNode['rpc'], db: Database.Database): Promise<string[]> {
  const problems: string[] = [];
  const received = new Map<string, { txids: string[] }>();
  const rows = await rpc.call<{ address: string; txids: string[] }[]>(
    'listreceivedbyaddress',
    [0, false, true],
    { wallet: 'miner' },
  );
  for (const r of rows) received.set(r.address, r);
  const sent = db
    .prepare(
      "SELECT id, kind, destination, txid FROM spends WHERE state IN ('broadcast', 'confirmed') AND kind <> 'settlement'",
    )
    .all() as { id: number; kind: string; destination: string; txid: string }[];
  for (const s of sent) {
    const txids = received.get(s.destination)?.txids ?? [];
    if (txids.length !== 1 || txids[0] !== s.txid)
      problem(
        `${s.kind} ${s.id} pays ${s.destination}, which received ${txids.length} transaction(s) [${txids.join(', ')}]`,
      );
  }
  const takes = db
    .prepare(
      `SELECT t.btc_address AS address, s.txid FROM auction_takes t JOIN liquidations l ON l.id = t.liquidation_id
         JOIN spends s ON s.kind = 'settlement' AND s.state IN ('broadcast', 'confirmed') AND json_extract(s.plan, '$.auctionId') = l.id`,
    )
    .all() as { address: string; txid: string }[];
  for (const t of takes) {
    const txids = received.get(t.address)?.txids ?? [];
    if (txids.length !== 1 || txids[0] !== t.txid)
      problem(
        `the taker address ${t.address} received ${txids.length} transaction(s) [${txids.join(', ')}], not just settlement ${t.txid}`,
      );
  }
  return problems;

  function problem(m: string) {
    problems.push(m);
  }
}
