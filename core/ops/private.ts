/**
 * Private files (SPEC §10): BitStable's folders are 0700 and its databases 0600, so descriptors,
 * xpubs, addresses and balances are not readable by every user of the machine. Folders made
 * before this (0755) are tightened at start, with a line in the log.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';

export interface PrivateLogger {
  info(obj: object, msg: string): void;
}

/** Creates `path` (and missing parents) 0700, or tightens it to 0700 if others may read it. */
export function privateDir(path: string, log?: PrivateLogger): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  tighten(path, 0o700, log);
}

/** Creates `path` empty and 0600 if it does not exist; tightens it to 0600 if it does. */
export function privateFile(path: string, log?: PrivateLogger): void {
  if (!existsSync(path)) {
    closeSync(openSync(path, 'a', 0o600));
    return;
  }
  tighten(path, 0o600, log);
}

function tighten(path: string, mode: number, log?: PrivateLogger): void {
  const now = statSync(path).mode & 0o777;
  if ((now & 0o077) === 0) return;
  chmodSync(path, mode);
  log?.info(
    { path, from: now.toString(8), to: mode.toString(8) },
    'made private (others could read it)',
  );
}
