/**
 * Which database the protocol nodes of this test run use: SQLite (the `integration` project) or
 * PostgreSQL (`integration-pg`, whose global setup starts one cluster for the run). On
 * PostgreSQL every node gets a fresh database of its own, so files and tests never share data.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

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
