/**
 * BitStable's folders and databases are its user's alone (issue 16): a node started on a data
 * folder that an older version left 0755 (and whose database was 0644) tightens them, and a fresh
 * start makes the folder 0700 and the database and its -wal and -shm files 0600.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BitStableNode } from '../../core/app/bitstable-node';
import { InMemoryKeyStore } from '../../core/keys/keystore';
import { SqliteWalletStore } from '../../core/store/sqlite/wallet';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const modeOf = (p: string) => (statSync(p).mode & 0o777).toString(8);

describe('private data folders', () => {
  it('a node tightens a folder left world-readable and keeps its database 0600', async () => {
    const root = mkdtempSync(join(tmpdir(), 'bitstable-private-'));
    dirs.push(root);
    const dataDir = join(root, 'data');
    mkdirSync(join(dataDir, 'regtest'), { recursive: true, mode: 0o755 });
    chmodSync(dataDir, 0o755);
    chmodSync(join(dataDir, 'regtest'), 0o755);
    const infos: string[] = [];
    const node = await BitStableNode.start({
      dataDir,
      network: 'regtest',
      keyStore: new InMemoryKeyStore(),
      logger: {
        info: (_o: object, msg: string) => infos.push(msg),
        warn: () => undefined,
        error: () => undefined,
      } as never,
    });
    try {
      expect(modeOf(dataDir)).toBe('700');
      expect(modeOf(join(dataDir, 'regtest'))).toBe('700');
      const db = join(dataDir, 'regtest', 'bitstable.sqlite');
      for (const f of [db, `${db}-wal`, `${db}-shm`]) expect(modeOf(f), f).toBe('600');
      expect(infos).toContain('made private (others could read it)');
    } finally {
      await node.stop();
    }
  });

  it("a wallet's own database is made 0600, an old 0644 one tightened", () => {
    const root = mkdtempSync(join(tmpdir(), 'bitstable-private-wallet-'));
    dirs.push(root);
    const path = join(root, 'regtest', 'wallet.sqlite');
    mkdirSync(join(root, 'regtest'), { mode: 0o755 });
    writeFileSync(path, '', { mode: 0o644 });
    chmodSync(path, 0o644);
    const store = SqliteWalletStore.open(path);
    store.close();
    expect(modeOf(path)).toBe('600');
    expect(modeOf(join(root, 'regtest'))).toBe('700');
  });
});
