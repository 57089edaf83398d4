/**
 * The one module that owns PostgreSQL clusters in tests (as helpers/regtest.ts owns bitcoind): a
 * private cluster started before the file's tests and always stopped after them, with the pools
 * the tests opened on it. Without PostgreSQL the file is skipped with a message; on CI it must be
 * there (`npm run setup` installs it), so there the start fails instead.
 */
import type pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { openPostgres } from '../../core/db/pg/database';
import {
  findPostgresBin,
  startLocalPostgres,
  type LocalPostgres,
} from '../../core/db/pg/local-cluster';

/** Whether this file's PostgreSQL tests run (for `describe.skipIf(!pgRuns)`). */
export const pgRuns = findPostgresBin() !== null || Boolean(process.env.CI);
if (!pgRuns) console.warn('PostgreSQL is not installed (apt-get install postgresql): skipped.');

/** Starts a cluster for the current file; `cluster()` inside tests, `pool()` for a new pool on it. */
export function usePostgres(before: () => Promise<void> = async () => {}) {
  let cluster: LocalPostgres | undefined;
  const pools: pg.Pool[] = [];
  beforeAll(async () => {
    if (pgRuns) cluster = await startLocalPostgres();
  }, 60_000);
  afterAll(async () => {
    await before();
    await Promise.all(pools.map((p) => p.end()));
    await cluster?.stop();
  });
  const get = () => {
    if (!cluster) throw new Error('the PostgreSQL cluster did not start; see the beforeAll error');
    return cluster;
  };
  return {
    cluster: get,
    pool: (max = 2) => {
      const p = openPostgres(get().url, { max });
      pools.push(p);
      return p;
    },
  };
}

/** Waits until `ok()` holds, up to `ms`; throws naming `what` otherwise. */
export async function until(
  what: string,
  ok: () => boolean | Promise<boolean>,
  ms = 10_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
