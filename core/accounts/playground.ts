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

interface PlaygroundDeps {
  store: Store;
  accounts: AccountService;
  keyStore: KeyStore;
  network: NetworkInfo;
  /** The node's own account. */
  ownId: string;
}

export class PlaygroundAccounts {
  private activeId: string;
  private readonly ids: Set<string>;
  /** Adds under way (their keys being written), counted against the limit. */
  private adding = 0;

  private constructor(
    private readonly o: PlaygroundDeps,
    ids: Set<string>,
    activeId: string,
  ) {
    this.ids = ids;
    this.activeId = activeId;
  }

  /** The playground accounts as stored, with the one this window acts as. */
  static async open(o: PlaygroundDeps): Promise<PlaygroundAccounts> {
    const rows = await o.store.accounts.playgroundAccounts(o.network.name);
    const ids = new Set(rows.map((r) => r.accountId));
    const stored = await o.store.accounts.activePlaygroundAccount(o.network.name);
    return new PlaygroundAccounts(
      o,
      ids,
      stored && (stored === o.ownId || ids.has(stored)) ? stored : o.ownId,
    );
  }

  /** The account this machine's window acts as now. */
  get active(): string {
    return this.activeId;
  }

  /** True for the node's own account and every playground account: their keys are here. */
  isHere(accountId: string | null): boolean {
    return accountId !== null && (accountId === this.o.ownId || this.ids.has(accountId));
  }

  async list(): Promise<PlaygroundAccount[]> {
    return [
      { accountId: this.o.ownId, label: 'You (this computer)', own: true },
      ...(await this.rows()).map((r) => ({ ...r, own: false })),
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
    await this.o.store.transaction(async () => {
      await this.o.accounts.register(id, name);
      await this.o.store.accounts.addPlaygroundAccount(this.o.network.name, id, name);
    });
    secret.fill(0);
    this.ids.add(id);
    return { accountId: id, label: name, own: false, active: false };
  }

  /** Makes `accountId` the one this machine's window acts as (kept across restarts). */
  async switchTo(accountId: string): Promise<PlaygroundAccount[]> {
    if (!this.isHere(accountId)) {
      throw new BitStableError(
        'ACCOUNT_NOT_FOUND',
        `${accountId.slice(0, 20)}… is not one of this playground's accounts.`,
        { accountId },
      );
    }
    await this.o.store.accounts.setActivePlaygroundAccount(this.o.network.name, accountId);
    this.activeId = accountId;
    return await this.list();
  }

  private async rows(): Promise<{ accountId: string; label: string }[]> {
    return await this.o.store.accounts.playgroundAccounts(this.o.network.name);
  }
}
