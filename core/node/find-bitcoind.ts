/**
 * Finds a `bitcoind` executable in the order of SPEC §3: a configured path, `BITCOIND` in the
 * environment, the project's local install (`.tools/bin/bitcoind`), then `PATH`.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BitStableError } from '../errors';

const isExecutable = (path: string) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** The repository root, found from this file's location (core/node/ → two levels up). */
export function projectRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

export interface FindOptions {
  configured?: string;
  env?: NodeJS.ProcessEnv;
  projectDir?: string;
}

/** Every place looked at, in order, with where it came from. */
export function bitcoindCandidates(options: FindOptions = {}): { source: string; path: string }[] {
  const env = options.env ?? process.env;
  const out: { source: string; path: string }[] = [];
  if (options.configured) out.push({ source: 'configured path', path: options.configured });
  if (env.BITCOIND) out.push({ source: 'BITCOIND environment variable', path: env.BITCOIND });
  out.push({
    source: 'project install',
    path: join(options.projectDir ?? projectRoot(), '.tools', 'bin', 'bitcoind'),
  });
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    out.push({ source: 'PATH', path: join(dir, 'bitcoind') });
  }
  return out;
}

/** The first executable bitcoind, or a typed error that says how to install one. */
export function findBitcoind(options: FindOptions = {}): string {
  const candidates = bitcoindCandidates(options);
  // A configured path or BITCOIND that is wrong is an error, not something to skip silently.
  for (const c of candidates) {
    if (isExecutable(c.path)) return c.path;
    if (c.source !== 'PATH' && c.source !== 'project install') {
      throw new BitStableError(
        'BITCOIND_NOT_FOUND',
        `The ${c.source} points at ${c.path}, which is not an executable bitcoind.`,
        { path: c.path, source: c.source },
      );
    }
  }
  throw new BitStableError(
    'BITCOIND_NOT_FOUND',
    'No bitcoind was found for local regtest mode. Run `npm run install:bitcoind` (Debian/Ubuntu), install Bitcoin Core and put bitcoind on your PATH, or set BITCOIND to its path.',
    { looked: candidates.slice(0, 4).map((c) => c.path) },
  );
}
