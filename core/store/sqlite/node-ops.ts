/** The ops port on SQLite (better-sqlite3). */
import Database from 'better-sqlite3';
import type { Sqlite } from '../../db/database';
import { Statements, type Statement } from './statements';
import type { BackupFile, NodeOpsRepo, StateCount } from '../node-ops';

export class SqliteNodeOps implements NodeOpsRepo {
  private readonly statements: Statements;

  constructor(readonly db: Sqlite) {
    this.statements = new Statements(db);
  }

  private st(sql: string, pluck = false): Statement {
    return this.statements.get(sql, pluck);
  }

  journal(
    type: string,
    vaultId: number | null,
    data: Record<string, unknown>,
    ts = Date.now(),
  ): void {
    this.st('INSERT INTO events (ts, type, vault_id, data) VALUES (?, ?, ?, ?)').run(
      ts,
      type,
      vaultId,
      JSON.stringify(data),
    );
  }

  vaultCountsByState(network: string): StateCount[] {
    return this.st(
      'SELECT state, COUNT(*) AS n FROM vaults WHERE network = ? GROUP BY state ORDER BY state',
    ).all(network) as StateCount[];
  }

  totalCollateralSats(network: string): number {
    return this.st(
      'SELECT COALESCE(SUM(collateral_sats), 0) FROM vaults WHERE network = ?',
      true,
    ).get(network) as number;
  }

  totalDebtCents(network: string): number {
    return this.st('SELECT COALESCE(SUM(debt_cents), 0) FROM vaults WHERE network = ?', true).get(
      network,
    ) as number;
  }

  liquidationCountsByState(): StateCount[] {
    return this.st(
      'SELECT state, COUNT(*) AS n FROM liquidations GROUP BY state',
    ).all() as StateCount[];
  }

  healthCheck(): { schemaVersion: number } {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    this.db.prepare('SELECT 1').get();
    return { schemaVersion: version };
  }

  isOpen(): boolean {
    return this.db.open;
  }

  async backupTo(path: string): Promise<void> {
    await this.db.backup(path);
  }
}

/**
 * Opens a backup file read-only to check it; throws when it is not a database file. (A SQLite
 * backup is a SQLite file: this is the engine's, not portable.)
 */
export function openBackupFile(path: string): BackupFile {
  const db: Sqlite = new Database(path, { readonly: true, fileMustExist: true });
  return {
    integrityCheck: () => db.pragma('integrity_check', { simple: true }),
    schemaVersion: () => db.pragma('user_version', { simple: true }) as number,
    hasVaultsTable: () =>
      !!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'vaults'").get(),
    vaultCount: () => db.prepare('SELECT count(*) FROM vaults').pluck().get() as number,
    close: () => db.close(),
  };
}
