/**
 * `npm run restore -- <backup file> [--data-dir DIR] [--network regtest]`: checks a backup and
 * puts it in place of the network's database. Stop the app first. The replaced database is kept
 * beside it; nothing is replaced if the backup fails its check.
 *
 * `npm run restore -- <file>.pgdump --db postgres://…`: a protocol node's PostgreSQL backup, put
 * back in one transaction (stop every instance first); nothing changes if it fails its check.
 */
import { join } from 'node:path';
import { homedir } from 'node:os';
import { parseArgs } from 'node:util';
import { network } from '../core/config/networks';
import { isBitStableError } from '../core/errors';
import { restoreBackup } from '../core/ops/backup';
import { restorePostgres } from '../core/ops/pg-backup';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'data-dir': { type: 'string' }, network: { type: 'string' }, db: { type: 'string' } },
});
const backup = positionals[0];
if (!backup) {
  console.error('Usage: npm run restore -- <backup file> [--data-dir DIR] [--network regtest]');
  process.exit(2);
}
const db = values.db ?? process.env.BITSTABLE_DATABASE_URL;
if (db) {
  try {
    const checked = await restorePostgres(backup, db);
    console.log(
      `Restored ${backup} (${checked.vaults} vaults, schema ${checked.schemaVersion}) to the PostgreSQL database.`,
    );
  } catch (err) {
    console.error(
      isBitStableError(err) ? err.message : `Restore failed: ${(err as Error).message}`,
    );
    process.exit(1);
  }
  process.exit(0);
}
const dataDir =
  values['data-dir'] ?? process.env.BITSTABLE_DATA_DIR ?? join(homedir(), '.bitstable');
try {
  const net = network(values.network ?? process.env.BITSTABLE_NETWORK ?? 'regtest');
  const target = join(dataDir, net.name, 'bitstable.sqlite');
  const { replaced, checked } = restoreBackup(backup, target);
  console.log(
    `Restored ${backup} (${checked.vaults} vaults, schema ${checked.schemaVersion}) to ${target}.`,
  );
  if (replaced) console.log(`The previous database was kept as ${replaced}.`);
} catch (err) {
  console.error(isBitStableError(err) ? err.message : `Restore failed: ${(err as Error).message}`);
  process.exit(1);
}
