/**
 * Bearer tokens of the headless gateway (SPEC §10): random tokens with roles, kept in a 0600
 * file in the data folder. The first start writes one token with every role.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { ROLES, type Role } from '../api/contract';
import { parseAccountId } from '../accounts/id';
import { BitStableError } from '../errors';

export const TOKEN_FILE = 'gateway-tokens.json';

const TokenEntry = z.object({
  label: z.string().max(100),
  roles: z.array(z.enum(ROLES)).min(1),
  token: z.string().regex(/^[A-Za-z0-9_-]{32,128}$/),
  /** The account a bot token acts for (`--add-token ROLES --account ID`). */
  account: z.string().max(90).optional(),
});
const TokenFile = z.object({ version: z.literal(1), tokens: z.array(TokenEntry) });
export type TokenEntry = z.infer<typeof TokenEntry>;

/** A new random token: 256 bits, base64url (valid inside a WebSocket subprotocol name). */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The token file's path in a data folder. */
export const tokenFilePath = (dataDir: string) => join(dataDir, TOKEN_FILE);

/** Reads the token file, creating it with one all-roles token on first start; keeps it 0600. */
export function loadTokens(dataDir: string): {
  tokens: TokenEntry[];
  created: boolean;
  path: string;
} {
  const path = tokenFilePath(dataDir);
  if (!existsSync(path)) {
    const tokens = [{ label: 'owner (every role)', roles: ['admin'] as Role[], token: newToken() }];
    writeTokens(path, tokens);
    return { tokens, created: true, path };
  }
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  let parsed: z.infer<typeof TokenFile>;
  try {
    parsed = TokenFile.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch (err) {
    throw new BitStableError(
      'INVALID_CONFIG',
      `The gateway token file ${path} is not valid. Fix it or delete it to get a new token.`,
      { path },
      { cause: err },
    );
  }
  return { tokens: parsed.tokens, created: false, path };
}

/** Adds a token with `roles` (acting for `account`, if given) to the file; returns it. */
export function addToken(
  dataDir: string,
  roles: Role[],
  label: string,
  account?: string,
): TokenEntry {
  if (account !== undefined) parseAccountId(account);
  const { tokens, path } = loadTokens(dataDir);
  const entry = TokenEntry.parse({
    label,
    roles,
    token: newToken(),
    ...(account !== undefined ? { account } : {}),
  });
  writeTokens(path, [...tokens, entry]);
  return entry;
}

function writeTokens(path: string, tokens: TokenEntry[]): void {
  mkdirSync(dirname(path), { recursive: true });
  // Written aside and renamed: a gateway reading it meanwhile sees the old file or the new one.
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ version: 1, tokens }, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/**
 * The token file as it is now: re-read when it changes (checked at most every `everyMs`), so a
 * token removed from it is refused without a restart. A file that became invalid keeps the last
 * good tokens and says so once.
 */
export function tokenSource(
  dataDir: string,
  onProblem: (message: string) => void = () => {},
  everyMs = 500,
): () => readonly TokenEntry[] {
  const path = tokenFilePath(dataDir);
  let tokens = loadTokens(dataDir).tokens;
  let seen = stamp(path);
  let checkedAt = Date.now();
  let complained = false;
  return () => {
    const now = Date.now();
    if (now - checkedAt < everyMs) return tokens;
    checkedAt = now;
    const current = stamp(path);
    if (current === seen) return tokens;
    try {
      tokens = existsSync(path) ? loadTokens(dataDir).tokens : [];
      seen = current;
      complained = false;
    } catch (err) {
      if (!complained) onProblem((err as Error).message);
      complained = true;
    }
    return tokens;
  };
}

function stamp(path: string): string {
  try {
    const st = statSync(path);
    return `${st.mtimeMs}:${st.size}:${st.ino}`;
  } catch {
    return 'none';
  }
}

/**
 * Removes the tokens whose label is `which`, or whose token starts with it (8 characters or
 * more); returns what was removed. INVALID_ARGUMENT when nothing matches.
 */
export function revokeTokens(dataDir: string, which: string): TokenEntry[] {
  const { tokens, path } = loadTokens(dataDir);
  const hit = (t: TokenEntry) =>
    t.label === which || (which.length >= 8 && t.token.startsWith(which));
  const gone = tokens.filter(hit);
  if (gone.length === 0) {
    throw new BitStableError(
      'INVALID_ARGUMENT',
      `No token is labelled "${which.slice(0, 60)}" or starts with it; nothing was revoked.`,
      {},
    );
  }
  writeTokens(
    path,
    tokens.filter((t) => !hit(t)),
  );
  return gone;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Finds the entry for a presented token in constant time per entry; null when none matches. */
export function matchToken(
  tokens: readonly TokenEntry[],
  presented: string | null,
): TokenEntry | null {
  if (!presented) return null;
  const p = digest(presented);
  let found: TokenEntry | null = null;
  for (const t of tokens) if (timingSafeEqual(digest(t.token), p)) found = t;
  return found;
}
