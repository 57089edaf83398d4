/**
 * Backups of a protocol node on PostgreSQL (core/ops/pg-backup.ts), on a private cluster: a dump
 * is checked before it is kept (and kept N deep), a damaged or foreign file is refused with a
 * sentence, and a restore puts the data back in one transaction — or changes nothing.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { migratePostgres, openPostgres } from '../../core/db/pg/database';
import { PG_SCHEMA_VERSION } from '../../core/db/pg/migrations';
import {
  backupPostgres,
  checkPgBackup,
  listPgBackups,
  restorePostgres,
} from '../../core/ops/pg-backup';
import { pgStore } from '../../core/store/pg';
import { codeOf } from '../helpers/errors';
import { pgRuns, usePostgres } from '../helpers/postgres';

const pgs = usePostgres();
const dir = mkdtempSync(join(tmpdir(), 'bitstable-pg-backup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A second database on the cluster, migrated, with its URL. */
async function database(name: string): Promise<{ url: string; pool: pg.Pool }> {
  const admin = pgs.pool(1);
  await admin.query(`CREATE DATABASE ${name}`);
  const u = new URL(pgs.cluster().url);
  u.pathname = `/${name}`;
  const pool = openPostgres(u.toString(), { max: 2 });
  await migratePostgres(pool);
  return { url: u.toString(), pool };
}

describe.skipIf(!pgRuns)('PostgreSQL backups', () => {
  it('a dump is checked and kept three deep; restored into another database, it brings the vaults back', async () => {
    const live = await database('live');
    const store = pgStore(live.pool);
    const keySetId = await store.vaults.insertKeySet('regtest', 'o', 'p', 'g', 0);
    for (let i = 0; i < 4; i++)
      await store.vaults.insert({
        keySetId,
        index: i,
        network: 'regtest',
        address: `bcrt1qbackup${i}`,
        descriptor: `wsh(${i})`,
        plannedDepositSats: null,
        returnAddress: null,
        label: `vault ${i}`,
        accountId: null,
        createdAt: i,
      });
    const backups = join(dir, 'backups');
    for (let k = 0; k < 4; k++) await backupPostgres(live.url, backups, 3, 1_700_000_000_000 + k);
    const kept = listPgBackups(backups);
    expect(kept).toHaveLength(3);
    expect(await checkPgBackup(kept[0]!.path)).toEqual({
      schemaVersion: PG_SCHEMA_VERSION,
      vaults: 4,
    });

    const other = await database('other');
    expect(await restorePostgres(kept[0]!.path, other.url)).toMatchObject({ vaults: 4 });
    const restored = await pgStore(other.pool).vaults.list('regtest');
    expect(restored.map((v) => v.label).sort()).toEqual([
      'vault 0',
      'vault 1',
      'vault 2',
      'vault 3',
    ]);
    await live.pool.end();
    await other.pool.end();
  });

  it('a damaged or foreign file is refused with a sentence, and the database is left as it was', async () => {
    const target = await database('target');
    await pgStore(target.pool).vaults.insertKeySet('regtest', 'o2', 'p2', 'g2', 0);
    const damaged = join(dir, 'damaged.pgdump');
    const good = listPgBackups(join(dir, 'backups'))[0]!.path;
    const bytes = readFileSync(good);
    writeFileSync(damaged, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const foreign = join(dir, 'notes.pgdump');
    writeFileSync(foreign, 'these are not the droids\n');
    for (const file of [damaged, foreign, join(dir, 'missing.pgdump')]) {
      expect(await codeOf(() => restorePostgres(file, target.url))).toBe('BACKUP_INVALID');
      await expect(checkPgBackup(file)).rejects.toThrow(/cannot be restored: /);
    }
    const { rows } = await target.pool.query('SELECT owner_key FROM key_sets');
    expect(rows).toEqual([{ owner_key: 'o2' }]);
    await target.pool.end();
  });
});
