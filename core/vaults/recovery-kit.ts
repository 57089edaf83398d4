/**
 * The recovery kit (SPEC §4; issue "The Ledger and the rest of the Bitcoin world" items 6 and 9):
 * everything needed to rebuild every vault of a person without BitStable, for every key set their
 * vaults use (a guardian or owner key changed since: both sets), and nothing secret.
 *
 * Per key set: the three keys with their origins, the ranged descriptor, its birthday, each
 * vault's index, address and label, and how far to scan. Files to import as they are:
 * - a descriptor text file for Sparrow (receive and change in one `<0;1>/*` descriptor);
 * - an `importdescriptors` request for Bitcoin Core (receive `…/0/*` and change `…/1/*`, both
 *   active, so a kit-only wallet can also make a partial spend);
 * - an Electrum form: the three keys as SLIP-132 Zpub/Vpub (Electrum reads a pasted tpub as
 *   p2sh and gives wrong addresses), with the script type, derivation and gap limit to set;
 * - a BSMS (BIP129) descriptor record.
 */
import bs58check from 'bs58check';
import {
  POLICY_TEMPLATE,
  rangedDescriptor,
  withChecksum,
  type VaultKeys,
} from '../bitcoin/descriptor';
import { keyExpression, type ParsedKey } from '../bitcoin/keys';
import type { NetworkInfo } from '../config/networks';

/** A vault as the kit lists it. */
export interface KitVault {
  index: number;
  address: string;
  label: string | null;
  /** When it was made (ms), for the birthday; unknown for records that did not keep it. */
  createdAt: number | null;
}

/** One key set and the person's vaults on it. */
export interface KitKeySet {
  keys: VaultKeys;
  vaults: KitVault[];
}

/** Block-time skew allowance before the first vault, for the rescan start (as Core's rescans). */
const BIRTHDAY_SLACK_S = 2 * 60 * 60;
/** Addresses to scan past the highest vault index (a wallet's usual gap limit). */
const SCAN_PAST = 20;

// SLIP-132 versions for multisig native segwit (p2wsh) account keys: Zpub on mainnet, Vpub on
// the test networks. Electrum picks the script type from them.
const ZPUB = 0x02aa7ed3;
const VPUB = 0x02575483;

/** The account key with SLIP-132 p2wsh-multisig version bytes, for Electrum. */
export function slip132Key(key: ParsedKey, net: NetworkInfo): string {
  const raw = Uint8Array.from(bs58check.decode(key.xpub));
  const version = net.name === 'mainnet' ? ZPUB : VPUB;
  new DataView(raw.buffer).setUint32(0, version);
  return bs58check.encode(raw);
}

const ordered = (keys: VaultKeys) => [keys.owner, keys.protocol, keys.guardian];
const multisig = (keys: VaultKeys, tail: string) =>
  withChecksum(`wsh(sortedmulti(2,${ordered(keys).map((k) => `${keyExpression(k)}${tail}`)}))`);

function keySetKit(set: KitKeySet, net: NetworkInfo) {
  const vaults = [...set.vaults].sort((a, b) => a.index - b.index);
  const highest = vaults.length ? vaults[vaults.length - 1]!.index : -1;
  const known = vaults.map((v) => v.createdAt).filter((t): t is number => t !== null);
  const birthdayS = known.length
    ? Math.max(0, Math.floor(Math.min(...known) / 1000) - BIRTHDAY_SLACK_S)
    : null;
  const scanTo = highest + SCAN_PAST;
  const receive = rangedDescriptor(set.keys);
  const change = multisig(set.keys, '/1/*');
  const timestamp: number | 'now' = birthdayS ?? 'now';
  const range = (end: number): [number, number] => [0, end];
  const first = vaults.find((v) => v.index === 0)?.address ?? null;
  return {
    keys: {
      owner: keyExpression(set.keys.owner),
      protocol: keyExpression(set.keys.protocol),
      guardian: keyExpression(set.keys.guardian),
    },
    descriptor: receive,
    changeDescriptor: change,
    /** Unix seconds: the first vault's creation, less two hours; rescan from here. */
    birthday: birthdayS,
    /** The first address to scan past: every vault index is below it. */
    scanTo,
    vaults: vaults.map((v) => ({ index: v.index, address: v.address, label: v.label })),
    sparrow: `${multisig(set.keys, '/<0;1>/*')}\n`,
    core: [
      { desc: receive, timestamp, range: range(scanTo), active: true, internal: false },
      { desc: change, timestamp, range: range(SCAN_PAST), active: true, internal: true },
    ],
    electrum: {
      type: 'multisig' as const,
      scriptType: 'p2wsh' as const,
      signaturesRequired: 2,
      cosigners: ordered(set.keys).map((k, i) => ({
        role: (['owner', 'protocol', 'guardian'] as const)[i]!,
        key: slip132Key(k, net),
        fingerprint: k.fingerprint,
        derivation: k.path,
      })),
      gapLimit: Math.max(SCAN_PAST, scanTo),
    },
    bsms: [
      'BSMS 1.0',
      multisig(set.keys, '/**'),
      '/0/*,/1/*',
      first ?? '(no vault 0 in this kit)',
      '',
    ].join('\n'),
  };
}

/** The recovery kit of a person's key sets (the node's records, or a wallet's own). */
export function recoveryKitOf(sets: KitKeySet[], network: NetworkInfo) {
  const keySets = sets.map((s) => keySetKit(s, network));
  return {
    format: 'bitstable-recovery-kit/2',
    network: network.name,
    policy: POLICY_TEMPLATE,
    keySets,
    instructions: [
      'Any two of the three keys spend a vault. Without BitStable the protocol key is out of reach, so the owner and the guardian sign together.',
      'Sparrow: File → New Wallet → Import, choose "Output descriptor" and open the sparrow file of the key set; set the birthday as the start date.',
      'Bitcoin Core: create a blank watch-only descriptor wallet (createwallet <name> true true) and call importdescriptors with the core request of the key set; it rescans from the birthday.',
      'Electrum: new wallet → multi-signature, 2 of 3; for each cosigner choose "Enter cosigner key" and paste its key (a Zpub or Vpub, so native segwit multisig); then set the gap limit to at least the one given.',
      'Each key set lists its vaults with their index and address: check that the rebuilt wallet shows the same addresses.',
    ],
  };
}

export type RecoveryKit = ReturnType<typeof recoveryKitOf>;
