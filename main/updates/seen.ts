/**
 * The newest version a verified update feed has offered this app, kept in a small file so that a
 * restart does not forget it: an older feed served afterwards (still newer than the running
 * version) is a replay, and refused.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { compareVersions, parseVersion } from './verify';

export function highestSeenStore(path: string): {
  get(): string | null;
  set(version: string): void;
} {
  const read = (): string | null => {
    try {
      const v = (JSON.parse(readFileSync(path, 'utf8')) as { version?: unknown }).version;
      return typeof v === 'string' && parseVersion(v) !== null ? v : null;
    } catch {
      return null;
    }
  };
  return {
    get: read,
    set(version) {
      const now = read();
      if (now !== null && compareVersions(version, now) <= 0) return;
      const tmp = `${path}.tmp`;
      writeFileSync(tmp, `${JSON.stringify({ version })}\n`, { mode: 0o600 });
      renameSync(tmp, path);
    },
  };
}
