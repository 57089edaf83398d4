/**
 * The node's own account (local mode: the protocol node and the wallet in one process) and the
 * node's id. The account key is a 32-byte secret in the key store, like every other secret.
 */
import { randomBytes } from 'node:crypto';
import type { NetworkInfo } from '../config/networks';
import type { Sqlite } from '../db/database';
import type { KeyStore } from '../keys/keystore';
import { ensureSecret } from '../keys/node-keys';
import { balance, holderAccount, transfer } from '../ledger/bsusd';
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
export function ensureNodeId(db: Sqlite, net: NetworkInfo): string {
  const existing = db
    .prepare("SELECT value FROM settings WHERE network = ? AND key = 'node_id'")
    .pluck()
    .get(net.name) as string | undefined;
  if (existing) return existing;
  const id = `bsn-${net.name}-${randomBytes(8).toString('hex')}`;
  db.prepare(
    "INSERT INTO settings (network, key, value) VALUES (?, 'node_id', ?) ON CONFLICT DO NOTHING",
  ).run(net.name, id);
  return db
    .prepare("SELECT value FROM settings WHERE network = ? AND key = 'node_id'")
    .pluck()
    .get(net.name) as string;
}

/** The holder name bsUSD had before accounts: one person per app. */
export const LEGACY_HOLDER = 'local';

/**
 * Registers the local wallet's account and gives it what the app held before accounts: the
 * `local` holder's bsUSD (as one transfer entry, so the statement shows where it came from) and
 * every vault without an account. One transaction; a second start finds nothing left to adopt.
 */
export function adoptLocalAccount(
  db: Sqlite,
  accounts: AccountService,
  secret: Uint8Array,
  ts = Date.now(),
): string {
  const { id } = accountKey(secret);
  db.transaction(() => {
    accounts.register(id, 'This computer');
    const legacy = holderAccount(LEGACY_HOLDER);
    const exists = db.prepare('SELECT 1 FROM ledger_accounts WHERE id = ?').pluck().get(legacy);
    const held = exists ? balance(db, legacy) : 0;
    if (held > 0) transfer(db, LEGACY_HOLDER, id, held, 'bsUSD held before accounts', ts);
    db.prepare('UPDATE vaults SET account_id = ? WHERE account_id IS NULL').run(id);
  })();
  return id;
}
