/**
 * Oracle benchmark (SPEC §13: a price update in under 10 ms, 1,000 per second).
 *
 * Prints exactly one line:
 *   bench oracle_rounds_per_s=<n> store_round_ms_p50=<x> store_round_ms_p99=<y> target_per_s=1000
 *
 * - oracle_rounds_per_s: full Oracle.runRound() calls per second with four in-process sources
 *   (collection under timeouts, outlier filter, median, circuit breaker, state, events), with
 *   storage stubbed out so the two costs are reported apart.
 * - store_round_ms_*: one round with four answers written in its transaction to a real SQLite
 *   file in a temp dir, opened as the app opens it (WAL, synchronous=FULL).
 * Bounded to a few seconds. Run: npx tsx scripts/bench-oracle.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openDatabase } from '../core/db/database';
import { EventBus } from '../core/events/bus';
import type { Cents } from '../core/money';
import {
  ManualClock,
  Oracle,
  OracleStore,
  resolveOracleConfig,
  SimulatedSource,
  type RoundRecord,
  type RoundStore,
} from '../core/oracle';
import { sqliteStore } from '../core/store/sqlite';

export interface OracleBenchResult {
  roundsPerS: number;
  storeP50Ms: number;
  storeP99Ms: number;
  targetPerS: number;
  line: string;
}

export interface OracleBenchOptions {
  /** Time spent on each half of the bench. */
  durationMs?: number;
  /** Print the line (default true). */
  print?: boolean;
}

const TARGET_PER_S = 1_000;

/** Runs the oracle bench and prints (and returns) its one line. */
export async function main(options: OracleBenchOptions = {}): Promise<OracleBenchResult> {
  const durationMs = options.durationMs ?? 1_000;
  const roundsPerS = await benchRounds(durationMs);
  const { p50, p99 } = await benchStore(durationMs);
  const line =
    `bench oracle_rounds_per_s=${Math.round(roundsPerS)} store_round_ms_p50=${p50.toFixed(3)} ` +
    `store_round_ms_p99=${p99.toFixed(3)} target_per_s=${TARGET_PER_S}`;
  if (options.print !== false) console.log(line);
  return { roundsPerS, storeP50Ms: p50, storeP99Ms: p99, targetPerS: TARGET_PER_S, line };
}

/** Oracle rounds per second with in-process sources and a store that keeps nothing. */
async function benchRounds(durationMs: number): Promise<number> {
  let nextId = 1;
  const nullStore: RoundStore = {
    saveRound: async () => nextId++,
    lastAccepted: async () => null,
    latestRound: async () => null,
    history: async () => [],
    round: async () => null,
    acceptedSince: async () => [],
    rounds: async () => [],
  };
  const sources = ['a', 'b', 'c', 'd'].map(
    (n, i) => new SimulatedSource((4_325_000 + i * 7) as Cents, n),
  );
  const clock = new ManualClock();
  const bus = new EventBus();
  bus.on('price.round', () => undefined);
  const config = resolveOracleConfig('mainnet', { threshold: 3 });
  const oracle = new Oracle({ network: 'mainnet', config, sources, store: nullStore, clock, bus });
  let rounds = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < durationMs) {
    // Prices wander by a few cents so the median and the outlier rule see changing input.
    for (let i = 0; i < sources.length; i++)
      sources[i]!.setPrice((4_325_000 + ((rounds * 13 + i * 7) % 50)) as Cents);
    clock.advance(1_000);
    await oracle.runRound();
    rounds++;
    elapsed = performance.now() - started;
  }
  return (rounds * 1_000) / elapsed;
}

/** Latency percentiles of storing a four-answer round in a real SQLite file. */
async function benchStore(durationMs: number): Promise<{ p50: number; p99: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'bitstable-bench-oracle-'));
  const db = openDatabase(join(dir, 'bench.db'));
  try {
    const store = new OracleStore(sqliteStore(db));
    const samples: number[] = [];
    const t0 = Date.UTC(2024, 0, 15, 12);
    const started = performance.now();
    for (let i = 0; performance.now() - started < durationMs && i < 20_000; i++) {
      const rec = record(t0 + i * 1_000, (4_325_000 + (i % 100)) as Cents);
      const s = performance.now();
      await store.saveRound(rec);
      if (i >= 20) samples.push(performance.now() - s); // the first writes warm caches and the WAL
    }
    samples.sort((a, b) => a - b);
    const at = (q: number) =>
      samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? Number.NaN;
    return { p50: at(0.5), p99: at(0.99) };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function record(ts: number, price: Cents): RoundRecord {
  const names = ['binance', 'coinbase', 'kraken', 'bitstamp'];
  return {
    network: 'mainnet',
    ts,
    priceCents: price,
    medianCents: price,
    status: 'ok',
    accepted: true,
    threshold: 2,
    moveBps: 1,
    sourcesUsed: names.slice(0, 3),
    answers: names.map((source, i) =>
      i < 3
        ? {
            source,
            priceCents: price,
            sourceTs: ts - 1_000,
            error: null,
            errorReason: null,
            dropped: null,
          }
        : {
            source,
            priceCents: null,
            sourceTs: null,
            error: `Price source ${source}: no answer within 3000 ms.`,
            errorReason: 'timeout' as const,
            dropped: 'error' as const,
          },
    ),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
