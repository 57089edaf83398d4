/**
 * `bench health_pass_pg`: the health pass over 100,000 vaults on PostgreSQL (a private cluster on
 * loopback) beside the same pass on SQLite, in the same run, on the same seeded book and the same
 * price walk. Each round: the index queries of the pass (PgAuctions / SqliteAuctions through
 * `HealthQueries`) and the writes of the vaults that changed band, in one transaction.
 * Run: npx tsx scripts/bench-health-pg.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { migratePostgres, openPostgres } from '../core/db/pg/database';
import { findPostgresBin, startLocalPostgres } from '../core/db/pg/local-cluster';
import { openDatabase } from '../core/db/database';
import { HealthQueries, type HealthChanges } from '../core/liquidation/health-pass';
import type { Cents } from '../core/money';
import type { Store } from '../core/store/ports';
import { pgStoreOn } from '../core/store/pg';
import { PgExecutor } from '../core/store/pg/executor';
import { sqliteStore } from '../core/store/sqlite';
import { priceWalk, seedVaults } from './bench-health';
import { pct } from './bench/percentile';

const START = 4_500_000 as Cents;
const BATCH = 5_000;

/** The book into a migrated store, as the SQLite bench seeds it (batched inserts). */
async function seed(insert: (rows: unknown[][]) => Promise<void>, vaults: number): Promise<void> {
  let batch: unknown[][] = [];
  for (const v of seedVaults(vaults, START, 7)) {
    batch.push([
      v.idx,
      `addr${v.idx}`,
      v.state,
      v.collateral,
      v.debt,
      v.debt * 1_000_000,
      v.liquidation,
      v.warning,
    ]);
    if (batch.length === BATCH) {
      await insert(batch);
      batch = [];
    }
  }
  if (batch.length) await insert(batch);
}

type SetStates = (state: string, ids: number[]) => Promise<void>;

/** One round: the pass's queries, then one write per band that changed, in one transaction. */
async function pass(
  store: Store,
  queries: HealthQueries,
  setStates: SetStates,
  p: Cents,
): Promise<HealthChanges> {
  const c = await queries.changesAt(p);
  await store.transaction(async () => {
    if (c.toLiquidating.length) await setStates('liquidating', c.toLiquidating);
    if (c.toWarning.length) await setStates('warning', c.toWarning);
    if (c.toActive.length) await setStates('active', c.toActive);
  });
  return c;
}

export async function main(options: { vaults?: number; rounds?: number } = {}): Promise<void> {
  const vaults = options.vaults ?? 100_000;
  const rounds = options.rounds ?? 300;
  if (!findPostgresBin()) {
    console.log('bench health_pass_pg skipped: PostgreSQL is not installed (npm run setup)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'bitstable-bench-pg-'));
  const cluster = await startLocalPostgres();
  const pool = openPostgres(cluster.url, { max: 4 });
  try {
    await migratePostgres(pool);
    await pool.query(
      "INSERT INTO key_sets (network, owner_key, protocol_key, guardian_key, created_at) VALUES ('regtest','o','p','g',0)",
    );
    await seed(async (rows) => {
      const cols = rows[0]!.map((_, i) => rows.map((r) => r[i]));
      await pool.query(
        `INSERT INTO vaults (key_set_id, idx, network, address, descriptor, state, collateral_sats, debt_cents,
           debt_art, liquidation_price_cents, warning_price_cents, created_at, updated_at)
         SELECT 1, idx, 'regtest', address, '', state, c, d, a, l, w, 0, 0
           FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[])
             AS t(idx, address, state, c, d, a, l, w)`,
        cols,
      );
    }, vaults);
    await pool.query('VACUUM ANALYZE vaults');

    const db = openDatabase(join(dir, 'bench.sqlite'), { backgroundCheckpoints: true });
    db.prepare(
      "INSERT INTO key_sets (network, owner_key, protocol_key, guardian_key, created_at) VALUES ('regtest','o','p','g',0)",
    ).run();
    const insert = db.prepare(
      `INSERT INTO vaults (key_set_id, idx, network, address, descriptor, state, collateral_sats, debt_cents,
         debt_art, liquidation_price_cents, warning_price_cents, created_at, updated_at)
       VALUES (1, ?, 'regtest', ?, '', ?, ?, ?, ?, ?, ?, 0, 0)`,
    );
    await seed(async (rows) => {
      db.transaction(() => {
        for (const r of rows) insert.run(...r);
      })();
    }, vaults);
    db.pragma('optimize');

    // The pass's writes inside the store's transaction: on PostgreSQL through the executor's
    // connection of that transaction (a pool query would run outside it), on SQLite directly.
    const x = new PgExecutor(pool);
    const pgS = pgStoreOn(x);
    const pgSet: SetStates = async (state, ids) => {
      await x.run('UPDATE vaults SET state = $1 WHERE id = ANY($2::bigint[])', [state, ids]);
    };
    const liteUpdate = db.prepare('UPDATE vaults SET state = ? WHERE id = ?');
    const liteSet: SetStates = async (state, ids) => {
      for (const id of ids) liteUpdate.run(state, id);
    };
    const liteS = sqliteStore(db);
    const pgQ = new HealthQueries(pgS.auctions);
    const liteQ = new HealthQueries(liteS.auctions);
    const onPg: number[] = [];
    const onLite: number[] = [];
    let crossings = 0;
    for (const p of priceWalk(START, rounds, 0.00034)) {
      let t = performance.now();
      const a = await pass(pgS, pgQ, pgSet, p);
      onPg.push(performance.now() - t);
      t = performance.now();
      const b = await pass(liteS, liteQ, liteSet, p);
      onLite.push(performance.now() - t);
      crossings += a.toLiquidating.length + a.toWarning.length + a.toActive.length;
      if (
        a.toLiquidating.length !== b.toLiquidating.length ||
        a.toWarning.length !== b.toWarning.length ||
        a.toActive.length !== b.toActive.length
      )
        throw new Error(`PostgreSQL and SQLite passes disagree at price ${p}`);
    }
    db.close();
    const f = (x: number) => x.toFixed(3);
    console.log(
      `bench health_pass_pg vaults=${vaults} rounds=${rounds} crossings=${crossings} pg_ms_p50=${f(pct(onPg, 0.5))} pg_ms_p99=${f(pct(onPg, 0.99))} sqlite_ms_p50=${f(pct(onLite, 0.5))} sqlite_ms_p99=${f(pct(onLite, 0.99))}`,
    );
  } finally {
    await pool.end();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
