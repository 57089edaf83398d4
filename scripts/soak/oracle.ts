/**
 * Oracle soak: thousands of generated price-fault scenarios — stale and future source
 * timestamps, outliers, lost quorum, failing and hanging sources, sudden drops and jumps, single
 * bad rounds, clock gaps, and mixes of all of them — run through the real oracle (aggregation,
 * circuit breaker, SQLite price history) wired to the real health pass and auction house as the
 * app wires them (`price.accepted` → `healthPass`), on a real SQLite file with vaults at spread
 * ratios.
 *
 * A referee written from SPEC §7 (not from the oracle's code) recomputes every round from what
 * the sources were made to answer, and the soak fails on any difference in status or price; on
 * a liquidation at anything but an accepted round whose price is the median of at least
 * `threshold` fresh survivors within 2 %; on a move beyond the breaker limit accepted without a
 * confirming held round just before it; and on a vault left unliquidated below 150 % at an
 * accepted price.
 *
 * The chain is never touched: vault coins come from `FakeNoChainNode` (see there). Each
 * scenario starts from a copy of one template database, so scenarios are independent.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { keyExpression } from '../../core/bitcoin/keys';
import { network } from '../../core/config/networks';
import { checkpoint, openDatabase, type Sqlite } from '../../core/db/database';
import { isBitStableError } from '../../core/errors';
import { EventBus } from '../../core/events/bus';
import { AuctionHouse } from '../../core/liquidation/auction-house';
import type { Cents, Sats } from '../../core/money';
import { ManualClock } from '../../core/oracle/clock';
import { resolveOracleConfig } from '../../core/oracle/config';
import { Oracle, type RoundResult } from '../../core/oracle/oracle';
import { SimulatedSource } from '../../core/oracle/sources/simulated';
import type { PriceSource, SourceQuote } from '../../core/oracle/sources/types';
import { OracleStore } from '../../core/oracle/store';
import { ProtocolSigner } from '../../core/signers/protocol';
import { SoftwareSigner } from '../../core/signers/software';
import { SpendService } from '../../core/spends/service';
import { VaultOperations } from '../../core/vaults/operations';
import { VaultService } from '../../core/vaults/vault-service';
import { FakeNoChainNode } from './lib/fake-no-chain-node';
import { backTowards, crosses, Referee, within, type Injected } from './lib/oracle-rules';
import { planScenario, type ScenarioPlan } from './lib/oracle-scenarios';
import { budget, describeError, Failures, finish, seedOf } from './lib/report';
import { Rng } from './lib/rng';
import type { SoakOptions, SoakResult } from './lib/types';
import { sqliteStore } from '../../core/store/sqlite';

export const defaults = { runs: 10_000, seconds: 1_800 };

const net = network('regtest');
const params = net.defaults;
const SATS_PER_BTC = 100_000_000n;
const VAULTS = 12;
/** Collateral of the template's vaults: 0.01 to 3 BTC. */
const COLLATERAL: number[] = Array.from({ length: VAULTS }, (_, i) =>
  Math.round(1_000_000 + (i * 299_000_000) / (VAULTS - 1)),
);

/** A simulated source that can also be made to hang until the oracle's timeout aborts it. */
class ScriptedSource implements PriceSource {
  readonly sim: SimulatedSource;
  hang = false;

  constructor(readonly name: string) {
    this.sim = new SimulatedSource(null, name);
  }

  fetch(signal: AbortSignal): Promise<SourceQuote> {
    if (!this.hang) return this.sim.fetch(signal);
    return new Promise((_, reject) =>
      signal.addEventListener('abort', () => reject(new Error('soak: hung source aborted'))),
    );
  }

  set(answer: Injected): void {
    this.hang = answer.kind === 'hang';
    this.sim.setFailure(answer.kind === 'error' ? new Error('soak: source down') : null);
    if (answer.kind === 'price') {
      this.sim.setPrice(answer.priceCents as Cents);
      this.sim.setSourceTs(answer.ts);
    }
  }
}

