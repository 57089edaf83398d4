/**
 * Accounts on the protocol node (SPEC §3): registration, sign-in by challenge and signature, and
 * the sessions it hands out. The node never holds an account's private key; it holds the public
 * key (the id) and, for a session, only the SHA-256 of its token.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Sqlite } from '../db/database';
import { BitStableError } from '../errors';
import { ensureHolder } from '../ledger/bsusd';
import { parseAccountId } from './id';
import { verifyLogin } from './login';

export type Registration = 'open' | 'invite';

export interface Account {
  id: string;
  label: string | null;
  createdAt: number;
}

export interface Session {
  token: string;
  accountId: string;
  expiresAt: number;
}

export interface AccountServiceOptions {
  db: Sqlite;
  /** This node's id: what a sign-in signature is bound to. */
  nodeId: string;
  registration: Registration;
  clock?: () => number;
  /** How long a challenge may be answered (default 5 minutes). */
  challengeTtlMs?: number;
  /** How long a session lasts (default 30 days). */
  sessionTtlMs?: number;
}

/** At most this many unanswered challenges at once: a flood of requests cannot fill memory. */
const MAX_CHALLENGES = 10_000;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export class AccountService {
  readonly nodeId: string;
  readonly registration: Registration;
  private readonly db: Sqlite;
  private readonly now: () => number;
  private readonly challengeTtlMs: number;
  private readonly sessionTtlMs: number;
  /** Outstanding challenges → when they expire. One use each. */
  private readonly challenges = new Map<string, number>();

  constructor(options: AccountServiceOptions) {
    this.db = options.db;
    this.nodeId = options.nodeId;
    this.registration = options.registration;
    this.now = options.clock ?? Date.now;
    this.challengeTtlMs = options.challengeTtlMs ?? 5 * 60_000;
    this.sessionTtlMs = options.sessionTtlMs ?? 30 * 24 * 3_600_000;
  }

  /** Registers an account (idempotent for one already registered); its holder account too. */
  register(accountId: string, label: string | null = null): Account {
    const xOnly = parseAccountId(accountId);
    const ts = this.now();
    this.db.transaction(() => {
      this.db
        .prepare(
          'INSERT INTO accounts (id, pubkey, label, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
        )
        .run(accountId, Buffer.from(xOnly).toString('hex'), label, ts);
      ensureHolder(this.db, accountId);
    })();
    return this.require(accountId);
  }

  /** The account, or null. */
  get(accountId: string): Account | null {
    const row = this.db
      .prepare('SELECT id, label, created_at FROM accounts WHERE id = ?')
      .get(accountId) as { id: string; label: string | null; created_at: number } | undefined;
    return row ? { id: row.id, label: row.label, createdAt: row.created_at } : null;
  }

  /** The account; ACCOUNT_NOT_FOUND when it is not registered here. */
  require(accountId: unknown): Account {
    parseAccountId(accountId);
    const account = this.get(accountId as string);
    if (!account) {
      throw new BitStableError(
        'ACCOUNT_NOT_FOUND',
        `No account ${String(accountId)} is registered on this node.`,
        { accountId },
      );
    }
    return account;
  }

  /** A fresh single-use challenge for a sign-in. */
  challenge(): { challenge: string; nodeId: string; expiresAt: number } {
    const ts = this.now();
    for (const [c, exp] of this.challenges) if (exp <= ts) this.challenges.delete(c);
    if (this.challenges.size >= MAX_CHALLENGES) {
      // The oldest go first: a flood only ever costs the flood its own challenges.
      const oldest = this.challenges.keys().next().value;
      if (oldest !== undefined) this.challenges.delete(oldest);
    }
    const challenge = randomBytes(32).toString('hex');
    const expiresAt = ts + this.challengeTtlMs;
    this.challenges.set(challenge, expiresAt);
    return { challenge, nodeId: this.nodeId, expiresAt };
  }

  /**
   * Signs in with a signature of a challenge this node handed out. An account not yet registered
   * is registered here when registration is open, or with an unused invite code.
   */
  signIn(input: {
    accountId: string;
    challenge: string;
    signature: string;
    inviteCode?: string;
    label?: string;
  }): Session {
    const failed = (why: string) =>
      new BitStableError('SIGN_IN_FAILED', `Sign-in failed: ${why}. Ask for a new challenge.`, {});
    parseAccountId(input.accountId);
    const expires = this.challenges.get(input.challenge);
    // Used once, whatever the outcome: a wrong signature burns the challenge.
    this.challenges.delete(input.challenge);
    if (expires === undefined) throw failed('this node did not hand out that challenge');
    if (expires <= this.now()) throw failed('the challenge expired');
    if (!verifyLogin(input.accountId, this.nodeId, input.challenge, input.signature)) {
      throw failed("the signature is not this account's signature of the challenge");
    }
    const ts = this.now();
    return this.db.transaction(() => {
      if (!this.get(input.accountId)) {
        // Registered first (the invite names the account); a bad code rolls both back.
        this.register(input.accountId, input.label ?? null);
        if (this.registration === 'invite') this.useInvite(input.inviteCode, input.accountId, ts);
      }
      return this.openSession(input.accountId, ts);
    })();
  }

  /** A session for an account (sign-in, or the node's own wallet in local mode). */
  openSession(accountId: string, ts = this.now()): Session {
    const token = randomBytes(32).toString('base64url');
    const expiresAt = ts + this.sessionTtlMs;
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(ts);
      this.db
        .prepare(
          'INSERT INTO sessions (token_hash, account_id, created_at, expires_at) VALUES (?, ?, ?, ?)',
        )
        .run(sha256(token), accountId, ts, expiresAt);
    })();
    return { token, accountId, expiresAt };
  }

  /** The account a session token belongs to, or null (unknown or expired). */
  sessionAccount(token: string | null): string | null {
    if (!token) return null;
    const row = this.db
      .prepare('SELECT account_id, expires_at FROM sessions WHERE token_hash = ?')
      .get(sha256(token)) as { account_id: string; expires_at: number } | undefined;
    return row && row.expires_at > this.now() ? row.account_id : null;
  }

  /** Ends a session. */
  signOut(token: string): void {
    this.db.prepare('DELETE FROM sessions WHERE token_hash = ?').run(sha256(token));
  }

  /** A new invite code (the operator's). */
  createInvite(): string {
    const code = randomBytes(12).toString('base64url');
    this.db
      .prepare('INSERT INTO invites (code_hash, created_at) VALUES (?, ?)')
      .run(sha256(code), this.now());
    return code;
  }

  private useInvite(code: string | undefined, accountId: string, ts: number): void {
    const used =
      code !== undefined &&
      this.db
        .prepare(
          'UPDATE invites SET used_by = ?, used_at = ? WHERE code_hash = ? AND used_by IS NULL',
        )
        .run(accountId, ts, sha256(code)).changes === 1;
    if (!used) {
      throw new BitStableError(
        'REGISTRATION_CLOSED',
        'This node registers new accounts only with an invite code from its operator, and that code is not valid (or was used).',
        {},
      );
    }
  }
}
