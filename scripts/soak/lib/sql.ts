/**
 * The soaks' own checks read the node's tables directly, on either engine: a statement written
 * once in SQLite's dialect (`?` parameters, `json_extract(col, '$.key')`) runs on the node's
 * SQLite file or, translated, on its PostgreSQL database. Whole-number answers come back as
 * numbers on both (PostgreSQL's `COUNT` and `SUM` are bigint and numeric, read as text). Written
 * by hand: it is test tooling over a handful of read-only statements, not a query layer.
 */
import type pg from 'pg';
import type { Sqlite } from '../../../core/db/database';

export interface SoakSql {
  all<R>(sql: string, ...params: unknown[]): Promise<R[]>;
  get<R>(sql: string, ...params: unknown[]): Promise<R | undefined>;
  /** The first column of the first row. */
  value<T>(sql: string, ...params: unknown[]): Promise<T | undefined>;
  /** The first column of every row. */
  column<T>(sql: string, ...params: unknown[]): Promise<T[]>;
}

export function sqliteSql(db: Sqlite): SoakSql {
  return {
    all: async <R>(sql: string, ...params: unknown[]) => db.prepare(sql).all(...params) as R[],
    get: async <R>(sql: string, ...params: unknown[]) =>
      db.prepare(sql).get(...params) as R | undefined,
    value: async <T>(sql: string, ...params: unknown[]) =>
      db
        .prepare(sql)
        .pluck()
        .get(...params) as T | undefined,
    column: async <T>(sql: string, ...params: unknown[]) =>
      db
        .prepare(sql)
        .pluck()
        .all(...params) as T[],
  };
}

/** SQLite's dialect of these statements to PostgreSQL's. */
export function toPostgres(sql: string): string {
  let n = 0;
  return sql
    .replace(/json_extract\(\s*([\w.]+)\s*,\s*'\$\.(\w+)'\s*\)/g, "(($1)::jsonb->>'$2')::bigint")
    .replace(/\?/g, () => `$${++n}`);
}

/** A whole number PostgreSQL sent as text (a count, a sum) as a number; other text as it is. */
function numeric(row: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(row))
    if (typeof v === 'string' && /^-?\d{1,15}$/.test(v)) row[k] = Number(v);
  return row;
}

export function pgSql(pool: pg.Pool): SoakSql {
  const all = async <R>(sql: string, ...params: unknown[]) =>
    (await pool.query(toPostgres(sql), params)).rows.map(numeric) as R[];
  return {
    all,
    get: async <R>(sql: string, ...params: unknown[]) => (await all<R>(sql, ...params))[0],
    value: async <T>(sql: string, ...params: unknown[]) => {
      const row = (await all<Record<string, unknown>>(sql, ...params))[0];
      return row === undefined ? undefined : (Object.values(row)[0] as T);
    },
    column: async <T>(sql: string, ...params: unknown[]) =>
      (await all<Record<string, unknown>>(sql, ...params)).map((r) => Object.values(r)[0] as T),
  };
}
