/**
 * Extended public keys with key origin (`[fingerprint/48'/1'/0'/2']tpub…`), parsed and checked
 * against the network they are meant for.
 */
import { BIP32Factory, type BIP32Interface } from 'bip32';
import { initEccLib } from 'bitcoinjs-lib';
import { BitStableError } from '../errors';
import type { NetworkInfo } from '../config/networks';
import { derivationEcc, ecc } from './ecc';

// bitcoinjs-lib checks the injected secp256k1 backend once, at load.
initEccLib(ecc);
export const bip32 = BIP32Factory(derivationEcc);
export { ecc };

const HARDENED = 0x80000000;

/** An account-level extended public key and where it comes from. */
export interface KeyOrigin {
  /** Master key fingerprint, 8 lowercase hex digits. */
  fingerprint: string;
  /** Derivation path from the master key to the account, e.g. `m/48'/1'/0'/2'`. */
  path: string;
  /** The account xpub (tpub on test networks). */
  xpub: string;
}

/** A key origin together with its decoded BIP32 node. */
export interface ParsedKey extends KeyOrigin {
  node: BIP32Interface;
}

/** Formats a key origin as a descriptor key expression: `[f5acc2fd/48'/1'/0'/2']tpub…`. */
export function keyExpression(key: KeyOrigin): string {
  return `[${key.fingerprint}${key.path.slice(1)}]${key.xpub}`;
}

/** Parses `m/48'/1'/0'/2'` (or with `h`) into child indexes. */
export function parsePath(path: string): number[] {
  if (!/^m(\/\d+['h]?)*$/.test(path)) {
    throw new BitStableError(
      'INVALID_XPUB',
      `"${path}" is not a derivation path like m/48'/1'/0'/2'.`,
      { path },
    );
  }
  return path
    .split('/')
    .slice(1)
    .map((part) => {
      const hardened = part.endsWith("'") || part.endsWith('h');
      const n = Number(hardened ? part.slice(0, -1) : part);
      if (!Number.isSafeInteger(n) || n >= HARDENED) {
        throw new BitStableError('INVALID_XPUB', `"${path}" has an index out of range.`, { path });
      }
      return hardened ? n + HARDENED : n;
    });
}

/** The BIP48 multisig (P2WSH) account path for a network: m/48'/c'/account'/2'. */
export function bip48Path(net: NetworkInfo, account = 0): string {
  return `m/48'/${net.coinType}'/${account}'/2'`;
}

/**
 * Parses and validates a key origin expression or object for `net`.
 * Refuses malformed input (INVALID_XPUB) and keys of another network (WRONG_NETWORK).
 */
export function parseKey(input: unknown, net: NetworkInfo): ParsedKey {
  let origin: KeyOrigin;
  if (typeof input === 'string') {
    const m = /^\[([0-9a-fA-F]{8})((?:\/\d+['h]?)*)\]([1-9A-HJ-NP-Za-km-z]+)$/.exec(input.trim());
    if (!m) {
      throw new BitStableError(
        'INVALID_XPUB',
        "A key must look like [fingerprint/48'/1'/0'/2']tpub… — the fingerprint, the path and the extended public key.",
        { input: input.slice(0, 200) },
      );
    }
    origin = {
      fingerprint: m[1]!.toLowerCase(),
      path: `m${m[2]!.replace(/h/g, "'")}`,
      xpub: m[3]!,
    };
  } else if (input && typeof input === 'object') {
    const o = input as Record<string, unknown>;
    if (
      typeof o.fingerprint !== 'string' ||
      typeof o.path !== 'string' ||
      typeof o.xpub !== 'string'
    ) {
      throw new BitStableError(
        'INVALID_XPUB',
        'A key needs a fingerprint, a path and an xpub.',
        {},
      );
    }
    if (!/^[0-9a-fA-F]{8}$/.test(o.fingerprint)) {
      throw new BitStableError(
        'INVALID_XPUB',
        `"${o.fingerprint}" is not a key fingerprint (8 hex digits).`,
        {},
      );
    }
    origin = {
      fingerprint: o.fingerprint.toLowerCase(),
      path: o.path.replace(/h/g, "'"),
      xpub: o.xpub.trim(),
    };
  } else {
    throw new BitStableError('INVALID_XPUB', 'A key must be given as [fingerprint/path]xpub.', {});
  }

  const indexes = parsePath(origin.path);
  const prefix = origin.xpub.slice(0, 4);
  const isTestKey = prefix === 'tpub';
  const isMainKey = prefix === 'xpub';
  if (!isTestKey && !isMainKey) {
    throw new BitStableError(
      'INVALID_XPUB',
      `Keys must be given as xpub (mainnet) or tpub (test networks); "${prefix}…" is not supported.`,
      { prefix },
    );
  }
  if (isMainKey !== (net.name === 'mainnet')) {
    throw new BitStableError(
      'WRONG_NETWORK',
      `This is a ${isMainKey ? 'mainnet (xpub)' : 'test-network (tpub)'} key, but the vault is on ${net.name}.`,
      { network: net.name, prefix },
    );
  }
  let node: BIP32Interface;
  try {
    node = bip32.fromBase58(origin.xpub, net.bitcoinjs);
  } catch {
    throw new BitStableError(
      'INVALID_XPUB',
      'The extended public key is not valid (bad checksum or encoding).',
      {
        xpub: origin.xpub.slice(0, 12) + '…',
      },
    );
  }
  if (!node.isNeutered()) {
    throw new BitStableError(
      'INVALID_XPUB',
      'That is a private key. Give the extended public key instead.',
      {},
    );
  }
  if (node.depth !== indexes.length) {
    throw new BitStableError(
      'INVALID_XPUB',
      `The key's depth (${node.depth}) does not match its path ${origin.path}.`,
      { depth: node.depth, path: origin.path },
    );
  }
  if (indexes.length >= 2 && indexes[1] !== net.coinType + HARDENED) {
    throw new BitStableError(
      'WRONG_NETWORK',
      `The path ${origin.path} is for coin type ${indexes[1]! - HARDENED}, but ${net.name} uses ${net.coinType}'.`,
      { path: origin.path, network: net.name },
    );
  }
  return { ...origin, node };
}
