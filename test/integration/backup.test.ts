import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codeOfSync } from '../helpers/errors';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../core/db/database';
import { backupDatabase, checkBackup, listBackups, restoreBackup } from '../../core/ops/backup';
import { faucet, mine, useBitStableNode } from '../helpers/app';

const t = useBitStableNode({ backups: false });
const dir = mkdtempSync(join(tmpdir(), 'bitstable-backup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('database backups', () => {
  it('a backup taken while the app works restores to a database that opens, passes integrity_check and holds the same vaults', async () => {
    const { app } = t();
    const first = await app.vaults.createVault({
      keySetId: app.keySetId,
      returnAddress: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
    });
    await faucet(app, first.address, 1_000_000);
    await mine(app);
    // Keep writing while the backup runs.
    const writes = Promise.all(
      [1, 2, 3].map(() =>
        app.vaults.createVault({
          keySetId: app.keySetId,
          returnAddress: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
        }),
      ),
    );
    const backup = await backupDatabase(app.store, join(dir, 'backups'), 3);
    await writes;
    const checked = checkBackup(backup.path);
    expect(checked.vaults).toBeGreaterThanOrEqual(1);

    const target = join(dir, 'restored', 'bitstable.sqlite');
    restoreBackup(backup.path, target);
    const db = openDatabase(target);
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const restored = db
        .prepare('SELECT id, address, collateral_sats FROM vaults ORDER BY id')
        .all() as { id: number; address: string; collateral_sats: number }[];
      const live = (await app.vaults.listVaults()).filter((v) =>
        restored.some((r) => r.id === v.id),
      );
      expect(restored.length).toBe(checked.vaults);
      expect(restored.find((r) => r.id === first.id)).toMatchObject({
        address: first.address,
        collateral_sats: 1_000_000,
      });
      for (const r of restored) expect(live.find((v) => v.id === r.id)!.address).toBe(r.address);
    } finally {
      db.close();
    }
  });

  it('keeps only the newest N backups', async () => {
    const { app } = t();
    const keepDir = join(dir, 'keep');
    for (let i = 0; i < 5; i++)
      await backupDatabase(app.store, keepDir, 2, Date.UTC(2026, 0, 1, 0, i));
    const left = listBackups(keepDir);
    expect(left).toHaveLength(2);
    expect(left[0]!.path).toContain('2026-01-01T00-04');
  });

  it('refuses a corrupt, truncated or foreign backup with a plain message and replaces nothing', async () => {
    const { app } = t();
    const good = await backupDatabase(app.store, join(dir, 'src'), 1);
    const target = join(dir, 'target', 'bitstable.sqlite');
    restoreBackup(good.path, target);
    const before = sha(target);

    const corrupt = join(dir, 'corrupt.sqlite');
    copyFileSync(good.path, corrupt);
    const bytes = readFileSync(corrupt);
    // Scribble over a b-tree page in the middle of the file (not the header).
    bytes.fill(0x5a, 4096 * 2, 4096 * 2 + 2048);
    writeFileSync(corrupt, bytes);
    const truncated = join(dir, 'truncated.sqlite');
    writeFileSync(truncated, readFileSync(good.path).subarray(0, 3000));
    const text = join(dir, 'notes.sqlite');
    writeFileSync(text, 'this is not a database');
    const empty = join(dir, 'empty.sqlite'); // SQLite opens an empty file as an empty database
    writeFileSync(empty, '');

    for (const bad of [corrupt, truncated, text, empty, join(dir, 'missing.sqlite')]) {
      expect(
        codeOfSync(() => restoreBackup(bad, target)),
        bad,
      ).toBe('BACKUP_INVALID');
    }
    try {
      restoreBackup(corrupt, target);
    } catch (err) {
      expect((err as Error).message).toMatch(/^The backup corrupt\.sqlite cannot be restored: /);
    }
    expect(sha(target)).toBe(before);
  });
});
