/**
 * The asynchronous unit of work on SQLite (core/store/sqlite/index.ts): one transaction at a
 * time on the shared connection, savepoints for nested ones at any depth, and no call from
 * outside reading another transaction's uncommitted writes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Sqlite } from '../../core/db/database';
import { sqliteStore } from '../../core/store/sqlite';
import type { Store } from '../../core/store/ports';

let dir: string | undefined;
let db: Sqlite | undefined;
afterEach(() => {
  db?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  db = dir = undefined;
});

function open(): Store {
  dir = mkdtempSync(join(tmpdir(), 'bitstable-tx-'));
  db = openDatabase(join(dir, 'bitstable.sqlite'));
  return sqliteStore(db);
}

// A setting to write and read back: the playground's active account, kept per "network" key.
const setting = (store: Store, key: string) => store.accounts.activePlaygroundAccount(key);
const set = (store: Store, key: string, value: string) =>
  store.accounts.setActivePlaygroundAccount(key, value);
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('transactions on SQLite', () => {
  it('nests to any depth; a nested one that throws undoes only its own writes', async () => {
    const store = open();
    await store.transaction(async () => {
      await set(store, 'a', '1');
      await store.transaction(async () => {
        await set(store, 'b', '2');
        await store
          .transaction(async () => {
            await set(store, 'c', '3');
            throw new Error('undo c');
          })
          .catch(() => undefined);
        await store.transaction(async () => {
          await set(store, 'd', '4');
        });
      });
    });
    expect(await setting(store, 'a')).toBe('1');
    expect(await setting(store, 'b')).toBe('2');
    expect(await setting(store, 'c')).toBeNull();
    expect(await setting(store, 'd')).toBe('4');
  });

  it('a transaction that throws leaves nothing behind', async () => {
    const store = open();
    await expect(
      store.transaction(async () => {
        await set(store, 'a', '1');
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(await setting(store, 'a')).toBeNull();
  });

  it('two transactions started together run one after the other, never interleaved', async () => {
    const store = open();
    await set(store, 'n', '0');
    const steps: string[] = [];
    const bump = (who: string) =>
      store.transaction(async () => {
        const n = Number(await setting(store, 'n'));
        steps.push(`${who} read ${n}`);
        await tick(); // the other one gets every chance to run here
        await set(store, 'n', String(n + 1));
        steps.push(`${who} wrote ${n + 1}`);
      });
    await Promise.all([bump('x'), bump('y')]);
    expect(await setting(store, 'n')).toBe('2');
    expect(steps).toEqual(['x read 0', 'x wrote 1', 'y read 1', 'y wrote 2']);
  });

  it('a read from outside waits for the open transaction: it never sees uncommitted writes', async () => {
    const store = open();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const writing = store
      .transaction(async () => {
        await set(store, 'a', 'uncommitted');
        await gate;
        throw new Error('rolled back');
      })
      .catch(() => undefined);
    await tick();
    const read = setting(store, 'a');
    let answered = false;
    void read.then(() => (answered = true));
    await tick();
    expect(answered).toBe(false);
    release();
    await writing;
    expect(await read).toBeNull();
  });

  it('work a transaction left running after it ended waits like any caller from outside', async () => {
    const store = open();
    let leftOver: Promise<string | null> | undefined;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    await store.transaction(async () => {
      await set(store, 'a', '1');
      // Started inside, so it carries the transaction's async context with it.
      leftOver = gate.then(() => setting(store, 'b'));
    });
    const other = store.transaction(async () => {
      await set(store, 'b', 'uncommitted');
      release();
      await tick();
      await tick();
      throw new Error('rolled back');
    });
    await other.catch(() => undefined);
    expect(await leftOver).toBeNull();
  });
});
