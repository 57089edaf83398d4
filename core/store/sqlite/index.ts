/**
 * The SQLite adapter of the storage ports: one `Store` per open database (its repositories
 * share the connection and the statements they prepare).
 */
import type { Sqlite } from '../../db/database';
import type { Store } from '../ports';
import { SqliteAccounts } from './accounts';
import { SqliteOracleRounds } from './oracle';
import { SqliteNodeOps } from './node-ops';
import { SqliteVaults } from './vaults';
import { SqliteAuctions } from './auctions';
import { SqlitePool } from './pool';
import { SqliteLedger } from './ledger';
import { SqliteSpends } from './spends';
import { SqliteRedemptions } from './redemptions';

const stores = new WeakMap<Sqlite, Store>();

/** The store over an open (migrated) database; the same object for the same database. */
export function sqliteStore(db: Sqlite): Store {
  let store = stores.get(db);
  if (!store) {
    store = {
      // better-sqlite3 turns a nested transaction into a savepoint of the outer one.
      transaction: <T>(fn: () => T): T => db.transaction(fn)(),
      accounts: new SqliteAccounts(db),
      oracle: new SqliteOracleRounds(db),
      ops: new SqliteNodeOps(db),
      vaults: new SqliteVaults(db),
      auctions: new SqliteAuctions(db),
      pool: new SqlitePool(db),
      ledger: new SqliteLedger(db),
      spends: new SqliteSpends(db),
      redemptions: new SqliteRedemptions(db),
    };
    stores.set(db, store);
  }
  return store;
}
