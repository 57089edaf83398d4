/**
 * The storage boundary (issue 12, item 8): no SQL and no SQLite handle in `core/` outside the
 * store (`core/store/`, and `core/db/`, the SQLite engine it opens and migrates). Services take
 * a `Store` (core/store/ports.ts); a new statement goes into a port's adapter.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const CORE = join(ROOT, 'core');

/**
 * Composition roots: they open the SQLite database (checkpoint it, close it) and choose the
 * adapter, so they name the handle, but run no statement and open no transaction themselves.
 */
const COMPOSITION_ROOTS: readonly string[] = ['core/app/bitstable-node.ts'];

/** The files that may import the SQLite adapter (`core/store/sqlite/`), and why. */
const ADAPTER_USERS: Record<string, string> = {
  'core/app/bitstable-node.ts': "the protocol node's composition root",
  'core/wallet/host.ts': "the wallet's composition root (its own records and registrations)",
  'core/ops/backup.ts':
    'checks and restores a SQLite backup file while no node runs (PostgreSQL: pg_dump, issue 17)',
};

/** Statements, transactions (other than a Store's unit of work) and pragmas. */
const STATEMENTS =
  /\.prepare\(|\.pragma\(|\bdb\.exec\(|(?<!\bstore)\.transaction\(|\b(?:SELECT\s+\S[\s\S]{0,200}?\bFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b/;
/** The SQLite driver and its handle type. */
const HANDLE = /\bSqlite\b|better-sqlite3/;
const hasSql = (code: string) => STATEMENTS.test(code) || HANDLE.test(code);

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return filesUnder(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

/** The code of a file without its comments (a comment may name a table). */
const codeOf = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');

describe('the storage boundary', () => {
  const sources = filesUnder(CORE)
    .map((p) => relative(ROOT, p))
    .filter((p) => !p.startsWith('core/store/') && !p.startsWith('core/db/'))
    .map((p) => ({ path: p, code: codeOf(readFileSync(join(ROOT, p), 'utf8')) }));

  it('has no SQL and no SQLite handle in core/ outside the store', () => {
    const withSql = sources
      .filter((f) => !COMPOSITION_ROOTS.includes(f.path) && hasSql(f.code))
      .map((f) => f.path);
    // A file here: move its statements into a port under core/store/.
    expect(withSql).toEqual([]);
  });

  it('lets a composition root hold the handle, but run no statement', () => {
    for (const root of COMPOSITION_ROOTS) {
      const f = sources.find((s) => s.path === root);
      expect(f, root).toBeDefined();
      expect(STATEMENTS.test(f!.code), root).toBe(false);
    }
  });

  it('keeps the SQLite adapter out of the services: only the files that must import it do', () => {
    const importers = sources
      .filter((f) => /from '[./]*\/store\/sqlite(?:\/[\w-]+)?'/.test(f.code))
      .map((f) => f.path)
      .sort();
    expect(importers).toEqual(Object.keys(ADAPTER_USERS).sort());
  });

  it('recognises SQL in the forms the services used', () => {
    for (const code of [
      "db.prepare('SELECT 1')",
      'this.db.transaction(() => 1)()',
      "db.pragma('journal_mode = WAL')",
      'import type { Sqlite } from "../db/database"',
      'const q = `SELECT id\n FROM vaults WHERE id = ?`',
      "'UPDATE vaults SET state = ?'",
    ])
      expect(hasSql(codeOf(code)), code).toBe(true);
    // The unit of work of the ports (`store.transaction(fn)`) is not SQL.
    for (const code of [
      '/[a-z]+/.exec(s)',
      '// SELECT the vault FROM the list',
      'selected',
      'this.store.transaction(() => 1)',
    ])
      expect(hasSql(codeOf(code)), code).toBe(false);
  });
});
