/**
 * Which database the protocol nodes of this test run use: SQLite (the `integration` project) or
 * PostgreSQL (`integration-pg`, whose global setup starts one cluster for the run). On
 * PostgreSQL every node gets a fresh database of its own, so files and tests never share data.
 */
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import type { BitStableNode } from '../../core/app/bitstable-node';
import { logicalHash } from '../../core/db/snapshot';
import { pgSql, sqliteSql, type SoakSql } from '../../scripts/soak/lib/sql';

/** True in the PostgreSQL run of the integration suite. */
export const onPostgres = process.env.BITSTABLE_TEST_DB === 'postgres';

/** The `database` option for a node this test starts: a new, empty PostgreSQL database, or none. */
export async function testDatabase(): Promise<{ postgres: string } | undefined> {
  if (!onPostgres) return undefined;
  const url = inject('postgresUrl');
  const name = `node_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(url);
  u.pathname = `/${name}`;
  return { postgres: u.toString() };
}

const pools = new Map<string, pg.Pool>();
const poolFor = (url: string) => {
  let pool = pools.get(url);
  if (!pool) {
    pool = new pg.Pool({ connectionString: url, max: 2 });
    pools.set(url, pool);
  }
  return pool;
};

/** Closes the pools `tablesOf` and `snapshotOf` opened (useBitStableNode does, after its node). */
export async function closeTestPools(): Promise<void> {
  await Promise.all([...pools.values()].map((p) => p.end()));
  pools.clear();
}

/**
 * The node's tables for a test's own checks, on either engine: statements in SQLite's dialect
 * (`?`, `json_extract`), translated for PostgreSQL.
 */
export function tablesOf(app: BitStableNode): SoakSql {
  const url = app.postgresUrl;
  return url ? pgSql(poolFor(url)) : sqliteSql(app.db);
}

/**
 * A hash of everything the node's database holds: equal before and after a refused call means
 * nothing changed. SQLite: `logicalHash`; PostgreSQL: every table's rows as text, sorted.
 */
export async function snapshotOf(app: BitStableNode): Promise<string> {
  const url = app.postgresUrl;
  if (!url) return logicalHash(app.db);
  const pool = poolFor(url);
  const hash = createHash('sha256');
  const { rows: tables } = await pool.query<{ name: string }>(
    "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
  );
  for (const { name } of tables) {
    hash.update(`table ${name}\n`);
    const { rows } = await pool.query<{ r: string }>(
      `SELECT x::text AS r FROM "${name}" x ORDER BY 1`,
    );
    for (const { r } of rows) hash.update(`${r}\n`);
  }
  return hash.digest('hex');
}