// ---- The template database: vaults with collateral, no debt, no prices ----

async function makeSigners() {
  const signer = (role: 'owner' | 'protocol' | 'guardian') =>
    new SoftwareSigner({ role, network: net, secret: { seed: randomBytes(32) } });
  const owner = signer('owner');
  const protocolKey = signer('protocol');
  const guardian = signer('guardian');
  return {
    owner,
    protocol: new ProtocolSigner(protocolKey, net),
    guardian,
    keys: {
      owner: keyExpression(await owner.accountKey()),
      protocol: keyExpression(await protocolKey.accountKey()),
      guardian: keyExpression(await guardian.accountKey()),
    },
  };
}

async function buildTemplate(path: string, signers: Awaited<ReturnType<typeof makeSigners>>) {
  const db = openDatabase(path);
  try {
    const node = new FakeNoChainNode();
    const vaults = new VaultService({
      store: sqliteStore(db),
      node,
      network: net,
      params,
      bus: new EventBus(),
    });
    const keySetId = await vaults.registerKeySet(signers.keys);
    for (let i = 0; i < VAULTS; i++) {
      const v = await vaults.createVault({
        keySetId,
        label: `oracle-soak-${i}`,
        returnAddress: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
      });
      node.utxos.push({
        txid: randomBytes(32).toString('hex'),
        vout: 0,
        address: v.address,
        amountSats: COLLATERAL[i]! as Sats,
        confirmations: 6,
      });
    }
    await vaults.syncDeposits();
    checkpoint(db, 'TRUNCATE');
    return node.utxos;
  } finally {
    db.close();
  }
}

// ---- One scenario ----

/** Each scenario's clock starts on its own day. */
const startOf = (index: number) => Date.UTC(2025, 0, 1) + index * 86_400_000;

interface Tally {
  rounds: number;
  accepted: number;
  held: number;
  short: number;
  liquidations: number;
  rejectedCrossings: number;
  breakerConfirms: number;
  hung: number;
}

interface VaultRow {
  id: number;
  state: string;
  collateral_sats: number;
  debt_cents: number;
}

