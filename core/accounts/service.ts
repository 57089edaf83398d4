/**
 * Accounts on the protocol node (SPEC §3): registration, sign-in by challenge and signature, and
 * the sessions it hands out. The node never holds an account's private key; it holds the public
 * key (the id) and, for a session, only the SHA-256 of its token.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { BitStableError } from '../errors';
import type { Account } from '../store/accounts';
import type { Store } from '../store/ports';
import { parseAccountId } from './id';
import { verifyLogin } from './login';

export type Registration = 'open' | 'invite';

export type { Account } from '../store/accounts';

export interface Session {
  token: string;
  accountId: string;
  expiresAt: number;
}

export interface AccountServiceOptions {
  store: Store;
  /** This node's id: what a sign-in signature is bound to. */
  nodeId: string;
  registration: Registration;
  clock?: () => number;
  /** How long a challenge may be answered (default 5 minutes). */
  challengeTtlMs?: number;
  /** How long a session lasts (default 30 days). */
  sessionTtlMs?: number;
}

/**
 * Challenges are not stored: each is a nonce, its expiry and an HMAC of both under a key of this
 * process, so handing them out costs no memory and a flood cannot push out anyone's. Only the
 * nonces of answered challenges are kept, until they expire, so that none is used twice; past
 * this many at once, sign-in waits rather than forget one (forgetting would allow a replay).
 */
