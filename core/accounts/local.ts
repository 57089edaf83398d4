/**
 * The node's own account (local mode: the protocol node and the wallet in one process) and the
 * node's id. The account key is a 32-byte secret in the key store, like every other secret.
 */
import { randomBytes } from 'node:crypto';
import type { NetworkInfo } from '../config/networks';
import type { KeyStore } from '../keys/keystore';
import { ensureSecret } from '../keys/node-keys';
import { holderAccount } from '../ledger/bsusd';
import type { Store } from '../store/ports';
import { accountKey } from './login';
import type { AccountService } from './service';

/** The key store name of the local wallet's account key on a network. */
export const accountSecretName = (net: NetworkInfo) => `account-key.${net.name}`;

/** The wallet's account secret on `net`, created on first use and kept. */
export function ensureAccountSecret(store: KeyStore, net: NetworkInfo): Promise<Uint8Array> {
  return ensureSecret(store, accountSecretName(net), () => randomBytes(32));
}

/**
 * This node's id (what sign-in signatures are bound to): random, made on first start, kept in
 * the database so that it survives restarts and moves with a restored backup.
 */
export async function ensureNodeId(store: Store, net: NetworkInfo): Promise<string> {
  const existing = await store.accounts.nodeId(net.name);
  if (existing) return existing;
  const id = `bsn-${net.name}-${randomBytes(8).toString('hex')}`;
  await store.accounts.saveNodeId(net.name, id);
  return (await store.accounts.nodeId(net.name)) as string;
}

/** The holder name bsUSD had before accounts: one person per app. */
export const LEGACY_HOLDER = 'local';

/**
 * Registers the local wallet's account and gives it what the app held before accounts: the
 * `local` holder's bsUSD (as one transfer entry, so the statement shows where it came from) and
 * every vault without an account. One transaction; a second start finds nothing left to adopt.
 */
export async function adoptLocalAccount(
  store: Store,
  accounts: AccountService,
  secret: Uint8Array,
  ts = Date.now(),
): Promise<string> {
  const { id } = accountKey(secret);
  await store.transaction(async () => {
    await accounts.register(id, 'This computer');
    const legacy = holderAccount(LEGACY_HOLDER);
    const exists = await store.accounts.ledgerAccountExists(legacy);
    const held = exists ? await store.ledger.balance(legacy) : 0;
    if (held > 0)
      await store.ledger.transfer(LEGACY_HOLDER, id, held, 'bsUSD held before accounts', ts);
    await store.accounts.adoptVaultsWithoutAccount(id);
  });
  return id;
}
