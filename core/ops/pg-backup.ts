/**
 * Backups of a protocol node on PostgreSQL (issue "A protocol node that outgrows one machine"
 * item 5): `pg_dump` in its custom format, kept N deep, and the restore checks SQLite backups
 * get — read the archive back, a schema this BitStable knows, BitStable's tables — before a
 * backup is kept or restored. Taken by the leading instance only (it runs the background work).
 *
 * The check reads the dump itself with `pg_restore` (its table of contents, then the data of
 * `bitstable_schema` and `vaults` as text), so it needs no second database. A restore is
 * `pg_restore --clean --single-transaction` into the node's database with every instance stopped:
 * all of it or nothing.
 */
import { execFile } from 'node:child_process';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { BitStableError } from '../errors';
import { findPostgresBin } from '../db/pg/local-cluster';
import { PG_SCHEMA_VERSION } from '../db/pg/migrations';
import {
  backupInvalid,
  backupName,
  listBackups,
  type BackupInfo,
  type CheckedBackup,
} from './backup';
import { privateDir, privateFile } from './private';

const run = promisify(execFile);
const SUFFIX = '.pgdump';
/** A dump's text (the data of two tables) can be large; this bounds what is read back. */
const MAX_OUTPUT = 512 * 1024 * 1024;

/** `pg_dump` and `pg_restore`: beside the server's (Debian's layout), else on PATH. */
function tool(name: 'pg_dump' | 'pg_restore'): string {
  const bin = findPostgresBin();
  return bin ? join(bin, name) : name;
}

/** PostgreSQL backups in `dir`, newest first. */
export const listPgBackups = (dir: string): BackupInfo[] => listBackups(dir, SUFFIX);

/**
 * Checks a dump without restoring it: `pg_restore` reads its table of contents and the data of
 * `bitstable_schema` and `vaults`. Throws BACKUP_INVALID with a plain sentence otherwise.
 */
export async function checkPgBackup(path: string): Promise<CheckedBackup> {
  const fail = (why: string, cause?: unknown) => backupInvalid(path, why, cause);
  if (!existsSync(path)) throw fail('the file does not exist.');
  let toc: string;
  try {
    toc = (await run(tool('pg_restore'), ['--list', path], { maxBuffer: MAX_OUTPUT })).stdout;
  } catch (err) {
    throw fail('it is not a PostgreSQL dump, or it is damaged.', err);
  }
  if (!/TABLE public vaults /.test(toc) || !/TABLE public bitstable_schema /.test(toc))
    throw fail('it is not a BitStable database.');
  const dataOf = async (table: string) => {
    try {
      const { stdout } = await run(
        tool('pg_restore'),
        ['--data-only', '--table', table, '--file', '-', path],
        { maxBuffer: MAX_OUTPUT },
      );
      // The rows of `COPY … FROM stdin;` up to its `\.` line.
      const start = stdout.indexOf('FROM stdin;\n');
      if (start < 0) return [];
      const body = stdout.slice(start + 'FROM stdin;\n'.length);
      return body.slice(0, body.indexOf('\\.')).split('\n').filter(Boolean);
    } catch (err) {
      throw fail(`its ${table} table cannot be read (it is damaged).`, err);
    }
  };
  const version = Number((await dataOf('bitstable_schema'))[0] ?? 0);
  if (!Number.isSafeInteger(version) || version < 1) throw fail('it is not a BitStable database.');
  if (version > PG_SCHEMA_VERSION)
    throw fail('it was written by a newer BitStable; update BitStable first.');
  return { schemaVersion: version, vaults: (await dataOf('vaults')).length };
}

/**
 * Dumps the database at `url` into `dir`, checks the dump, and deletes all but the newest `keep`.
 * A dump that fails its check is deleted and the error thrown.
 */
export async function backupPostgres(
  url: string,
  dir: string,
  keep: number,
  now = Date.now(),
): Promise<BackupInfo> {
  if (!Number.isSafeInteger(keep) || keep < 1)
    throw new BitStableError('INVALID_CONFIG', 'Keep at least one backup.', { keep });
  privateDir(dir);
  const path = join(dir, backupName(now, SUFFIX));
  const partial = `${path}.partial`;
  try {
    // 0600 before pg_dump writes into it: a backup holds what the database holds.
    privateFile(partial);
    try {
      await run(tool('pg_dump'), ['--format=custom', '--no-owner', '--file', partial, url], {
        maxBuffer: MAX_OUTPUT,
      });
    } catch (err) {
      throw new BitStableError(
        'DATABASE_ERROR',
        `pg_dump could not back the database up: ${String(
          (err as { stderr?: string }).stderr ?? (err as Error).message,
        )
          .trim()
          .slice(0, 300)}`,
        {},
        { cause: err },
      );
    }
    await checkPgBackup(partial);
    renameSync(partial, path);
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  }
  for (const old of listPgBackups(dir).slice(keep)) rmSync(old.path, { force: true });
  return listPgBackups(dir).find((b) => b.path === path)!;
}

/**
 * Replaces the database at `url` with the dump, after checking it, in one transaction. Every
 * instance must be stopped.
 */
export async function restorePostgres(backup: string, url: string): Promise<CheckedBackup> {
  const checked = await checkPgBackup(backup);
  try {
    await run(
      tool('pg_restore'),
      ['--clean', '--if-exists', '--no-owner', '--single-transaction', '--dbname', url, backup],
      { maxBuffer: MAX_OUTPUT },
    );
  } catch (err) {
    throw new BitStableError(
      'BACKUP_INVALID',
      `The backup ${basename(backup)} could not be restored, and nothing was changed: ${String(
        (err as { stderr?: string }).stderr ?? (err as Error).message,
      )
        .trim()
        .slice(0, 300)}`,
      { path: backup },
      { cause: err },
    );
  }
  return checked;
}
