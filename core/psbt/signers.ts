/**
 * Whose signatures a PSBT holds, for the PSBT inspector: each input's signatures that verify
 * against the coin it spends (its amount and script) and the transaction (SIGHASH_ALL, the only
 * kind a vault takes), named by the vault key they belong to, and how many the input's script
 * needs. A signature is attributed by its public key, never by what the file claims about it: a
 * key is the owner's only when it derives from the owner's account key to that very key.
 *
 * Anyone who may read may ask this of a 1.5 MB PSBT, so it is linear in the inputs: the BIP143
 * hashes shared by every input are computed once (bitcoinjs recomputes them for each input, and
 * checks a finalized input on a copy of the whole PSBT), and each input costs a few ECDSA checks.
 */
import {
  address as bjsAddress,
  crypto as bjsCrypto,
  payments,
  script as bjsScript,
  Transaction,
  type Psbt,
} from 'bitcoinjs-lib';
import { vaultScript, type VaultKeys } from '../bitcoin/descriptor';
import { ecc } from '../bitcoin/keys';
import type { NetworkInfo } from '../config/networks';
import { childOfAccount, sameBytes, witnessStack } from '../keys/psbt-keys';

/** The three keys of a vault, in the order the inspector names them. */
export const SIGNER_ROLES = ['owner', 'protocol', 'guardian'] as const;
export type SignerRole = (typeof SIGNER_ROLES)[number];
/** Who made a signature: one of the vault's keys, or a key the node does not know. */
export type Signer = SignerRole | 'unknown';

/** The public key each known role signs one input with. */
export type RoleKeys = Partial<Record<SignerRole, Uint8Array>>;

type PsbtInput = Psbt['data']['inputs'][number];

/** What an input's signatures say. */
export interface InputSigners {
  /** The keys whose signatures verify, in the order owner, protocol, guardian, then unknown. */
  signedBy: Signer[];
  /** Signatures that do not verify (another transaction's or amount's, a key not in the script). */
  invalidSignatures: number;
  /** The input's m-of-n multisig script, when it carries one (its witness script). */
  multisig: { required: number; keys: number } | null;
}

/** The keys of vault `index` of a key set: every vault is `<account key>/0/<index>`. */
export function vaultRoleKeys(keys: VaultKeys, index: number, net: NetworkInfo): RoleKeys {
  const out: RoleKeys = {};
  for (const d of vaultScript(keys, index, net).derivations) out[d.role] = d.pubkey;
  return out;
}

/**
 * The keys among `roles` of a key set that the input's BIP32 derivations name: the derivation's
 * fingerprint is the role's and its path, derived from the role's account key, gives that very
 * public key (a file cannot make a stranger's key the owner's by writing the owner's fingerprint).
 */
export function derivedRoleKeys(
  input: PsbtInput,
  keys: VaultKeys,
  roles: readonly SignerRole[] = SIGNER_ROLES,
  /** Child keys already derived, by role and path (every input of a vault names the same). */
  derived = new Map<string, Uint8Array | undefined>(),
): RoleKeys {
  const out: RoleKeys = {};
  for (const d of input.bip32Derivation ?? []) {
    const fingerprint = Buffer.from(d.masterFingerprint).toString('hex');
    for (const role of roles) {
      const key = keys[role];
      if (key.fingerprint !== fingerprint || out[role]) continue;
      const at = `${role} ${d.path}`;
      if (!derived.has(at)) derived.set(at, childOfAccount(key.node, key.path, d.path)?.publicKey);
      const child = derived.get(at);
      if (child && sameBytes(child, d.pubkey)) out[role] = d.pubkey;
    }
  }
  return out;
}

// ── BIP143 (segwit v0) SIGHASH_ALL, the shared hashes computed once ─────────────────────────

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};
const u64 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
};
const varSlice = (bytes: Uint8Array) => {
  const n = bytes.length;
  const len =
    n < 0xfd
      ? Buffer.from([n])
      : n <= 0xffff
        ? Buffer.concat([Buffer.from([0xfd]), Buffer.from([n & 0xff, n >> 8])])
        : Buffer.concat([Buffer.from([0xfe]), u32(n)]);
  return Buffer.concat([len, bytes]);
};

