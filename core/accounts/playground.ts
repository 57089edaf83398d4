/**
 * Playground accounts (SPEC §9, local mode on regtest): one person plays several parties on one
 * machine — "you", a liquidator, a friend to pay — by adding accounts whose keys this node keeps
 * in its own key store, and switching which one the app's own window acts as. Only the window of
 * this machine (a call without an account of its own) may add or switch; a remote wallet's
 * session never becomes a playground account, and no playground account exists off regtest.
 */
import { randomBytes } from 'node:crypto';
import type { NetworkInfo } from '../config/networks';
import type { Sqlite } from '../db/database';
import { BitStableError } from '../errors';
import type { KeyStore } from '../keys/keystore';
import { accountKey } from './login';
import type { AccountService } from './service';

/** At most this many playground accounts besides the node's own. */
export const MAX_PLAYGROUND_ACCOUNTS = 10;

const PREFIX = 'playground:';

export interface PlaygroundAccount {
  accountId: string;
  label: string;
  /** The node's own account ("you"), as opposed to one added here. */
  own: boolean;
  active: boolean;
}

export class PlaygroundAccounts {
  private activeId: string;
  private readonly ids: Set<string>;
  /** Adds under way (their keys being written), counted against the limit. */
  private adding = 0;

  constructor(
    private readonly o: {
      db: Sqlite;
      accounts: AccountService;
      keyStore: KeyStore;
      network: NetworkInfo;
      /** The node's own account. */
      ownId: string;
    },
  ) {
    this.ids = new Set(this.rows().map((r) => r.accountId));
    const stored = this.setting('active_account');
    this.activeId = stored && (stored === o.ownId || this.ids.has(stored)) ? stored : o.ownId;
  }

  /** The account this machine's window acts as now. */
  get active(): string {
    return this.activeId;
  }

  /** True for the node's own account and every playground account: their keys are here. */
  isHere(accountId: string | null): boolean {
    return accountId !== null && (accountId === this.o.ownId || this.ids.has(accountId));
  }

  list(): PlaygroundAccount[] {
    return [
      { accountId: this.o.ownId, label: 'You (this computer)', own: true },
      ...this.rows().map((r) => ({ ...r, own: false })),
    ].map((a) => ({ ...a, active: a.accountId === this.activeId }));
  }

  /**
   * Adds an account with a fresh key, kept in the node's key store (so it could sign in from a
   * wallet later), registered at once. INVALID_ARGUMENT past MAX_PLAYGROUND_ACCOUNTS.
   */
  async add(label: string): Promise<PlaygroundAccount> {
    const name = label.trim();
    if (!name) throw new BitStableError('INVALID_ARGUMENT', 'Give the account a name.', {});
    if (this.ids.size + this.adding >= MAX_PLAYGROUND_ACCOUNTS) {
      throw new BitStableError(
        'INVALID_ARGUMENT',
        `The playground holds at most ${MAX_PLAYGROUND_ACCOUNTS} accounts besides yours.`,
        { max: MAX_PLAYGROUND_ACCOUNTS },
      );
    }
    const secret = randomBytes(32);
    const { id } = accountKey(secret);
    this.adding++;
    try {
      // The key is written before the account exists: an account whose key was lost could
      // never sign in anywhere.
      await this.o.keyStore.put(`playground-account.${this.o.network.name}.${id}`, secret);
    } finally {
      this.adding--;
    }
    this.o.db.transaction(() => {
      this.o.accounts.register(id, name);
      this.o.db
        .prepare('INSERT INTO settings (network, key, value) VALUES (?, ?, ?)')
        .run(this.o.network.name, `${PREFIX}${id}`, name);
    })();
    secret.fill(0);
    this.ids.add(id);
    return { accountId: id, label: name, own: false, active: false };
  }

  /** Makes `accountId` the one this machine's window acts as (kept across restarts). */
  switchTo(accountId: string): PlaygroundAccount[] {
    if (!this.isHere(accountId)) {
      throw new BitStableError(
        'ACCOUNT_NOT_FOUND',
        `${accountId.slice(0, 20)}… is not one of this playground's accounts.`,
        { accountId },
      );
    }
    this.o.db
      .prepare(
        "INSERT INTO settings (network, key, value) VALUES (?, 'active_account', ?) ON CONFLICT (network, key) DO UPDATE SET value = excluded.value",
      )
      .run(this.o.network.name, accountId);
    this.activeId = accountId;
    return this.list();
  }

  private rows(): { accountId: string; label: string }[] {
    return (
      this.o.db
        .prepare('SELECT key, value FROM settings WHERE network = ? AND key LIKE ? ORDER BY rowid')
        .all(this.o.network.name, `${PREFIX}%`) as { key: string; value: string }[]
    ).map((r) => ({ accountId: r.key.slice(PREFIX.length), label: r.value }));
  }

  private setting(key: string): string | undefined {
    return this.o.db
      .prepare('SELECT value FROM settings WHERE network = ? AND key = ?')
      .pluck()
      .get(this.o.network.name, key) as string | undefined;
  }
}
