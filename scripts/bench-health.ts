/**
 * Benchmark of the health pass at 100,000 vaults (issue 7 / SPEC §13): one price round's pass
 * with the indexed range queries, beside a naive pass that loads and checks every vault, on two
 * identical real SQLite files, over the same random walk of prices. Both apply the state changes
 * they find in one transaction, so the comparison is like for like.
 *
 * The walk: an accepted round every 10 s (the oracle's default interval) with BTC at 60 %
 * annualized volatility moves the price by σ = 0.6 / √(3.15e6 rounds a year) ≈ 0.034 % a round.
 * A second line repeats the run at ten times that (σ = 0.34 %), where hundreds of vaults cross
 * each round and the cost is the writes, not the search.
 *
 *   bench health_pass vaults=100000 indexed_ms_p50=… indexed_ms_p99=… naive_ms_p50=… naive_ms_p99=…
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { network } from '../core/config/networks';
import { checkpoint, openDatabase, type Sqlite } from '../core/db/database';
import { HealthQueries, naiveChangesAt, type HealthChanges } from '../core/liquidation/health-pass';
import type { Cents, Sats } from '../core/money';
import { sqliteStore } from '../core/store/sqlite';
import { thresholdPrice } from '../core/vaults/health';
import { healthBand } from '../core/vaults/state';
import { pct } from './bench/percentile';

const params = network('regtest').defaults;

/** One seeded vault of the benchmark's book (the same for the same seed, on either engine). */
export interface SeedVault {
  idx: number;
  state: string;
  collateral: Sats;
  debt: Cents;
  liquidation: Cents | null;
  warning: Cents | null;
}

/** The benchmark's vaults: ratios spread from 150 % to 400 % at `price`, a tenth without debt. */
export function* seedVaults(vaults: number, price: Cents, seed: number): Generator<SeedVault> {
  let s = seed;
  const rand = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < vaults; i++) {
    const collateral = Math.floor(1_000_000 + rand() * 199_000_000) as Sats;
    const ratio = 1.5 + rand() * 2.5;
    const debt = (
      rand() < 0.1 ? 0 : Math.max(5_000, Math.floor((collateral * price) / 1e8 / ratio))
    ) as Cents;
    // Keys of the exact debt at rate 1.0 (without the pass's one-cent margin), so the naive
    // pass, which reads the debt, agrees with the index vault for vault.
    const state = debt === 0 ? 'active' : healthBand(collateral, debt, price, params);
    yield {
      idx: i,
      state: state === 'liquidating' ? 'warning' : state,
      collateral,
      debt,
      liquidation: thresholdPrice(collateral, debt, params.liquidationRatioBps),
      warning: thresholdPrice(collateral, debt, params.warningRatioBps),
    };
  }
}

function seedDb(path: string, vaults: number, price: Cents, seed: number): Sqlite {
  // Opened as the app opens it: WAL checkpoints in the background, not inside commits.
  const db = openDatabase(path, { backgroundCheckpoints: true });
  db.prepare(
    "INSERT INTO key_sets (network, owner_key, protocol_key, guardian_key, created_at) VALUES ('regtest','o','p','g',0)",
  ).run();
  const insert = db.prepare(
    `INSERT INTO vaults (key_set_id, idx, network, address, descriptor, state, collateral_sats, debt_cents,
       debt_art, liquidation_price_cents, warning_price_cents, created_at, updated_at)
     VALUES (1, ?, 'regtest', ?, '', ?, ?, ?, ?, ?, ?, 0, 0)`,
  );
  db.transaction(() => {
    for (const v of seedVaults(vaults, price, seed)) {
      insert.run(
        v.idx,
        `addr${v.idx}`,
        v.state,
        v.collateral,
        v.debt,
        v.debt * 1_000_000,
        v.liquidation,
        v.warning,
      );
    }
  })();
  db.pragma('optimize');
  checkpoint(db, 'TRUNCATE');
  return db;
}

/** A seeded random walk of prices: a Gaussian step per round (Box–Muller), the same every run. */
export function* priceWalk(start: Cents, rounds: number, sigma: number): Generator<Cents> {
  let price: number = start;
  let s = 11;
  for (let r = 0; r < rounds; r++) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const u1 = (s + 1) / (2 ** 31 + 1);
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const u2 = s / 2 ** 31;
    const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    price = Math.max(1_000_000, Math.round(price * (1 + sigma * z)));
    yield price as Cents;
  }
}

function apply(db: Sqlite, c: HealthChanges): void {
  const set = db.prepare('UPDATE vaults SET state = ? WHERE id = ?');
  db.transaction(() => {
    for (const id of c.toLiquidating) set.run('liquidating', id);
    for (const id of c.toWarning) set.run('warning', id);
    for (const id of c.toActive) set.run('active', id);
  })();
}

export interface HealthBenchResult {
  vaults: number;
  indexedP50: number;
  indexedP99: number;
  naiveP50: number;
  naiveP99: number;
}

/** Runs the benchmark and prints its line. */
export async function main(
  options: { vaults?: number; rounds?: number; sigma?: number; label?: string } = {},
): Promise<HealthBenchResult> {
  const vaults = options.vaults ?? 100_000;
  const rounds = options.rounds ?? 300;
  const sigma = options.sigma ?? 0.00034;
  const label = options.label ?? 'health_pass';
  const dir = mkdtempSync(join(tmpdir(), 'bitstable-bench-'));
  try {
    const start = 4_500_000 as Cents;
    const indexedDb = seedDb(join(dir, 'indexed.sqlite'), vaults, start, 7);
    const naiveDb = seedDb(join(dir, 'naive.sqlite'), vaults, start, 7);
    const queries = new HealthQueries(sqliteStore(indexedDb).auctions);
    const indexed: number[] = [];
    const naive: number[] = [];
    let r = -1;
    for (const p of priceWalk(start, rounds, sigma)) {
      r++;
      // The app's background checkpoint (every 30 s, i.e. every 3 rounds), outside the timing.
      if (r % 3 === 0) {
        checkpoint(indexedDb);
        checkpoint(naiveDb);
      }
      let t = performance.now();
      const a = await queries.changesAt(p);
      apply(indexedDb, a);
      indexed.push(performance.now() - t);
      if (r < Math.min(rounds, 60)) {
        t = performance.now();
        const b = await naiveChangesAt(
          sqliteStore(naiveDb).auctions,
          p,
          params.liquidationRatioBps,
          params.warningRatioBps,
        );
        apply(naiveDb, b);
        naive.push(performance.now() - t);
        if (
          a.toLiquidating.length !== b.toLiquidating.length ||
          a.toWarning.length !== b.toWarning.length
        ) {
          throw new Error(`indexed and naive passes disagree at price ${p}`);
        }
      }
    }
    indexedDb.close();
    naiveDb.close();
    const result = {
      vaults,
      indexedP50: pct(indexed, 0.5),
      indexedP99: pct(indexed, 0.99),
      naiveP50: pct(naive, 0.5),
      naiveP99: pct(naive, 0.99),
    };
    const f = (x: number) => x.toFixed(3);
    console.log(
      `bench ${label} vaults=${vaults} indexed_ms_p50=${f(result.indexedP50)} indexed_ms_p99=${f(result.indexedP99)} naive_ms_p50=${f(result.naiveP50)} naive_ms_p99=${f(result.naiveP99)}`,
    );
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The realistic run, then the stress run at ten times the volatility. */
export async function both(): Promise<void> {
  await main();
  await main({ sigma: 0.0034, label: 'health_pass_stress', rounds: 200 });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  both().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
