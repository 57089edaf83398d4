/**
 * The protocol node's storage, behind ports (issue 12, item 8): one repository interface per
 * aggregate, and the unit of work that makes several of their writes one transaction. Services
 * take a `Store` and never see SQL; the statements live in the adapters (`sqlite/` here,
 * better-sqlite3 — the embedded default; a PostgreSQL adapter is issue 17's).
 *
 * The ports are synchronous, as better-sqlite3 is: a service's transaction runs to its end
 * without yielding, which is what keeps two operations on one vault from interleaving inside
 * it today. A PostgreSQL adapter needs them asynchronous (`transaction(async (tx) => …)` with
 * `SELECT … FOR UPDATE`); that change is mechanical at every call site because no SQL is left
 * there, and TypeScript lists each one.
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
  transaction<T>(fn: () => T): T;
}

export interface Store extends UnitOfWork {
  readonly accounts: AccountsRepo;
  readonly oracle: OracleRoundsRepo;
  readonly ops: NodeOpsRepo;
  readonly vaults: VaultsRepo;
  readonly auctions: AuctionsRepo;
  readonly pool: PoolRepo;
  readonly ledger: LedgerRepo;
  readonly spends: SpendsRepo;
  readonly redemptions: RedemptionsRepo;
}
