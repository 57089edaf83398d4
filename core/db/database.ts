/**
 * The SQLite database: opened with durable settings, migrated at start.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { privateDir, privateFile } from '../ops/private';
import { dirname } from 'node:path';
import { BitStableError } from '../errors';
import { MIGRATIONS } from './migrations';

export type Sqlite = Database.Database;

/** The schema version a fully migrated database has. */
export const SCHEMA_VERSION = MIGRATIONS.length;

export interface OpenOptions {
  /** Migrate only up to this version (tests of old databases); default: the latest. */
  targetVersion?: number;
  /**
   * Turn off SQLite's automatic WAL checkpoints; the owner then calls `checkpoint` on a timer.
   * An automatic checkpoint runs inside whichever commit crosses the threshold, which put
   * several milliseconds into the health pass's p99; the app checkpoints in the background.
   */
  backgroundCheckpoints?: boolean;
}

/**
 * Opens (creating if needed) the database file and brings its schema up to date.
 * WAL with synchronous=FULL: better-sqlite3's build makes WAL default to NORMAL, which can lose
 * the last commits on power loss; money state must not.
 */
export function openDatabase(path: string, options: OpenOptions = {}): Sqlite {
  if (path !== ':memory:') {
    privateDir(dirname(path));
    // Made 0600 before SQLite opens it: its -wal and -shm files take the database file's mode.
    privateFile(path);
    for (const side of ['-wal', '-shm'])
      if (existsSync(`${path}${side}`)) privateFile(`${path}${side}`);
  }
  let db: Sqlite;
  try {
    db = new Database(path);
  } catch (err) {
    throw new BitStableError(
      'DATABASE_ERROR',
      `Could not open the database at ${path}.`,
      { path },
      { cause: err },
    );
  }
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  if (options.backgroundCheckpoints) db.pragma('wal_autocheckpoint = 0');
  migrate(db, options.targetVersion ?? SCHEMA_VERSION);
  return db;
}

/** Copies the WAL into the database file: PASSIVE never blocks writers; TRUNCATE also empties the WAL. */
export function checkpoint(db: Sqlite, mode: 'PASSIVE' | 'TRUNCATE' = 'PASSIVE'): void {
  db.pragma(`wal_checkpoint(${mode})`);
}

/** The schema version recorded in the file. */
export function schemaVersion(db: Sqlite): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Runs every migration above the file's version up to `target`, each in its own transaction. */
export function migrate(db: Sqlite, target: number = SCHEMA_VERSION): void {
  const current = schemaVersion(db);
  if (current > SCHEMA_VERSION) {
    throw new BitStableError(
      'MIGRATION_FAILED',
      `This database was written by a newer BitStable (schema ${current}; this app knows ${SCHEMA_VERSION}). Update the app before opening it.`,
      { current, known: SCHEMA_VERSION },
    );
  }
  for (let v = current + 1; v <= target; v++) {
    const sql = MIGRATIONS[v - 1]!;
    try {
      db.transaction(() => {
        db.exec(sql);
        db.pragma(`user_version = ${v}`);
      })();
    } catch (err) {
      throw new BitStableError(
        'MIGRATION_FAILED',
        `Updating the database to schema ${v} failed; nothing was changed.`,
        { version: v },
        { cause: err },
      );
    }
  }
}
