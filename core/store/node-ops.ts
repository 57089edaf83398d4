/**
 * The ops port: what the node keeps about itself: the event journal, metrics and health
 * readings, backups.
 */

/** A count per state (vaults or liquidations). */
export interface StateCount {
  state: string;
  n: number;
}

/**
 * A backup file opened read-only to be checked before a restore. Engine-specific: on this
 * adapter a SQLite file (`openBackupFile` in sqlite/node-ops.ts); close it when done.
 */
export interface BackupFile {
  /** The engine's own integrity check: 'ok', or what it found wrong. */
  integrityCheck(): unknown;
  /** The schema version the file was written at (0: not a BitStable database). */
  schemaVersion(): number;
  /** Whether the file has BitStable's vaults table. */
  hasVaultsTable(): boolean;
  /** How many vaults the file holds. */
  vaultCount(): number;
  close(): void;
}

export interface NodeOpsRepo {
  /**
   * Appends one event to the append-only journal. Call inside the transaction that makes the
   * change, so the journal and the state can never disagree.
   */
  journal(type: string, vaultId: number | null, data: Record<string, unknown>, ts?: number): void;

  // Metrics readings (they read other aggregates' tables, as counts and sums only).
  /** Vaults of a network by state. */
  vaultCountsByState(network: string): StateCount[];
  /** Confirmed collateral in all vaults of a network, in satoshis. */
  totalCollateralSats(network: string): number;
  /** The debt of all vaults of a network, in cents. */
  totalDebtCents(network: string): number;
  /** Liquidations (auctions) ever started, by state. */
  liquidationCountsByState(): StateCount[];

  /** The health check: the schema version, after a trivial read; throws when the database cannot be read. */
  healthCheck(): { schemaVersion: number };

  /** Whether the database is open (backups are skipped once it is closed). */
  isOpen(): boolean;
  /**
   * Writes an online backup of the whole database to `path` (engine-specific: a SQLite online
   * backup, page by page without stopping writers; the copy is a consistent snapshot).
   */
  backupTo(path: string): Promise<void>;
}
