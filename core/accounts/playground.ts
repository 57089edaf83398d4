/**
 * Playground accounts (SPEC §9, local mode on regtest): one person plays several parties on one
 * machine — "you", a liquidator, a friend to pay — by adding accounts whose keys this node keeps
 * in its own key store, and switching which one the app's own window acts as. Only the window of
 * this machine (a call without an account of its own) may add or switch; a remote wallet's
 * session never becomes a playground account, and no playground account exists off regtest.
 */
import { randomBytes } from 'node:crypto';
import type { NetworkInfo } from '../config/networks';
import { BitStableError } from '../errors';
import type { KeyStore } from '../keys/keystore';
import type { Store } from '../store/ports';
import { accountKey } from './login';
import type { AccountService } from './service';

/** At most this many playground accounts besides the node's own. */
export const MAX_PLAYGROUND_ACCOUNTS = 10;

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
      store: Store;
      accounts: AccountService;
      keyStore: KeyStore;
      network: NetworkInfo;
      /** The node's own account. */
      ownId: string;
    },
  ) {
    this.ids = new Set(this.rows().map((r) => r.accountId));
    const stored = o.store.accounts.activePlaygroundAccount(o.network.name);
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
    this.o.store.transaction(() => {
      this.o.accounts.register(id, name);
      this.o.store.accounts.addPlaygroundAccount(this.o.network.name, id, name);
    });
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
    this.o.store.accounts.setActivePlaygroundAccount(this.o.network.name, accountId);
    this.activeId = accountId;
    return this.list();
  }

  private rows(): { accountId: string; label: string }[] {
    return this.o.store.accounts.playgroundAccounts(this.o.network.name);
  }
}
