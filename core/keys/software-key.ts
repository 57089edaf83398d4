/**
 * BIP32 keys held in software: the root from a seed or a BIP39 mnemonic, its BIP48 account, and
 * the rule of where a software key may stand in for the owner or the guardian (SPEC §4).
 */
import { mnemonicToSeedSync, validateMnemonic } from 'bip39';
import type { BIP32Interface } from 'bip32';
import { bip32, bip48Path, type ParsedKey } from '../bitcoin/keys';
import type { NetworkInfo } from '../config/networks';
import { BitStableError } from '../errors';
import type { SignerRole } from '../signers/types';

/** Where a software key comes from: a BIP32 seed, or a BIP39 mnemonic (no BIP39 passphrase). */
export type SoftwareSecret = { seed: Uint8Array } | { mnemonic: string };

/** Lets a software owner or guardian key run on signet and testnet (never mainnet). */
export interface SoftwareKeyOptions {
  allowTestNetworks?: boolean;
}

/** Normalizes a mnemonic as BIP39 reads it: NFKD, single spaces, lowercase. */
export function normalizeMnemonic(mnemonic: string): string {
  return mnemonic.normalize('NFKD').trim().toLowerCase().split(/\s+/).join(' ');
}

/** The BIP32 root of a software secret; an invalid mnemonic or seed is INVALID_ARGUMENT. */
export function rootOf(secret: SoftwareSecret, net: NetworkInfo): BIP32Interface {
  let seed: Uint8Array;
  if ('mnemonic' in secret) {
    const words = normalizeMnemonic(secret.mnemonic);
    if (!validateMnemonic(words)) {
      // The words are a secret: the error says what is wrong, never what was given.
      throw new BitStableError(
        'INVALID_ARGUMENT',
        'That is not a valid BIP39 mnemonic (unknown word, wrong word count, or bad checksum).',
        {},
      );
    }
    seed = mnemonicToSeedSync(words);
  } else {
    seed = secret.seed;
  }
  if (!(seed instanceof Uint8Array) || seed.length < 16 || seed.length > 64) {
    throw new BitStableError('INVALID_ARGUMENT', 'A BIP32 seed is 16 to 64 bytes long.', {});
  }
  return bip32.fromSeed(seed, net.bitcoinjs);
}

/** The master fingerprint of a root, as 8 lowercase hex digits. */
export function fingerprintOf(root: BIP32Interface): string {
  return Buffer.from(root.fingerprint).toString('hex');
}

/** The root's BIP48 account m/48'/c'/0'/2' as a key origin with its public (neutered) node. */
export function accountOf(root: BIP32Interface, net: NetworkInfo): ParsedKey {
  const path = bip48Path(net);
  const node = root.derivePath(path).neutered();
  return { fingerprint: fingerprintOf(root), path, xpub: node.toBase58(), node };
}

/**
 * Refuses a software key where the SPEC wants another holder: the owner on a Ledger and the
 * guardian as an imported xpub everywhere but regtest. The protocol key is software everywhere.
 */
export function checkSoftwareKeyAllowed(
  role: SignerRole,
  net: NetworkInfo,
  options: SoftwareKeyOptions = {},
): void {
  if (role === 'protocol' || net.name === 'regtest') return;
  if (net.name !== 'mainnet' && options.allowTestNetworks) return;
  const who =
    role === 'owner'
      ? 'A software owner key is for regtest only and is insecure: on ' +
        `${net.name} the owner key must be on a Ledger.`
      : 'A software guardian key is for regtest only: on ' +
        `${net.name} the guardian is an imported extended public key that signs PSBT files.`;
  throw new BitStableError('WRONG_NETWORK', who, { role, network: net.name });
}
