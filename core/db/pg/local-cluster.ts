/**
 * A private PostgreSQL cluster for tests, soaks and benchmarks, as `node/regtest.ts` is for
 * bitcoind: `initdb` in a new temporary folder, the server on a free loopback port with its
 * socket in that folder, one database, and a stop that removes it all. Debian's `postgresql`
 * package (15 on bookworm; `npm run setup` installs it) provides the binaries.
 *
 * PostgreSQL refuses to run as root: as root, the cluster is made and run as the `postgres`
 * user (`runuser`), in a folder that user owns.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { BitStableError } from '../../errors';
import { freePort } from '../../node/regtest';

/** Where Debian puts each major version's server binaries. */
const DEBIAN_PG = '/usr/lib/postgresql';

/** The newest installed server's bin folder (PG_BIN overrides), or null. */
export function findPostgresBin(): string | null {
  const given = process.env.PG_BIN;
  if (given) return existsSync(join(given, 'initdb')) ? given : null;
  if (!existsSync(DEBIAN_PG)) return null;
  const versions = readdirSync(DEBIAN_PG)
    .filter((v) => /^\d+$/.test(v) && existsSync(join(DEBIAN_PG, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(DEBIAN_PG, versions[0]!, 'bin') : null;
}

export interface LocalPostgres {
  /** A connection string for the cluster's database (loopback TCP). */
  url: string;
  port: number;
  dataDir: string;
  /** Stops the server and removes its folder. */
  stop(): Promise<void>;
}

const running = new Set<LocalPostgres>();
process.once('exit', () => {
  for (const pg of running) void pg.stop();
});

/** Starts a private cluster with one database, `bitstable`; refuses with a sentence if it cannot. */
export async function startLocalPostgres(
  options: { database?: string } = {},
): Promise<LocalPostgres> {
  const bin = findPostgresBin();
  if (!bin)
    throw new BitStableError(
      'DATABASE_ERROR',
      'PostgreSQL is not installed (Debian: apt-get install postgresql, or npm run setup); set PG_BIN to its bin folder otherwise.',
      {},
    );
  const root = userInfo().uid === 0;
  const dir = mkdtempSync(join(tmpdir(), 'bitstable-pg-'));
  const dataDir = join(dir, 'data');
  const asUser = (cmd: string, args: string[]) =>
    root ? ['runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]] : [join(bin, cmd), args];
  const run = (cmd: string, args: string[]) => {
    const [file, argv] = asUser(cmd, args) as [string, string[]];
    return execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  };
  if (root) {
    const pgUser = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const pgGroup = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    chownSync(dir, Number(pgUser.stdout.trim()), Number(pgGroup.stdout.trim()));
  }
  const port = await freePort();
  const cluster: LocalPostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/${options.database ?? 'bitstable'}`,
    port,
    dataDir,
    stop: async () => {
      if (!running.delete(cluster)) return;
      try {
        run('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // Not running (it failed to start, or was stopped already): only the folder is left.
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    run('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    running.add(cluster);
    run('pg_ctl', [
      '-D',
      dataDir,
      '-w',
      '-l',
      join(dataDir, 'server.log'),
      '-o',
      // Loopback only; the socket in the cluster's own folder; fsync stays on (durability is
      // what the tests check).
      `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir}`,
      'start',
    ]);
    run('createdb', [
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-U',
      'postgres',
      options.database ?? 'bitstable',
    ]);
    return cluster;
  } catch (err) {
    await cluster.stop();
    running.delete(cluster);
    rmSync(dir, { recursive: true, force: true });
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().slice(0, 500) ?? '';
    throw new BitStableError(
      'DATABASE_ERROR',
      `The private PostgreSQL cluster did not start: ${stderr || (err as Error).message}`,
      {},
      { cause: err },
    );
  }
}