async function runScenario(
  index: number,
  plan: ScenarioPlan,
  template: string,
  work: string,
  signers: Awaited<ReturnType<typeof makeSigners>>,
  utxos: FakeNoChainNode['utxos'],
  fail: (m: string) => void,
  tally: Tally,
): Promise<void> {
  for (const suffix of ['', '-wal', '-shm']) rmSync(work + suffix, { force: true });
  copyFileSync(template, work);
  const db: Sqlite = openDatabase(work);
  try {
    const config = resolveOracleConfig('regtest', {
      sources: {
        binance: { enabled: true },
        coinbase: { enabled: true },
        kraken: { enabled: true },
        bitstamp: { enabled: true },
      },
      threshold: plan.threshold,
      circuitBreakerBps: plan.breakerBps,
      breakerConfirmMs: plan.confirmMs,
      timeoutMs: 50,
    });
    const clock = new ManualClock(startOf(index));
    const bus = new EventBus();
    const sources = Array.from(
      { length: plan.sources },
      (_, i) => new ScriptedSource(`sim-${i + 1}`),
    );
    const oracle = new Oracle({
      network: 'regtest',
      config,
      sources,
      store: new OracleStore(sqliteStore(db)),
      clock,
      bus,
    });
    const node = new FakeNoChainNode();
    node.utxos = utxos;
    const now = () => clock.now();
    const freshPrice = () => {
      const s = oracle.current();
      return s.status === 'ok' ? s.priceCents : null;
    };
    const vaults = new VaultService({
      store: sqliteStore(db),
      node,
      network: net,
      params,
      bus,
      freshPrice,
      clock: now,
    });
    const spends = new SpendService({
      store: sqliteStore(db),
      node,
      network: net,
      params,
      bus,
      price: oracle,
      vaults,
      signers: { owner: signers.owner, protocol: signers.protocol, guardian: signers.guardian },
      clock: now,
    });
    const operations = await VaultOperations.open({
      store: sqliteStore(db),
      network: net,
      params,
      bus,
      price: oracle,
      vaults,
      spends,
      clock: now,
    });
    const liquidation = new AuctionHouse({
      store: sqliteStore(db),
      node,
      network: net,
      params,
      bus,
      price: oracle,
      vaults,
      spends,
      signers: { protocol: signers.protocol, guardian: signers.guardian },
      clock: now,
    });
    // As BitStableNode.start wires it: every accepted (so fresh) round runs a health pass. (The
    // bus would swallow a throw; the soak counts it.)
    // The round's pass is awaited before the round's liquidations are checked.
    let pass: Promise<void> = Promise.resolve();
    bus.on('price.accepted', ({ priceCents }) => {
      pass = (async () => {
        try {
          if (oracle.current().status === 'ok') await liquidation.healthPass(priceCents as Cents);
        } catch (err) {
          fail(`scenario ${index}: the health pass threw: ${describeError(err)}`);
        }
      })();
    });

    const referee = new Referee(config);
    const loadVaults = () =>
      db
        .prepare('SELECT id, state, collateral_sats, debt_cents FROM vaults ORDER BY id')
        .all() as VaultRow[];
    const maxLiquidation = () =>
      db.prepare('SELECT COALESCE(MAX(id), 0) FROM liquidations').pluck().get() as number;
    const byRound = new Map<number, { price: bigint | null; used: number[] }>();
    const where = `scenario ${index} (${plan.type}, ${plan.sources} sources, threshold ${plan.threshold}, breaker ${plan.breakerBps} bps, confirm ${plan.confirmMs} ms)`;

    for (let k = 0; k < plan.rounds.length; k++) {
      const r = plan.rounds[k]!;
      clock.advance(r.advanceMs);
      r.answers.forEach((a, i) => sources[i]!.set(a));
      if (r.answers.some((a) => a.kind === 'hang')) tally.hung++;
      const before = loadVaults();
      const lastLiq = maxLiquidation();
      const ts = clock.now();
      const expected = referee.round(r.answers, ts);
      const result: RoundResult = await oracle.runRound();
      await pass;
      byRound.set(result.roundId, { price: expected.price, used: expected.used });
      tally.rounds++;
      if (result.status === 'ok') tally.accepted++;
      else if (result.status === 'held') tally.held++;
      else tally.short++;

      const got = result.priceCents === null ? null : BigInt(result.priceCents);
      if (
        result.status !== expected.status ||
        got !== expected.price ||
        result.accepted !== (expected.status === 'ok')
      ) {
        fail(
          `${where} round ${k}: the oracle said ${result.status} at ${String(got)}, the rules say ${expected.status} at ${String(expected.price)} (${expected.survivors} survivors)`,
        );
      }

      // Liquidations: exactly the vaults below 150 % at an accepted price; none otherwise.
      const started = db
        .prepare(
          'SELECT vault_id, price_cents, started_at FROM liquidations WHERE id > ? ORDER BY vault_id',
        )
        .all(lastLiq) as { vault_id: number; price_cents: number; started_at: number }[];
      tally.liquidations += started.length;
      const candidates = before.filter(
        (v) => (v.state === 'active' || v.state === 'warning') && v.debt_cents > 0,
      );
      if (result.accepted && result.priceCents !== null) {
        const p = BigInt(result.priceCents);
        const due = candidates
          .filter((v) => crosses(v.collateral_sats, v.debt_cents, p, params.liquidationRatioBps))
          .map((v) => v.id);
        const got = started.map((s) => s.vault_id);
        if (due.join(',') !== got.join(',')) {
          fail(
            `${where} round ${k}: at accepted price ${p} vaults [${due}] are below 150 % but [${got}] were liquidated`,
          );
        }
        for (const s of started) {
          if (s.price_cents !== result.priceCents || s.started_at !== ts) {
            fail(
              `${where} round ${k}: vault ${s.vault_id} liquidated at ${s.price_cents} (ts ${s.started_at}), not at the round's ${result.priceCents} (ts ${ts})`,
            );
          }
        }
        if (result.moveBps !== null && result.moveBps > plan.breakerBps) tally.breakerConfirms++;
      } else {
        if (started.length > 0) {
          fail(
            `${where} round ${k}: ${started.length} liquidation(s) on a ${result.status} round (price ${String(got)})`,
          );
        }
        // Would a naive oracle, trusting any one source, have liquidated here?
        const raw = r.answers.flatMap((a) => (a.kind === 'price' ? [BigInt(a.priceCents)] : []));
        if (
          raw.some((p) =>
            candidates.some((v) =>
              crosses(v.collateral_sats, v.debt_cents, p, params.liquidationRatioBps),
            ),
          )
        )
          tally.rejectedCrossings++;
      }

      if (k === 0) {
        // Mint each vault to its target ratio at the first, clean, accepted price.
        if (result.status !== 'ok') {
          fail(`${where}: the clean first round was not accepted (${result.status})`);
          return;
        }
        const base = BigInt(result.priceCents!);
        for (const v of loadVaults()) {
          const i = v.id - 1;
          const ratio = plan.ratios[i] ?? 0;
          if (ratio === 0) continue;
          const debt = Number(
            (BigInt(v.collateral_sats) * base * 10_000n) / (BigInt(ratio) * SATS_PER_BTC),
          );
          if (debt < params.debtFloorCents) continue;
          try {
            await operations.mint(v.id, debt);
          } catch (err) {
            fail(
              `${where}: minting ${debt} cents on vault ${v.id} at ratio ${ratio} bps failed: ${describeError(err)}`,
            );
          }
        }
      }
    }

    // The audit, from the database alone: every liquidation at an accepted, fresh, confirmed price.
    const store = new OracleStore(sqliteStore(db));
    const liquidations = db
      .prepare('SELECT id, vault_id, price_cents, started_at FROM liquidations')
      .all() as {
      id: number;
      vault_id: number;
      price_cents: number;
      started_at: number;
    }[];
    const rounds = db
      .prepare('SELECT id, ts, price_cents, status, accepted FROM price_rounds ORDER BY id')
      .all() as {
      id: number;
      ts: number;
      price_cents: number | null;
      status: string;
      accepted: number;
    }[];
    for (const l of liquidations) {
      const round = rounds.find((r) => r.ts === l.started_at);
      if (!round || round.accepted !== 1 || round.price_cents !== l.price_cents) {
        fail(
          `${where}: liquidation ${l.id} (vault ${l.vault_id}) at ${l.price_cents} matches no accepted round`,
        );
        continue;
      }
      // Recomputed from what the sources were made to answer, and matched with what was stored.
      const byRule = byRound.get(round.id)!;
      const used = new Set(byRule.used.map((i) => sources[i]!.name));
      const stored = (await store.round(round.id))!;
      const storedUsed = stored.answers.filter((a) => a.dropped === null).map((a) => a.source);
      if (
        byRule.price !== BigInt(l.price_cents) ||
        byRule.used.length < config.threshold ||
        storedUsed.length !== used.size ||
        storedUsed.some((s) => !used.has(s))
      ) {
        fail(
          `${where}: liquidation ${l.id} at ${l.price_cents} is not the median of ${config.threshold}+ fresh survivors within 2 % (the rule gives ${String(byRule.price)} from [${[...used]}]; stored [${storedUsed}])`,
        );
      }
    }
    // The breaker: a move beyond the limit of the last price, or of any price accepted in the
    // window since the last confirmed move, is accepted only right after a held round it confirms.
    let lastAccepted: number | null = null;
    let window: { ts: number; p: bigint }[] = [];
    for (let i = 0; i < rounds.length; i++) {
      const r = rounds[i]!;
      if (r.accepted !== 1 || r.price_cents === null) continue;
      const p = BigInt(r.price_cents);
      window = window.filter((w) => r.ts - w.ts <= config.breakerWindowMs);
      const beyond =
        lastAccepted !== null &&
        (!within(BigInt(lastAccepted), p, config.circuitBreakerBps) ||
          window.some((w) => !within(w.p, p, config.circuitBreakerBps))) &&
        !backTowards(BigInt(lastAccepted), window[0]?.p, p, config.circuitBreakerBps);
      window = beyond ? [{ ts: r.ts, p }] : [...window, { ts: r.ts, p }];
      if (beyond) {
        // The last priced round before it (rounds without a price only pause a hold). With a
        // standing time that is the last of the hold's rounds, each within the limit of the
        // held price, so only its status is checked then.
        const prev = rounds
          .slice(0, i)
          .reverse()
          .find((q) => q.status !== 'insufficient-sources');
        if (
          !prev ||
          prev.status !== 'held' ||
          prev.price_cents === null ||
          (plan.confirmMs === 0 && !within(BigInt(prev.price_cents), p, config.circuitBreakerBps))
        ) {
          fail(
            `${where}: round ${r.id} moved ${lastAccepted} → ${r.price_cents} beyond the breaker (or its window) without a confirming held round before it`,
          );
        }
      }
      lastAccepted = r.price_cents;
    }
    const ledger = await sqliteStore(db).ledger.checkInvariant();
    if (!ledger.ok) fail(`${where}: ledger invariant: ${ledger.problems.join('; ')}`);
  } finally {
    db.close();
  }
}

