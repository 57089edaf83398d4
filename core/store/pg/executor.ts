/**
 * How the PostgreSQL repositories reach the database: a statement runs on the connection of the
 * caller's open transaction (found by async context, as on SQLite) or, outside one, on any
 * connection of the pool.
 *
 * Isolation: every transaction takes one transaction-scoped advisory lock, the write lock,
 * before its first statement (`pg_advisory_xact_lock`). Writers run one at a time across every
 * gateway instance — the same rule SQLite's `BEGIN IMMEDIATE` gives the embedded node, so every
 * check-then-write a service does inside a transaction (a vault's state and debt before a mint,
 * a balance before a transfer, an auction's lot before a take) holds for PostgreSQL unchanged,
 * without a retry loop that would re-run a service's side effects. Reads outside a transaction
 * run in parallel on every instance (READ COMMITTED: each statement sees what was committed).
 * docs/architecture.md (Data) has the operation-by-operation table.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type pg from 'pg';
import { BitStableError } from '../../errors';

/** Any constant: the advisory lock every write transaction holds until it ends. */
export const WRITE_LOCK = 0x62_73_77_72; // "bswr"

/** The open transaction a statement runs in: the outer one, or a savepoint inside it. */
interface PgTx {
  outer: { client: pg.PoolClient; open: boolean; savepoints: number };
  /** The savepoints opened directly at this level run one after another. */
  tail: Promise<unknown>;
}

export interface PgExecutorOptions {
  /**
   * Runs first in every transaction, on its connection: the leader's fence
   * (core/db/pg/leader.ts) for an instance's background work, so a leader that was cut off
   * cannot commit after another took over.
   */
  beforeEach?: (client: pg.PoolClient) => Promise<void>;
}

export class PgExecutor {
  private readonly context = new AsyncLocalStorage<PgTx>();

  constructor(
    readonly pool: pg.Pool,
    private readonly options: PgExecutorOptions = {},
  ) {}

  private current(): PgTx | undefined {
    const tx = this.context.getStore();
    return tx?.outer.open ? tx : undefined;
  }

  private async query(sql: string, params: readonly unknown[]): Promise<pg.QueryResult> {
    const on = this.current()?.outer.client ?? this.pool;
    try {
      return await on.query(sql, params as unknown[]);
    } catch (err) {
      throw databaseError(err, sql);
    }
  }

  /** Every row of `sql`. */
  async rows<R>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    return (await this.query(sql, params)).rows as R[];
  }

  /** The first row of `sql`, or undefined. */
  async row<R>(sql: string, params: readonly unknown[] = []): Promise<R | undefined> {
    return (await this.query(sql, params)).rows[0] as R | undefined;
  }

  /** The first column of the first row of `sql`, or undefined when there is no row. */
  async value<T>(sql: string, params: readonly unknown[] = []): Promise<T | undefined> {
    const { rows } = await this.query(sql, params);
    if (rows.length === 0) return undefined;
    const first = rows[0] as Record<string, unknown>;
    return first[Object.keys(first)[0]!] as T;
  }

  /** The first column of every row of `sql`. */
  async column<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    const { rows } = await this.query(sql, params);
    return rows.map((r: Record<string, unknown>) => r[Object.keys(r)[0]!] as T);
  }

  /** Runs a statement; the number of rows it touched. */
  async run(sql: string, params: readonly unknown[] = []): Promise<number> {
    return (await this.query(sql, params)).rowCount ?? 0;
  }

  /** `fn` as one transaction under the write lock; nested, a savepoint of the outer one. */
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    const outer = this.current();
    if (outer) return this.savepoint(outer, fn);
    const client = await this.pool.connect();
    const tx: PgTx = { outer: { client, open: true, savepoints: 0 }, tail: Promise.resolve() };
    let broken = false;
    try {
      await client.query('BEGIN').catch((err: unknown) => {
        throw databaseError(err, 'BEGIN');
      });
      await client.query('SELECT pg_advisory_xact_lock($1)', [WRITE_LOCK]);
      if (this.options.beforeEach) await this.options.beforeEach(client);
      const result = await this.context.run(tx, fn);
      tx.outer.open = false;
      try {
        await client.query('COMMIT');
      } catch (err) {
        throw databaseError(err, 'COMMIT');
      }
      return result;
    } catch (err) {
      // What `fn` threw goes to the caller as it is (a refusal, a rollback on purpose).
      tx.outer.open = false;
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw err;
    } finally {
      client.release(broken);
    }
  }

  private async savepoint<T>(tx: PgTx, fn: () => Promise<T>): Promise<T> {
    const before = tx.tail;
    let done!: () => void;
    tx.tail = new Promise<void>((resolve) => (done = resolve));
    try {
      await before.catch(() => undefined);
      const { client } = tx.outer;
      const name = `sp${(tx.outer.savepoints += 1)}`;
      await client.query(`SAVEPOINT ${name}`);
      try {
        const inner: PgTx = { outer: tx.outer, tail: Promise.resolve() };
        const result = await this.context.run(inner, fn);
        await client.query(`RELEASE SAVEPOINT ${name}`);
        return result;
      } catch (err) {
        await client.query(`ROLLBACK TO SAVEPOINT ${name}`);
        await client.query(`RELEASE SAVEPOINT ${name}`);
        throw err;
      }
    } finally {
      done();
    }
  }
}

/** A driver error as DATABASE_ERROR, naming the statement's first words (never its values). */
function databaseError(err: unknown, sql: string): unknown {
  if (err instanceof BitStableError) return err;
  const e = err as { message?: string; code?: string };
  return new BitStableError(
    'DATABASE_ERROR',
    `The database refused a statement (${sql.trim().split(/\s+/).slice(0, 3).join(' ')}…): ${e.message ?? String(err)}`,
    { sqlState: e.code ?? null },
    { cause: err },
  );
}