/** A function giving input `i`'s BIP143 SIGHASH_ALL digest for its script code and amount. */
function sighashAll(tx: Transaction) {
  const prevouts = bjsCrypto.hash256(
    Buffer.concat(tx.ins.flatMap((i) => [Buffer.from(i.hash), u32(i.index)])),
  );
  const sequences = bjsCrypto.hash256(Buffer.concat(tx.ins.map((i) => u32(i.sequence))));
  const outputs = bjsCrypto.hash256(
    Buffer.concat(tx.outs.flatMap((o) => [u64(o.value), varSlice(o.script)])),
  );
  const version = Buffer.alloc(4);
  version.writeInt32LE(tx.version);
  return (i: number, scriptCode: Uint8Array, value: bigint): Uint8Array => {
    const input = tx.ins[i]!;
    return bjsCrypto.hash256(
      Buffer.concat([
        version,
        prevouts,
        sequences,
        Buffer.from(input.hash),
        u32(input.index),
        varSlice(scriptCode),
        u64(value),
        u32(input.sequence),
        outputs,
        u32(tx.locktime),
        u32(Transaction.SIGHASH_ALL),
      ]),
    );
  };
}

/** True when `signature` (DER plus sighash byte) is a SIGHASH_ALL signature of `hash` by `pubkey`. */
function verifies(hash: Uint8Array, pubkey: Uint8Array, signature: Uint8Array): boolean {
  try {
    const sig = bjsScript.signature.decode(signature);
    return sig.hashType === Transaction.SIGHASH_ALL && ecc.verify(hash, pubkey, sig.signature);
  } catch {
    return false; // not a DER signature, or not a point
  }
}

/** The threshold and keys of a multisig witness script, or null for any other script. */
function multisigOf(witnessScript: Uint8Array | undefined) {
  if (!witnessScript) return null;
  try {
    const ms = payments.p2ms({ output: witnessScript }, { validate: false });
    return ms.m !== undefined && ms.pubkeys ? { required: ms.m, pubkeys: ms.pubkeys } : null;
  } catch {
    return null;
  }
}

/** The coin input `i` spends, as the PSBT gives it (its witness UTXO, or the whole previous tx). */
function spentCoin(psbt: Psbt, i: number): { script: Uint8Array; value: bigint } | undefined {
  const input = psbt.data.inputs[i]!;
  if (input.witnessUtxo) return input.witnessUtxo;
  if (!input.nonWitnessUtxo) return undefined;
  try {
    return Transaction.fromBuffer(input.nonWitnessUtxo).outs[psbt.txInputs[i]!.index];
  } catch {
    return undefined;
  }
}

/**
 * Input `i`'s digest to verify signatures against, when the coin it spends is the P2WSH output of
 * `witnessScript` (otherwise its signatures are for some other coin: none verifies).
 */