/** Runs the oracle soak; prints `soak oracle runs=… failures=… …`. */
export async function run(options: SoakOptions): Promise<SoakResult> {
  const seed = seedOf(options);
  const rng = new Rng(seed);
  const failures = new Failures(options.log);
  const time = budget(options);
  const dir = mkdtempSync(join(tmpdir(), 'bitstable-soak-oracle-'));
  const tally: Tally = {
    rounds: 0,
    accepted: 0,
    held: 0,
    short: 0,
    liquidations: 0,
    rejectedCrossings: 0,
    breakerConfirms: 0,
    hung: 0,
  };
  const types: Record<string, number> = {};
  let done = 0;
  try {
    const template = join(dir, 'template.sqlite');
    const work = join(dir, 'scenario.sqlite');
    const signers = await makeSigners();
    const utxos = await buildTemplate(template, signers);
    const limits = resolveOracleConfig('regtest');
    options.log(
      `oracle soak: seed ${seed}, ${options.runs} scenarios, ${VAULTS} vaults each, database ${work}`,
    );
    while (time.more(done)) {
      const plan = planScenario(new Rng(rng.seed()), VAULTS, limits, startOf(done));
      types[plan.type] = (types[plan.type] ?? 0) + 1;
      try {
        await runScenario(
          done,
          plan,
          template,
          work,
          signers,
          utxos,
          (m) => failures.add(`${m} [seed ${seed}]`),
          tally,
        );
      } catch (err) {
        failures.add(`scenario ${done} (${plan.type}) threw: ${describeError(err)} [seed ${seed}]`);
        if (!isBitStableError(err)) options.log(String((err as Error).stack ?? err));
      }
      done++;
      if (done % 1000 === 0)
        options.log(
          `oracle soak: ${done} scenarios, ${failures.count} failures, ${Math.round(time.elapsed())} s`,
        );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return finish(
    'oracle',
    options,
    done,
    failures,
    {
      seed,
      chain: 'fake',
      rounds: tally.rounds,
      accepted: tally.accepted,
      held: tally.held,
      short: tally.short,
      liquidations: tally.liquidations,
      rejected_crossings: tally.rejectedCrossings,
      breaker_confirms: tally.breakerConfirms,
      hung_sources: tally.hung,
    },
    time.elapsed(),
  );
}
