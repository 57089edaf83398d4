/**
 * The PostgreSQL adapter of the storage ports: one `Store` over a pool (its repositories share
 * the executor, which finds the caller's transaction by async context). The statements are the
 * SQLite adapter's twins, file by file; `test/integration/pg-store-*.test.ts` runs each method on
 * both engines and compares the answers.
 */
import type pg from 'pg';
import type { Store } from '../ports';
import { PgExecutor, type PgExecutorOptions } from './executor';
import { PgAccounts } from './accounts';
import { PgOracleRounds } from './oracle';
import { PgNodeOps } from './node-ops';
import { PgVaults } from './vaults';
import { PgAuctions } from './auctions';
import { PgPool } from './pool';
import { PgLedger } from './ledger';
import { PgSpends } from './spends';
import { PgRedemptions } from './redemptions';

/** The store over a pool on a migrated database (`migratePostgres`). */
export function pgStore(pool: pg.Pool, options: PgExecutorOptions = {}): Store {
  return pgStoreOn(new PgExecutor(pool, options));
}

/** The store over an executor the caller keeps too (a benchmark's own statements, in its transactions). */
export function pgStoreOn(x: PgExecutor): Store {
  return {
    dialect: 'postgres',
    transaction: <T>(fn: () => Promise<T>): Promise<T> => x.transaction(fn),
    accounts: new PgAccounts(x),
    oracle: new PgOracleRounds(x),
    ops: new PgNodeOps(x),
    vaults: new PgVaults(x),
    auctions: new PgAuctions(x),
    pool: new PgPool(x),
    ledger: new PgLedger(x),
    spends: new PgSpends(x),
    redemptions: new PgRedemptions(x),
  };
}
