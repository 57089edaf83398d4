/**
 * The protocol node's storage, behind ports (issue 12, item 8): one repository interface per
 * aggregate, and the unit of work that makes several of their writes one transaction. Services
 * take a `Store` and never see SQL; the statements live in the adapters (`sqlite/` here,
 * better-sqlite3 — the embedded default; a PostgreSQL adapter is issue 17's).
 *
 * The repository interfaces below describe each aggregate's rows and statements; a `Store` hands
 * them out asynchronously (`Async<…>`), so that one service code runs on SQLite (answers at once)
 * and on PostgreSQL (answers over the network). A service's transaction is
 * `await store.transaction(async () => …)`; the store knows which transaction a call belongs to
 * by its async context (`AsyncLocalStorage`), so the calls inside it are the same `store.x.y()`
 * as outside. Inside a transaction only store calls are awaited — never the Bitcoin node, a
 * device or a timer — so a transaction holds its locks for microseconds, not round trips.
 */
import type { AccountsRepo } from './accounts';
import type { OracleRoundsRepo } from './oracle';
import type { NodeOpsRepo } from './node-ops';
import type { VaultsRepo } from './vaults';
import type { AuctionsRepo } from './auctions';
import type { PoolRepo } from './pool';
import type { LedgerRepo } from './ledger';
import type { SpendsRepo } from './spends';
import type { RedemptionsRepo } from './redemptions';

/**
 * Makes the writes inside `fn` one transaction. A nested call is a savepoint of the outer one:
 * if it throws and the outer `fn` catches that, only the nested call's writes are undone.
 */
export interface UnitOfWork {
  transaction<T>(fn: () => Promise<T>): Promise<T>;
}

/** A repository whose every method answers with a promise. */
export type Async<R> = {
  readonly [K in keyof R]: R[K] extends (...args: infer A) => infer T
    ? (...args: A) => Promise<Awaited<T>>
    : R[K];
};

export interface Store extends UnitOfWork {
  /** Which engine holds the data (a backup, a health line and the benches say it). */
  readonly dialect: 'sqlite' | 'postgres';
  readonly accounts: Async<AccountsRepo>;
  readonly oracle: Async<OracleRoundsRepo>;
  readonly ops: Async<NodeOpsRepo>;
  readonly vaults: Async<VaultsRepo>;
  readonly auctions: Async<AuctionsRepo>;
  readonly pool: Async<PoolRepo>;
  readonly ledger: Async<LedgerRepo>;
  readonly spends: Async<SpendsRepo>;
  readonly redemptions: Async<RedemptionsRepo>;
}
