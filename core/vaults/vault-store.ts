/**
 * Reading vaults and key sets from the store (the vaults port, core/store/vaults.ts). Writes
 * live in the services that own each state change.
 */
import { BitStableError } from '../errors';
import type { NetworkName } from '../config/networks';
import type { Store } from '../store/ports';
import type { KeySetRow, Vault } from '../store/vaults';

export type { KeySetRow, Vault } from '../store/vaults';

/** Checks that `id` can be a row id at all (a positive whole number). */
export function checkId(id: unknown, what: string): number {
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) {
    throw new BitStableError(
      'INVALID_ARGUMENT',
      `${what} must be a positive whole number; got ${String(id)}.`,
      {
        value: String(id),
      },
    );
  }
  return id;
}

/** Loads one vault or throws VAULT_NOT_FOUND. */
export async function getVault(store: Store, id: unknown): Promise<Vault> {
  const vaultId = checkId(id, 'A vault id');
  const vault = await store.vaults.byId(vaultId);
  if (!vault)
    throw new BitStableError('VAULT_NOT_FOUND', `There is no vault #${vaultId}.`, { vaultId });
  return vault;
}

/** Every vault of a network (of one account, when given), newest first. */
export async function listVaults(
  store: Store,
  network: NetworkName,
  accountId?: string,
): Promise<Vault[]> {
  return await store.vaults.list(network, accountId);
}

/** Loads one key set or throws KEY_SET_NOT_FOUND. */
export async function getKeySet(store: Store, id: unknown): Promise<KeySetRow> {
  const keySetId = checkId(id, 'A key set id');
  const keySet = await store.vaults.keySet(keySetId);
  if (!keySet)
    throw new BitStableError('KEY_SET_NOT_FOUND', `There is no key set #${keySetId}.`, {
      keySetId,
    });
  return keySet;
}