const MAX_USED_CHALLENGES = 100_000;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export class AccountService {
  readonly nodeId: string;
  readonly registration: Registration;
  private readonly store: Store;
  private readonly now: () => number;
  private readonly challengeTtlMs: number;
  private readonly sessionTtlMs: number;
  private readonly challengeKey = randomBytes(32);
  /** Nonces of answered challenges → when they expire. */
  private readonly used = new Map<string, number>();
  /** The origins this node is reached at (its gateway adds its own): what a login must name. */
  private readonly origins = new Set<string>();

  constructor(options: AccountServiceOptions) {
    this.store = options.store;
    this.nodeId = options.nodeId;
    this.registration = options.registration;
    this.now = options.clock ?? Date.now;
    this.challengeTtlMs = options.challengeTtlMs ?? 5 * 60_000;
    this.sessionTtlMs = options.sessionTtlMs ?? 30 * 24 * 3_600_000;
  }

  /** Registers an account (idempotent for one already registered); its holder account too. */
  async register(accountId: string, label: string | null = null): Promise<Account> {
    const xOnly = parseAccountId(accountId);
    const ts = this.now();
    await this.store.transaction(async () => {
      await this.store.accounts.insert(accountId, Buffer.from(xOnly).toString('hex'), label, ts);
      await this.store.ledger.ensureHolder(accountId);
    });
    return await this.require(accountId);
  }

  /** The account, or null. */
  async get(accountId: string): Promise<Account | null> {
    return await this.store.accounts.get(accountId);
  }

  /** The account; ACCOUNT_NOT_FOUND when it is not registered here. */
  async require(accountId: unknown): Promise<Account> {
    parseAccountId(accountId);
    const account = await this.get(accountId as string);
    if (!account) {
      throw new BitStableError(
        'ACCOUNT_NOT_FOUND',
        `No account ${String(accountId)} is registered on this node.`,
        { accountId },
      );
    }
    return account;
  }

  /** Adds an origin (scheme://host:port) at which wallets reach this node. */
  addOrigin(url: string): void {
    this.origins.add(new URL(url).origin);
  }

  /** A fresh single-use challenge for a sign-in: 12 nonce bytes, 8 of expiry, 12 of HMAC. */
  challenge(): { challenge: string; nodeId: string; expiresAt: number } {
    const expiresAt = this.now() + this.challengeTtlMs;
    const body = Buffer.alloc(20);
    randomBytes(12).copy(body, 0);
    body.writeBigUInt64BE(BigInt(expiresAt), 12);
    const challenge = Buffer.concat([body, this.mac(body)]).toString('hex');
    return { challenge, nodeId: this.nodeId, expiresAt };
  }

  private mac(body: Buffer): Buffer {
    return createHmac('sha256', this.challengeKey).update(body).digest().subarray(0, 12);
  }

  /** The expiry of a challenge this process made, or null. */
  private challengeExpiry(challenge: string): number | null {
    if (!/^[0-9a-f]{64}$/.test(challenge)) return null;
    const raw = Buffer.from(challenge, 'hex');
    const body = raw.subarray(0, 20);
    if (!timingSafeEqual(raw.subarray(20), this.mac(body))) return null;
    return Number(body.readBigUInt64BE(12));
  }

  /**
   * Signs in with a signature of a challenge this node handed out. An account not yet registered
   * is registered here when registration is open, or with an unused invite code.
   */
  async signIn(input: {
    accountId: string;
    challenge: string;
    signature: string;
    /** The origin the wallet connected to, as it signed it. */
    origin: string;
    inviteCode?: string;
    label?: string;
  }): Promise<Session> {
    const failed = (why: string) =>
      new BitStableError('SIGN_IN_FAILED', `Sign-in failed: ${why}. Ask for a new challenge.`, {});
    parseAccountId(input.accountId);
    const ts0 = this.now();
    const expires = this.challengeExpiry(input.challenge);
    if (expires === null) throw failed('this node did not hand out that challenge');
    if (expires <= ts0) throw failed('the challenge expired');
    for (const [n, exp] of this.used) if (exp <= ts0) this.used.delete(n);
    const nonce = input.challenge.slice(0, 24);
    if (this.used.has(nonce)) throw failed('that challenge was answered already');
    if (this.used.size >= MAX_USED_CHALLENGES) {
      throw new BitStableError(
        'SIGN_IN_FAILED',
        'This node is answering very many sign-ins right now; try again in a minute.',
        {},
      );
    }
    // Used once, whatever the outcome: a wrong signature burns the challenge.
    this.used.set(nonce, expires);
    let origin: string;
    try {
      origin = new URL(input.origin).origin;
    } catch {
      throw failed('the origin signed is not a URL');
    }
    if (!this.origins.has(origin)) {
      throw failed(
        `the signature names ${origin.slice(0, 100)}, which is not this node's address (a node in between may have passed this node's challenge on)`,
      );
    }
    if (!verifyLogin(input.accountId, this.nodeId, input.challenge, input.signature, origin)) {
      throw failed("the signature is not this account's signature of the challenge");
    }
    const ts = this.now();
    return await this.store.transaction(async () => {
      if (!(await this.get(input.accountId))) {
        // Registered first (the invite names the account); a bad code rolls both back.
        await this.register(input.accountId, input.label ?? null);
        if (this.registration === 'invite')
          await this.useInvite(input.inviteCode, input.accountId, ts);
      }
      return await this.openSession(input.accountId, ts);
    });
  }

  /** A session for an account (sign-in, or the node's own wallet in local mode). */
  async openSession(accountId: string, ts = this.now()): Promise<Session> {
    const token = randomBytes(32).toString('base64url');
    const expiresAt = ts + this.sessionTtlMs;
    await this.store.transaction(async () => {
      await this.store.accounts.deleteExpiredSessions(ts);
      await this.store.accounts.insertSession(sha256(token), accountId, ts, expiresAt);
    });
    return { token, accountId, expiresAt };
  }

  /** The account a session token belongs to, or null (unknown or expired). */
  async sessionAccount(token: string | null): Promise<string | null> {
    if (!token) return null;
    const session = await this.store.accounts.session(sha256(token));
    return session && session.expiresAt > this.now() ? session.accountId : null;
  }

  /** Ends a session. */
  async signOut(token: string): Promise<void> {
    await this.store.accounts.deleteSession(sha256(token));
  }

  /** A new invite code (the operator's). */
  async createInvite(): Promise<string> {
    const code = randomBytes(12).toString('base64url');
    await this.store.accounts.insertInvite(sha256(code), this.now());
    return code;
  }

  private async useInvite(code: string | undefined, accountId: string, ts: number): Promise<void> {
    const used =
      code !== undefined && (await this.store.accounts.useInvite(sha256(code), accountId, ts));
    if (!used) {
      throw new BitStableError(
        'REGISTRATION_CLOSED',
        'This node registers new accounts only with an invite code from its operator, and that code is not valid (or was used).',
        {},
      );
    }
  }
}
