/**
 * The PostgreSQL schema means the same as SQLite's (issue "A protocol node that outgrows one
 * machine" item 1), on a real private cluster: the same tables, columns, integer-or-text types,
 * nullability, primary keys and indexes; migrating is idempotent, and three instances migrating
 * at once end on the same version with the schema made once. Integers read back exact.
 */
import { describe, expect, it } from 'vitest';
import type pg from 'pg';
import { openDatabase } from '../../core/db/database';
import { SCHEMA_VERSION } from '../../core/db/database';
import { migratePostgres } from '../../core/db/pg/database';
import { PG_SCHEMA_VERSION } from '../../core/db/pg/migrations';
import { pgRuns, usePostgres } from '../helpers/postgres';

const { pool } = usePostgres();

interface Column {
  type: 'integer' | 'text';
  notNull: boolean;
  pk: boolean;
}
type Schema = Record<string, Record<string, Column>>;

function sqliteSchema(): { tables: Schema; indexes: string[] } {
  const db = openDatabase(':memory:');
  const names = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    .pluck()
    .all() as string[];
  const tables: Schema = {};
  for (const t of names) {
    tables[t] = {};
    const cols = db.prepare(`PRAGMA table_info("${t}")`).all() as {
      name: string;
      type: string;
      notnull: number;
      pk: number;
    }[];
    for (const c of cols)
      tables[t][c.name] = {
        type: c.type.toUpperCase() === 'INTEGER' ? 'integer' : 'text',
        // A primary key never holds NULL (SQLite's table_info says 0 for a rowid alias).
        notNull: c.notnull === 1 || c.pk > 0,
        pk: c.pk > 0,
      };
  }
  const indexes = db
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%'",
    )
    .pluck()
    .all() as string[];
  db.close();
  return { tables, indexes: indexes.sort() };
}

async function postgresSchema(p: pg.Pool): Promise<{ tables: Schema; indexes: string[] }> {
  const cols = await p.query<{
    table_name: string;
    column_name: string;
    data_type: string;
    is_nullable: string;
  }>(
    `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
      WHERE table_schema = 'public' AND table_name <> 'bitstable_schema'`,
  );
  const pks = await p.query<{ table_name: string; column_name: string }>(
    `SELECT k.table_name, k.column_name FROM information_schema.table_constraints c
       JOIN information_schema.key_column_usage k ON k.constraint_name = c.constraint_name
      WHERE c.table_schema = 'public' AND c.constraint_type = 'PRIMARY KEY'`,
  );
  const isPk = new Set(pks.rows.map((r) => `${r.table_name}.${r.column_name}`));
  const tables: Schema = {};
  for (const c of cols.rows) {
    tables[c.table_name] ??= {};
    tables[c.table_name]![c.column_name] = {
      type: c.data_type === 'bigint' ? 'integer' : 'text',
      notNull: c.is_nullable === 'NO',
      pk: isPk.has(`${c.table_name}.${c.column_name}`),
    };
  }
  // Constraint-backed indexes (primary keys, UNIQUE) are implicit in SQLite too.
  const idx = await p.query<{ indexname: string }>(
    `SELECT indexname FROM pg_indexes i WHERE schemaname = 'public'
        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`,
  );
  return { tables, indexes: idx.rows.map((r) => r.indexname).sort() };
}

describe.skipIf(!pgRuns)('the PostgreSQL schema', () => {
  it("has SQLite's version and means the same tables, columns, types, nullability, keys and indexes", async () => {
    const p = pool();
    expect(await migratePostgres(p)).toBe(SCHEMA_VERSION);
    expect(PG_SCHEMA_VERSION).toBe(SCHEMA_VERSION);
    const lite = sqliteSchema();
    const post = await postgresSchema(p);
    expect(Object.keys(post.tables).sort()).toEqual(Object.keys(lite.tables).sort());
    for (const [table, columns] of Object.entries(lite.tables))
      expect(post.tables[table], table).toEqual(columns);
    expect(post.indexes).toEqual(lite.indexes);
  });

  it('migrates once when three instances start at once, and again finds nothing to do', async () => {
    const three = [pool(), pool(), pool()];
    expect(await Promise.all(three.map(migratePostgres))).toEqual(
      [13, 13, 13].map(() => SCHEMA_VERSION),
    );
    expect(await migratePostgres(three[0]!)).toBe(SCHEMA_VERSION);
    const { rows } = await three[1]!.query('SELECT count(*)::bigint AS n FROM bitstable_schema');
    expect(rows[0]).toEqual({ n: 1 });
  });

  it('reads integers back exact, sats past 2^32 included, and refuses one it cannot hold exactly', async () => {
    const p = pool();
    await migratePostgres(p);
    const sats = 2_100_000_000_000_000; // 21 million BTC
    const { rows } = await p.query<{ v: number }>('SELECT $1::bigint AS v', [sats]);
    expect(rows[0]!.v).toBe(sats);
    await expect(p.query('SELECT 9007199254740993::bigint AS v')).rejects.toMatchObject({
      code: 'DATABASE_ERROR',
    });
  });
});
