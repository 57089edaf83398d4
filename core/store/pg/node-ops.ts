/** The ops port on PostgreSQL: the twin of sqlite/node-ops.ts. */
import { BitStableError } from '../../errors';
import type { NodeOpsRepo, StateCount } from '../node-ops';
import type { Async } from '../ports';
import type { PgExecutor } from './executor';

export class PgNodeOps implements Async<NodeOpsRepo> {
  constructor(private readonly x: PgExecutor) {}

  async journal(
    type: string,
    vaultId: number | null,
    data: Record<string, unknown>,
    ts = Date.now(),
  ): Promise<void> {
    await this.x.run('INSERT INTO events (ts, type, vault_id, data) VALUES ($1, $2, $3, $4)', [
      ts,
      type,
      vaultId,
      JSON.stringify(data),
    ]);
  }

  // GROUP BY without ORDER BY: SQLite's groups come out sorted by state (bytewise), PostgreSQL's
  // in any order; hence the explicit ORDER BY, in the "C" collation.

  async vaultCountsByState(network: string): Promise<StateCount[]> {
    return this.x.rows<StateCount>(
      'SELECT state, COUNT(*) AS n FROM vaults WHERE network = $1 GROUP BY state ORDER BY state COLLATE "C"',
      [network],
    );
  }

  async totalCollateralSats(network: string): Promise<number> {
    return (await this.x.value<number>(
      'SELECT COALESCE(SUM(collateral_sats), 0)::bigint FROM vaults WHERE network = $1',
      [network],
    ))!;
  }

  async totalDebtCents(network: string): Promise<number> {
    return (await this.x.value<number>(
      'SELECT COALESCE(SUM(debt_cents), 0)::bigint FROM vaults WHERE network = $1',
      [network],
    ))!;
  }

  async liquidationCountsByState(): Promise<StateCount[]> {
    return this.x.rows<StateCount>(
      'SELECT state, COUNT(*) AS n FROM liquidations GROUP BY state ORDER BY state COLLATE "C"',
    );
  }

  async healthCheck(): Promise<{ schemaVersion: number }> {
    // PostgreSQL keeps the version in a table (core/db/pg/database.ts), SQLite in user_version.
    const version = await this.x.value<number>('SELECT version FROM bitstable_schema');
    return { schemaVersion: version ?? 0 };
  }

  async isOpen(): Promise<boolean> {
    return !this.x.pool.ending && !this.x.pool.ended;
  }

  /**
   * Not on PostgreSQL: a backup here is a SQLite file, checked as one (ops/backup.ts). A
   * PostgreSQL database is backed up with its own tools (pg_dump, base backups and WAL archiving).
   */
  async backupTo(path: string): Promise<void> {
    throw new BitStableError(
      'DATABASE_ERROR',
      'This node stores its data in PostgreSQL: back it up with PostgreSQL’s own tools (pg_dump, or base backups with WAL archiving), not a backup file.',
      { path, dialect: 'postgres' },
    );
  }
}
