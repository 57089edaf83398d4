/**
 * The vault descriptor of SPEC §4 and its addresses:
 *   wsh(sortedmulti(2, OWNER/0/i, PROTOCOL/0/i, GUARDIAN/0/i))
 * with every key given with its origin, and the BIP-380 checksum.
 */
import { payments } from 'bitcoinjs-lib';
import { BitStableError } from '../errors';
import type { NetworkInfo } from '../config/networks';
import { publicChild } from './ecc';
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
// The 40-bit state is kept as two numbers, its top 8 bits and its low 32, because BigInt
// arithmetic made the checksum a third of a vault creation's time.
const GENERATORS: readonly (readonly [number, number])[] = [
  [0xf5, 0xdee51989],
  [0xa9, 0xfdca3312],
  [0x1b, 0xab10e32d],
  [0x37, 0x06b1677a],
  [0x64, 0x4d626ffd],
];

/** One step of the BIP-380 polymod on the state (hi: bits 32–39, lo: bits 0–31). */
function polymod(state: [number, number], val: number): void {
  const [hi, lo] = state;
  const c0 = hi >>> 3;
  let nextHi = ((hi & 0x7) << 5) | (lo >>> 27);
  let nextLo = ((lo << 5) ^ val) >>> 0;
  for (let i = 0; i < 5; i++) {
    if ((c0 >>> i) & 1) {
      nextHi ^= GENERATORS[i]![0];
      nextLo = (nextLo ^ GENERATORS[i]![1]) >>> 0;
    }
  }
  state[0] = nextHi;
  state[1] = nextLo;
}

/** The 8-character BIP-380 checksum of a descriptor (without the `#`). */
export function descriptorChecksum(descriptor: string): string {
  const c: [number, number] = [0, 1];
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
    polymod(c, pos & 31);
    cls = cls * 3 + (pos >> 5);
    if (++clsCount === 3) {
      polymod(c, cls);
      cls = 0;
      clsCount = 0;
    }
  }
  if (clsCount > 0) polymod(c, cls);
  for (let i = 0; i < 8; i++) polymod(c, 0);
  c[1] = (c[1] ^ 1) >>> 0;
  let out = '';
  for (let j = 0; j < 8; j++) {
    // Bits 5·(7−j) to 5·(7−j)+4 of the 40-bit state.
    const shift = 5 * (7 - j);
    const five =
      shift >= 32
        ? (c[0] >>> (shift - 32)) & 31
        : shift > 27
          ? ((c[1] >>> shift) | (c[0] << (32 - shift))) & 31
          : (c[1] >>> shift) & 31;
    out += CHECKSUM_CHARSET[five];
  }
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

/** Each account key's receive branch (`…/0`), derived once: public derivation is the slow part. */
const receiveBranches = new WeakMap<ParsedKey['node'], ParsedKey['node']>();
const receiveBranch = (k: ParsedKey): ParsedKey['node'] => {
  let branch = receiveBranches.get(k.node);
  if (!branch) {
    branch = k.node.derive(0);
    receiveBranches.set(k.node, branch);
  }
  return branch;
};

const leafKey = (branch: ParsedKey['node'], index: number): Uint8Array =>
  publicChild(branch.publicKey, branch.chainCode, index) ?? branch.derive(index).publicKey;

/** Derives vault `index`'s address and scripts for `net`. Pure: same input, same output. */
export function vaultScript(keys: VaultKeys, index: number, net: NetworkInfo): VaultScript {
  checkIndex(index);
  const roles = ['owner', 'protocol', 'guardian'] as const;
  const derivations = keysInOrder(keys).map((k, i) => ({
    role: roles[i]!,
    pubkey: leafKey(receiveBranch(k), index),
    fingerprint: k.fingerprint,
    path: `${k.path}/0/${index}`,
  }));
  const pubkeys = derivations.map((d) => d.pubkey).sort(compareBytes);
  // The keys are children of checked xpubs, so valid points: bitcoinjs need not check them again.
  const unchecked = { validate: false };
  const redeem = payments.p2ms({ m: 2, pubkeys, network: net.bitcoinjs }, unchecked);
  const wsh = payments.p2wsh({ redeem, network: net.bitcoinjs }, unchecked);
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
