/**
 * The vault descriptor of SPEC §4 and its addresses:
 *   wsh(sortedmulti(2, OWNER/0/i, PROTOCOL/0/i, GUARDIAN/0/i))
 * with every key given with its origin, and the BIP-380 checksum.
 */
import { payments } from 'bitcoinjs-lib';
import { BitStableError } from '../errors';
import type { NetworkInfo } from '../config/networks';
import { keyExpression, type ParsedKey } from './keys';

/** The three keys of a vault set, in the order owner, protocol, guardian. */
export interface VaultKeys {
  owner: ParsedKey;
  protocol: ParsedKey;
  guardian: ParsedKey;
}

/** The Ledger wallet-policy template for every vault (SPEC §4). */
export const POLICY_TEMPLATE = 'wsh(sortedmulti(2,@0/**,@1/**,@2/**))';

// BIP-380 descriptor checksum. No maintained JS library exposes it on its own (the descriptor
// libraries bundle a whole parser and a second bitcoinjs); it is a 40-bit BCH code over the
// descriptor's characters, verified in tests against Bitcoin Core's getdescriptorinfo.
const INPUT_CHARSET =
  '0123456789()[],\'/*abcdefgh@:$%{}IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~ijklmnopqrstuvwxyzABCDEFGH`#"\\ ';
const CHECKSUM_CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATORS = [0xf5dee51989n, 0xa9fdca3312n, 0x1bab10e32dn, 0x3706b1677an, 0x644d626ffdn];

function polymod(c: bigint, val: number): bigint {
  const c0 = c >> 35n;
  let next = ((c & 0x7ffffffffn) << 5n) ^ BigInt(val);
  for (let i = 0; i < 5; i++) if ((c0 >> BigInt(i)) & 1n) next ^= GENERATORS[i]!;
  return next;
}

/** The 8-character BIP-380 checksum of a descriptor (without the `#`). */
export function descriptorChecksum(descriptor: string): string {
  let c = 1n;
  let cls = 0;
  let clsCount = 0;
  for (const ch of descriptor) {
    const pos = INPUT_CHARSET.indexOf(ch);
    if (pos < 0) {
      throw new BitStableError(
        'INVALID_ARGUMENT',
        `The descriptor has a character it may not have: "${ch}".`,
        {},
      );
    }
    c = polymod(c, pos & 31);
    cls = cls * 3 + (pos >> 5);
    if (++clsCount === 3) {
      c = polymod(c, cls);
      cls = 0;
      clsCount = 0;
    }
  }
  if (clsCount > 0) c = polymod(c, cls);
  for (let i = 0; i < 8; i++) c = polymod(c, 0);
  c ^= 1n;
  let out = '';
  for (let j = 0; j < 8; j++) out += CHECKSUM_CHARSET[Number((c >> BigInt(5 * (7 - j))) & 31n)];
  return out;
}

/** Appends `#checksum` to a descriptor. */
export function withChecksum(descriptor: string): string {
  return `${descriptor}#${descriptorChecksum(descriptor)}`;
}

function checkIndex(index: number): void {
  if (!Number.isSafeInteger(index) || index < 0 || index >= 0x80000000) {
    throw new BitStableError(
      'INVALID_ARGUMENT',
      `Vault index ${index} is out of range (0 to 2^31−1).`,
      { index },
    );
  }
}

const keysInOrder = (keys: VaultKeys) => [keys.owner, keys.protocol, keys.guardian];

/** The descriptor of vault `index`, with checksum: what the node's watch-only wallet imports. */
export function vaultDescriptor(keys: VaultKeys, index: number): string {
  checkIndex(index);
  const exprs = keysInOrder(keys).map((k) => `${keyExpression(k)}/0/${index}`);
  return withChecksum(`wsh(sortedmulti(2,${exprs.join(',')}))`);
}

/** The ranged descriptor covering every vault of the set (for the recovery kit). */
export function rangedDescriptor(keys: VaultKeys): string {
  const exprs = keysInOrder(keys).map((k) => `${keyExpression(k)}/0/*`);
  return withChecksum(`wsh(sortedmulti(2,${exprs.join(',')}))`);
}

/** Compares two byte arrays lexicographically, as BIP67 sorts multisig keys. */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Everything needed to receive to and spend from vault `index`. */
export interface VaultScript {
  address: string;
  /** The 2-of-3 multisig script (sorted keys). */
  witnessScript: Uint8Array;
  /** The P2WSH output script. */
  outputScript: Uint8Array;
  /** Each key's child public key with its full derivation from its master, for PSBTs. */
  derivations: {
    role: 'owner' | 'protocol' | 'guardian';
    pubkey: Uint8Array;
    fingerprint: string;
    path: string;
  }[];
}

/** Derives vault `index`'s address and scripts for `net`. Pure: same input, same output. */
export function vaultScript(keys: VaultKeys, index: number, net: NetworkInfo): VaultScript {
  checkIndex(index);
  const roles = ['owner', 'protocol', 'guardian'] as const;
  const derivations = keysInOrder(keys).map((k, i) => ({
    role: roles[i]!,
    pubkey: k.node.derive(0).derive(index).publicKey,
    fingerprint: k.fingerprint,
    path: `${k.path}/0/${index}`,
  }));
  const pubkeys = derivations.map((d) => d.pubkey).sort(compareBytes);
  const redeem = payments.p2ms({ m: 2, pubkeys, network: net.bitcoinjs });
  const wsh = payments.p2wsh({ redeem, network: net.bitcoinjs });
  if (!wsh.address || !wsh.output || !redeem.output) {
    throw new BitStableError('INTERNAL', 'Could not derive the vault address.', { index });
  }
  return {
    address: wsh.address,
    witnessScript: redeem.output,
    outputScript: wsh.output,
    derivations,
  };
}
