/**
 * The SQLite adapter of the storage ports: one `Store` per open database (its repositories
 * share the connection and the statements they prepare).
 *
 * better-sqlite3 answers synchronously and has one connection, and the ports are asynchronous
 * (so PostgreSQL can sit behind them too). What keeps that honest, by hand because no library
 * joins the two: a transaction is `BEGIN IMMEDIATE … COMMIT` around an async function, one at a
 * time (a queue); the calls made inside it are recognized by their async context and run at
 * once; a call from outside waits until no transaction is open, so nobody reads another's
 * uncommitted writes on the shared connection. A nested transaction is a savepoint of the outer
 * one, as better-sqlite3's own transactions are.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Sqlite } from '../../db/database';
import type { Async, Store } from '../ports';
import { SqliteAccounts } from './accounts';
import { SqliteOracleRounds } from './oracle';
import { SqliteNodeOps } from './node-ops';
import { SqliteVaults } from './vaults';
import { SqliteAuctions } from './auctions';
import { SqlitePool } from './pool';
import { SqliteLedger } from './ledger';
import { SqliteSpends } from './spends';
import { SqliteRedemptions } from './redemptions';

/** The open transaction a call runs in: the outer one, or a savepoint inside it. */
interface TxContext {
  outer: {
    /**
     * False once the transaction has ended: work it started and left running (an event
     * listener's promise) inherits the context, and must then wait like any call from outside.
     */
    open: boolean;
    /** Savepoints opened inside this transaction so far (names them). */
    savepoints: number;
  };
  /** The savepoints opened directly at this level run one after another. */
  tail: Promise<unknown>;
}

/** One transaction at a time on one connection, with the calls of the open one let through. */
class SqliteTransactions {
  private readonly context = new AsyncLocalStorage<TxContext>();
  private tail: Promise<unknown> = Promise.resolve();
  /** Transactions running or waiting their turn. */
  private pending = 0;

  constructor(private readonly db: Sqlite) {}

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    const outer = this.current();
    if (outer) return this.savepoint(outer, fn);
    const before = this.tail;
    let done!: () => void;
    this.tail = new Promise<void>((resolve) => (done = resolve));
    this.pending += 1;
    try {
      await before;
      this.db.exec('BEGIN IMMEDIATE');
      const ctx: TxContext = { outer: { open: true, savepoints: 0 }, tail: Promise.resolve() };
      try {
        const result = await this.context.run(ctx, fn);
        this.db.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw err;
      } finally {
        ctx.outer.open = false;
      }
    } finally {
      this.pending -= 1;
      done();
    }
  }

  private async savepoint<T>(ctx: TxContext, fn: () => Promise<T>): Promise<T> {
    const before = ctx.tail;
    let done!: () => void;
    ctx.tail = new Promise<void>((resolve) => (done = resolve));
    try {
      await before.catch(() => undefined);
      const name = `sp${(ctx.outer.savepoints += 1)}`;
      this.db.exec(`SAVEPOINT ${name}`);
      try {
        const inner: TxContext = { outer: ctx.outer, tail: Promise.resolve() };
        const result = await this.context.run(inner, fn);
        this.db.exec(`RELEASE ${name}`);
        return result;
      } catch (err) {
        this.db.exec(`ROLLBACK TO ${name}`);
        this.db.exec(`RELEASE ${name}`);
        throw err;
      }
    } finally {
      done();
    }
  }

  /** The transaction the caller runs in, if it is still open. */
  private current(): TxContext | undefined {
    const ctx = this.context.getStore();
    return ctx?.outer.open ? ctx : undefined;
  }

  /** Runs one repository call: now, inside the open transaction or when none is open. */
  async call<T>(run: () => T): Promise<T> {
    if (this.current() === undefined) {
      while (this.pending > 0) await this.tail.catch(() => undefined);
    }
    return run();
  }

  /** `repo` with every method answering through `call`. */
  wrap<R extends object>(repo: R): Async<R> {
    const methods = new Map<PropertyKey, unknown>();
    return new Proxy(repo, {
      get: (target, key) => {
        const value: unknown = Reflect.get(target, key);
        if (typeof value !== 'function') return value;
        let method = methods.get(key);
        if (!method) {
          const fn = value as (...args: unknown[]) => unknown;
          method = (...args: unknown[]) => this.call(() => fn.apply(target, args));
          methods.set(key, method);
        }
        return method;
      },
    }) as unknown as Async<R>;
  }
}

const stores = new WeakMap<Sqlite, Store>();

/** The store over an open (migrated) database; the same object for the same database. */
export function sqliteStore(db: Sqlite): Store {
  let store = stores.get(db);
  if (!store) {
    const tx = new SqliteTransactions(db);
    store = {
      dialect: 'sqlite',
      transaction: <T>(fn: () => Promise<T>): Promise<T> => tx.transaction(fn),
      accounts: tx.wrap(new SqliteAccounts(db)),
      oracle: tx.wrap(new SqliteOracleRounds(db)),
      ops: tx.wrap(new SqliteNodeOps(db)),
      vaults: tx.wrap(new SqliteVaults(db)),
      auctions: tx.wrap(new SqliteAuctions(db)),
      pool: tx.wrap(new SqlitePool(db)),
      ledger: tx.wrap(new SqliteLedger(db)),
      spends: tx.wrap(new SqliteSpends(db)),
      redemptions: tx.wrap(new SqliteRedemptions(db)),
    };
    stores.set(db, store);
  }
  return store;
}
