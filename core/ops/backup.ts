/**
 * Online backups kept N deep, and a restore that checks a backup before it replaces anything
 * (SPEC §11, the seed's "Disaster Recovery").
 *
 * The backup itself is the store's (`store.ops.backupTo`): on SQLite an online backup, copied
 * from a live database page by page without stopping writers, and a consistent snapshot. The
 * file it writes is a SQLite file, checked here through `openBackupFile` (engine-specific too).
 */
import {
  chmodSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  closeSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { SCHEMA_VERSION } from '../db/database';
import type { BackupFile } from '../store/node-ops';
import type { Store } from '../store/ports';
import { openBackupFile } from '../store/sqlite/node-ops';
import { privateDir, privateFile } from './private';
import { BitStableError } from '../errors';

const PREFIX = 'bitstable-';
const SUFFIX = '.sqlite';

export interface BackupInfo {
  path: string;
  createdAt: number;
  bytes: number;
}

/** A sortable file name for a backup taken at `ts`. */
export function backupName(ts: number, suffix = SUFFIX): string {
  return `${PREFIX}${new Date(ts).toISOString().replace(/[:.]/g, '-')}${suffix}`;
}

/** BACKUP_INVALID: the backup at `path` cannot be restored, and why. */
export function backupInvalid(path: string, why: string, cause?: unknown): BitStableError {
  return new BitStableError(
    'BACKUP_INVALID',
    `The backup ${basename(path)} cannot be restored: ${why}`,
    { path },
    { cause },
  );
}

/** Backups in `dir`, newest first (`suffix`: `.sqlite`, or `.pgdump` for PostgreSQL's). */
export function listBackups(dir: string, suffix = SUFFIX): BackupInfo[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.startsWith(PREFIX) && f.endsWith(suffix))
    .sort()
    .reverse()
    .map((f) => {
      const s = statSync(join(dir, f));
      return { path: join(dir, f), createdAt: s.mtimeMs, bytes: s.size };
    });
}

export interface CheckedBackup {
  schemaVersion: number;
  vaults: number;
}

/**
 * Opens a backup read-only and checks it: a SQLite file, `integrity_check` ok, a schema this app
 * knows, and BitStable's tables. Throws BACKUP_INVALID with a plain sentence otherwise.
 */
export function checkBackup(path: string): CheckedBackup {
  const fail = (why: string, cause?: unknown) => backupInvalid(path, why, cause);
  if (!existsSync(path)) throw fail('the file does not exist.');
  let file: BackupFile;
  try {
    file = openBackupFile(path);
  } catch (err) {
    throw fail('it is not a database file.', err);
  }
  try {
    let result: unknown;
    try {
      result = file.integrityCheck();
    } catch (err) {
      throw fail('it is damaged (the database file is not readable).', err);
    }
    if (result !== 'ok') throw fail(`it is damaged (${String(result).slice(0, 200)}).`);
    const schemaVersion = file.schemaVersion();
    if (schemaVersion < 1) throw fail('it is not a BitStable database.');
    if (schemaVersion > SCHEMA_VERSION)
      throw fail('it was written by a newer BitStable; update the app first.');
    if (!file.hasVaultsTable()) throw fail('it is not a BitStable database.');
    const vaults = file.vaultCount();
    return { schemaVersion, vaults };
  } finally {
    file.close();
  }
}

/**
 * Takes an online backup of the store's database into `dir`, verifies it, and deletes all but the newest `keep`.
 * A backup that fails its check is deleted and the error thrown.
 */
export async function backupDatabase(
  store: Store,
  dir: string,
  keep: number,
  now = Date.now(),
): Promise<BackupInfo> {
  if (!Number.isSafeInteger(keep) || keep < 1) {
    throw new BitStableError('INVALID_CONFIG', 'Keep at least one backup.', { keep });
  }
  privateDir(dir);
  const path = join(dir, backupName(now));
  const partial = `${path}.partial`;
  try {
    // 0600 before SQLite writes into it: a backup holds what the database holds.
    privateFile(partial);
    await store.ops.backupTo(partial);
    checkBackup(partial);
    renameSync(partial, path);
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  }
  for (const old of listBackups(dir).slice(keep)) rmSync(old.path, { force: true });
  return listBackups(dir).find((b) => b.path === path)!;
}

/**
 * Replaces the database at `target` with `backup`, after checking the backup. The app must be
 * stopped. The current database is kept beside it as `<name>.before-restore-<time>`; its WAL
 * files are moved with it so the restored file is read on its own.
 */
export function restoreBackup(
  backup: string,
  target: string,
  now = Date.now(),
): { replaced: string | null; checked: CheckedBackup } {
  const checked = checkBackup(backup);
  mkdirSync(dirname(target), { recursive: true });
  const tmp = `${target}.restoring`;
  copyFileSync(backup, tmp);
  chmodSync(tmp, 0o600);
  const fd = openSync(tmp, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  let replaced: string | null = null;
  if (existsSync(target)) {
    replaced = `${target}.before-restore-${new Date(now).toISOString().replace(/[:.]/g, '-')}`;
    renameSync(target, replaced);
    for (const ext of ['-wal', '-shm'])
      if (existsSync(target + ext)) renameSync(target + ext, replaced + ext);
  }
  renameSync(tmp, target);
  return { replaced, checked };
}

/**
 * Calls `take` every `intervalMs` (one at a time: a slow backup is not started twice); errors go
 * to `onError`. `take` is the engine's backup: `backupDatabase` on SQLite, `backupPostgres`.
 */
export function scheduleBackups(
  take: () => Promise<BackupInfo | null>,
  options: {
    intervalMs: number;
    onError?: (err: unknown) => void;
    onBackup?: (b: BackupInfo) => void;
  },
): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    take()
      .then((b) => {
        if (b) options.onBackup?.(b);
      })
      .catch((err) => options.onError?.(err))
      .finally(() => {
        running = false;
      });
  }, options.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
