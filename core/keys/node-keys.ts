/**
 * The keys the node itself holds (SPEC §4): the protocol seed, generated on first start of each
 * network and kept; and on regtest the software guardian seed and software owner mnemonic.
 */
import { randomBytes } from 'node:crypto';
import { generateMnemonic, validateMnemonic } from 'bip39';
import type { ParsedKey } from '../bitcoin/keys';
import type { NetworkInfo } from '../config/networks';
import { isSecretExists, keyStoreError, type KeyStore } from './keystore';
import {
  accountOf,
  checkSoftwareKeyAllowed,
  normalizeMnemonic,
  rootOf,
  type SoftwareKeyOptions,
} from './software-key';

/** The key store names of the node's secrets on a network. */
export const secretNames = (net: NetworkInfo) => ({
  protocolSeed: `protocol-seed.${net.name}`,
  guardianSeed: `software-guardian-seed.${net.name}`,
  ownerMnemonic: `software-owner-mnemonic.${net.name}`,
});

/**
 * Returns the secret stored under `name`, creating it with `create` the first time. Two starts
 * racing both end with the first one's secret: the store never overwrites.
 */
export async function ensureSecret(
  store: KeyStore,
  name: string,
  create: () => Uint8Array,
): Promise<Uint8Array> {
  if (await store.has(name)) return store.get(name);
  const fresh = create();
  try {
    await store.put(name, fresh);
    return fresh;
  } catch (err) {
    if (!isSecretExists(err)) throw err;
    fresh.fill(0);
    return store.get(name);
  }
}

function checkSeed(name: string, seed: Uint8Array): Uint8Array {
  if (seed.length < 16 || seed.length > 64) {
    throw keyStoreError('decrypt', name, `The stored seed "${name}" is not a BIP32 seed.`);
  }
  return seed;
}

/** The node's protocol seed for `net` (32 random bytes), generated on first start and kept. */
export async function ensureProtocolSeed(store: KeyStore, net: NetworkInfo): Promise<Uint8Array> {
  const name = secretNames(net).protocolSeed;
  return checkSeed(name, await ensureSecret(store, name, () => randomBytes(32)));
}

/** The protocol key's BIP48 account (fingerprint, path, xpub, public node). */
export function protocolAccount(seed: Uint8Array, net: NetworkInfo): ParsedKey {
  return accountOf(rootOf({ seed }, net), net);
}

/**
 * The software guardian seed for `net`, generated on first use. Regtest only unless
 * `allowTestNetworks`; never on mainnet (WRONG_NETWORK), where the guardian is an imported xpub.
 */
export async function ensureSoftwareGuardianSeed(
  store: KeyStore,
  net: NetworkInfo,
  options: SoftwareKeyOptions = {},
): Promise<Uint8Array> {
  checkSoftwareKeyAllowed('guardian', net, options);
  const name = secretNames(net).guardianSeed;
  return checkSeed(name, await ensureSecret(store, name, () => randomBytes(32)));
}

/** The software guardian's BIP48 account. */
export function softwareGuardianAccount(seed: Uint8Array, net: NetworkInfo): ParsedKey {
  return accountOf(rootOf({ seed }, net), net);
}

/**
 * The regtest software owner's 24-word BIP39 mnemonic, generated on first use. Refuses mainnet
 * (WRONG_NETWORK): a software owner key is for regtest only and is insecure.
 */
export async function ensureSoftwareOwnerMnemonic(
  store: KeyStore,
  net: NetworkInfo,
  options: SoftwareKeyOptions = {},
): Promise<string> {
  checkSoftwareKeyAllowed('owner', net, options);
  const name = secretNames(net).ownerMnemonic;
  const bytes = await ensureSecret(store, name, () => Buffer.from(generateMnemonic(256), 'utf8'));
  const mnemonic = normalizeMnemonic(Buffer.from(bytes).toString('utf8'));
  bytes.fill(0);
  if (!validateMnemonic(mnemonic)) {
    throw keyStoreError('decrypt', name, `The stored "${name}" is not a valid BIP39 mnemonic.`);
  }
  return mnemonic;
}

/** The software owner's BIP48 account from its mnemonic. */
export function softwareOwnerAccount(mnemonic: string, net: NetworkInfo): ParsedKey {
  return accountOf(rootOf({ mnemonic }, net), net);
}
