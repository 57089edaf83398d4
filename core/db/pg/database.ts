/**
 * The protocol node's PostgreSQL database: a connection pool whose `bigint` columns come back
 * as exact JavaScript integers, and the migrations of `migrations.ts`, applied by one instance
 * at a time. `pg` with hand-kept SQL per dialect rather than a query builder: the SQLite
 * statements stay as they are (see docs/architecture.md).
 */
import pg from 'pg';
import { BitStableError } from '../../errors';
import { PG_MIGRATIONS, PG_SCHEMA_VERSION } from './migrations';

const INT8_OID = 20;

/** A bigint column as a JavaScript number; a value past 2^53 would lose digits, so it is an error. */
function exactInteger(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n))
    throw new BitStableError(
      'DATABASE_ERROR',
      `A stored integer (${text.slice(0, 30)}) is too large to read exactly.`,
      {},
    );
  return n;
}

/** A pool on `url` (postgres://…) with exact integers. */
export function openPostgres(url: string, options: { max?: number } = {}): pg.Pool {
  return new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid === INT8_OID
          ? exactInteger
          : pg.types.getTypeParser(oid, format as never)) as typeof pg.types.getTypeParser,
    },
  });
}

/** Any constant: the advisory lock every instance takes to migrate, one after another. */
const MIGRATION_LOCK = 0x62_69_74_73; // "bits"

/**
 * Brings the schema up to date in one transaction, under an advisory lock: several gateway
 * instances starting at once migrate one after another, and the later ones find nothing to do.
 * Returns the schema version.
 */
export async function migratePostgres(pool: pg.Pool): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS bitstable_schema (version bigint NOT NULL)');
    const { rows } = await client.query<{ version: number }>(
      'SELECT version FROM bitstable_schema',
    );
    const from = rows[0]?.version ?? 0;
    if (from > PG_SCHEMA_VERSION) {
      throw new BitStableError(
        'DATABASE_ERROR',
        `The database has schema version ${from}, newer than this BitStable knows (${PG_SCHEMA_VERSION}). Update BitStable.`,
        { version: from },
      );
    }
    for (const m of PG_MIGRATIONS) if (m.version > from) await client.query(m.sql);
    if (rows.length === 0)
      await client.query('INSERT INTO bitstable_schema (version) VALUES ($1)', [PG_SCHEMA_VERSION]);
    else await client.query('UPDATE bitstable_schema SET version = $1', [PG_SCHEMA_VERSION]);
    await client.query('COMMIT');
    return PG_SCHEMA_VERSION;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    if (err instanceof BitStableError) throw err;
    throw new BitStableError(
      'DATABASE_ERROR',
      `Could not bring the PostgreSQL schema up to date: ${(err as Error).message}`,
      {},
      { cause: err },
    );
  } finally {
    client.release();
  }
}