function sighashOf(
  psbt: Psbt,
  i: number,
  witnessScript: Uint8Array,
  digest: ReturnType<typeof sighashAll>,
): Uint8Array | undefined {
  const coin = spentCoin(psbt, i);
  if (!coin) return undefined;
  try {
    const wsh = payments.p2wsh({ redeem: { output: witnessScript } }, { validate: false });
    return wsh.output && sameBytes(wsh.output, coin.script)
      ? digest(i, witnessScript, coin.value)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A reader of who signed each input of `psbt` (the shared hashes computed once): the roles of
 * `known` whose keys made a signature that verifies ("unknown" for any other key of the script
 * that did), how many signatures do not verify, and the script's m of n. It reads partial
 * signatures, and the signatures in a final witness when the input was finalized. A signature
 * counts only for the coin the input spends: its witness script must be the one the coin's P2WSH
 * output commits to.
 */
export function inputSignersOf(psbt: Psbt): (i: number, known: RoleKeys) => InputSigners {
  const tx = Transaction.fromBuffer(psbt.data.globalMap.unsignedTx.toBuffer());
  const digest = sighashAll(tx);
  const order: Signer[] = [...SIGNER_ROLES, 'unknown'];
  return (i, known) => {
    const input = psbt.data.inputs[i]!;
    const final = input.finalScriptWitness ? witnessStack(input.finalScriptWitness) : [];
    const witnessScript = input.finalScriptWitness ? final.at(-1) : input.witnessScript;
    const ms = multisigOf(witnessScript);
    const multisig = ms && { required: ms.required, keys: ms.pubkeys.length };
    const hash = ms ? sighashOf(psbt, i, witnessScript!, digest) : undefined;
    const keys = ms?.pubkeys ?? [];
    let signing: Uint8Array[] = [];
    let invalidSignatures = 0;
    if (input.partialSig?.length) {
      signing = input.partialSig
        .filter(
          (p) =>
            hash &&
            keys.some((k) => sameBytes(k, p.pubkey)) &&
            verifies(hash, p.pubkey, p.signature),
        )
        .map((p) => p.pubkey);
      invalidSignatures = input.partialSig.length - signing.length;
    } else if (input.finalScriptWitness) {
      // P2WSH multisig: <empty> <sig>… <witnessScript>, the signatures in the keys' order (as
      // OP_CHECKMULTISIG reads them): each key is tried once.
      const sigs = final.slice(1, -1).filter((s) => s.length > 0);
      let k = 0;
      for (const sig of sigs) {
        while (hash && k < keys.length && !verifies(hash, keys[k]!, sig)) k++;
        if (!hash || k >= keys.length) break;
        signing.push(keys[k++]!);
      }
      invalidSignatures = sigs.length - signing.length;
    }
    const roleOf = (pubkey: Uint8Array): Signer =>
      SIGNER_ROLES.find((r) => known[r] && sameBytes(known[r], pubkey)) ?? 'unknown';
    const signedBy = signing.map(roleOf).sort((a, b) => order.indexOf(a) - order.indexOf(b));
    return { signedBy, invalidSignatures, multisig };
  };
}

/** Who signed each input of `psbt`, `knownFor(i)` the keys of input `i`'s vault. */
export function psbtInputSigners(psbt: Psbt, knownFor: (i: number) => RoleKeys): InputSigners[] {
  const read = inputSignersOf(psbt);
  return psbt.data.inputs.map((_, i) => read(i, knownFor(i)));
}

/** Where the node finds the keys of the vault an input spends. */
export interface VaultKeyLookup {
  /** The key set and index of the vault at `address`, when it is the caller's to read. */
  vaultAt(address: string): Promise<{ keys: VaultKeys; index: number } | undefined>;
  /** A key set (and its roles the caller may see) to match the PSBT's derivations against otherwise. */
  fallback?: { keys: VaultKeys; roles: readonly SignerRole[] };
}

/** Who signed each input of `psbt`, its vault's keys found through `lookup` by the coin's address. */
export async function psbtSigners(
  psbt: Psbt,
  net: NetworkInfo,
  lookup: VaultKeyLookup,
): Promise<InputSigners[]> {
  const byAddress = new Map<string, RoleKeys | undefined>();
  const derived = new Map<string, Uint8Array | undefined>();
  const read = inputSignersOf(psbt);
  const out: InputSigners[] = [];
  for (let i = 0; i < psbt.data.inputs.length; i++) {
    // A file of thousands of inputs takes seconds of ECDSA: let the node answer others meanwhile.
    if (i % 64 === 63) await new Promise((resolve) => setImmediate(resolve));
    let address: string | undefined;
    try {
      const coin = spentCoin(psbt, i);
      address = coin && bjsAddress.fromOutputScript(coin.script, net.bitcoinjs);
    } catch {
      address = undefined; // a script with no address form
    }
    if (address !== undefined && !byAddress.has(address)) {
      const vault = await lookup.vaultAt(address);
      byAddress.set(address, vault && vaultRoleKeys(vault.keys, vault.index, net));
    }
    let keys = address === undefined ? undefined : byAddress.get(address);
    if (!keys && lookup.fallback) {
      const { keys: set, roles } = lookup.fallback;
      keys = derivedRoleKeys(psbt.data.inputs[i]!, set, roles, derived);
    }
    out.push(read(i, keys ?? {}));
  }
  return out;
}
