/**
 * Where one key appears in a PSBT: its BIP32 derivations (by master fingerprint), checked against
 * the key itself, and its signatures, verified against each input's sighash.
 */
import { Psbt, Transaction, script } from 'bitcoinjs-lib';
import { witnessStackToScriptWitness } from 'bitcoinjs-lib/src/psbt/psbtutils';
import type { BIP32Interface } from 'bip32';
import { ecc, parsePath } from '../bitcoin/keys';
import { BitStableError } from '../errors';

type PsbtInput = Psbt['data']['inputs'][number];

/** A BIP32 derivation entry of a PSBT input, with the fingerprint as hex. */
export interface InputDerivation {
  pubkey: Uint8Array;
  fingerprint: string;
  path: string;
}

export const hexOf = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
export const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** A PSBT as hex text: its magic bytes `psbt\xff`. */
const PSBT_HEX = /^70736274ff[0-9a-f]*$/i;

/**
 * The one PSBT decoder: base64 or hex text (wallets export both; whitespace is ignored);
 * anything else is PSBT_INVALID.
 */
export function decodePsbt(psbtText: string, network?: Psbt['opts']['network']): Psbt {
  try {
    if (typeof psbtText !== 'string') throw new Error('not a string');
    const text = psbtText.replace(/\s+/g, '');
    const opts = network ? { network } : {};
    return PSBT_HEX.test(text) ? Psbt.fromHex(text, opts) : Psbt.fromBase64(text, opts);
  } catch (err) {
    throw new BitStableError(
      'PSBT_INVALID',
      'The PSBT could not be read (it is not a BIP174 PSBT in base64 or hex).',
      {},
      { cause: err },
    );
  }
}

/**
 * What a signer handed back, as a PSBT: a PSBT (base64 or hex, partial or finalized), or the
 * signed network transaction itself (hex: what Electrum's "Copy" and "Export" and Core's
 * `signrawtransactionwithkey` give). A transaction must be `exported`'s very transaction (same
 * txid); it becomes `exported` finalized with the transaction's witnesses, so it is checked as
 * a finalized PSBT would be.
 */
export function returnedPsbt(
  text: string,
  exported: Psbt | undefined,
  network?: Psbt['opts']['network'],
): Psbt {
  const hex = typeof text === 'string' ? text.replace(/\s+/g, '') : '';
  if (!exported || PSBT_HEX.test(hex) || !/^(?:[0-9a-f]{2})+$/i.test(hex)) {
    return decodePsbt(text, network);
  }
  let tx: Transaction;
  try {
    tx = Transaction.fromHex(hex);
  } catch (err) {
    throw new BitStableError(
      'PSBT_INVALID',
      'That hex is neither a PSBT nor a signed transaction.',
      {},
      { cause: err },
    );
  }
  const expected = unsignedTxId(exported);
  if (tx.getId() !== expected) {
    throw new BitStableError(
      'PSBT_INVALID',
      `That is another transaction (${tx.getId()}), not the one exported (${expected}).`,
      { txid: tx.getId(), expected },
    );
  }
  const psbt = Psbt.fromBuffer(exported.toBuffer(), network ? { network } : {});
  tx.ins.forEach((input, i) => {
    if (input.witness.length === 0) {
      throw new BitStableError(
        'PSBT_INVALID',
        `Input ${i} of that transaction carries no signatures: send the signed transaction.`,
        { input: i },
      );
    }
    // What a finalizer keeps (BIP174): the coin, and the final witness in place of the rest.
    const data = psbt.data.inputs[i]!;
    delete data.partialSig;
    delete data.sighashType;
    delete data.witnessScript;
    delete data.bip32Derivation;
    psbt.updateInput(i, { finalScriptWitness: witnessStackToScriptWitness(input.witness) });
  });
  return psbt;
}

/** The txid of the PSBT's unsigned transaction: what stays the same however it is signed. */
export function unsignedTxId(psbt: Psbt): string {
  return Transaction.fromBuffer(psbt.data.globalMap.unsignedTx.toBuffer()).getId();
}

/** The input's BIP32 derivations whose master fingerprint is `fingerprint`. */
export function derivationsOf(input: PsbtInput, fingerprint: string): InputDerivation[] {
  return (input.bip32Derivation ?? [])
    .map((d) => ({ pubkey: d.pubkey, fingerprint: hexOf(d.masterFingerprint), path: d.path }))
    .filter((d) => d.fingerprint === fingerprint);
}

/**
 * The child of an account node that a derivation path names, or undefined when the path is not
 * `<accountPath>/branch/index` (two unhardened steps, as every vault key is): a key is only ever
 * used inside its own BIP48 account.
 */
export function childOfAccount(
  account: BIP32Interface,
  accountPath: string,
  path: string,
): BIP32Interface | undefined {
  let steps: number[];
  let base: number[];
  try {
    steps = parsePath(path.replace(/h/g, "'"));
    base = parsePath(accountPath);
  } catch {
    return undefined;
  }
  const rest = steps.slice(base.length);
  const under = base.every((n, i) => steps[i] === n);
  if (!under || rest.length !== 2 || rest.some((n) => n >= 0x80000000)) return undefined;
  return account.derive(rest[0]!).derive(rest[1]!);
}

/** Checks an ECDSA signature; the validator `Psbt.validateSignaturesOfInput` wants. */
export const verifyEcdsa = (pubkey: Uint8Array, hash: Uint8Array, signature: Uint8Array) =>
  ecc.verify(hash, pubkey, signature);

/**
 * True when input `i` carries a signature by `pubkey` that verifies against the input's sighash
 * (and `pubkey` is in its script): as a partial signature, or inside a final P2WSH witness when
 * the signer also finalized the input.
 */
export function hasValidSignature(psbt: Psbt, i: number, pubkey: Uint8Array): boolean {
  const input = psbt.data.inputs[i];
  if (!input) return false;
  if (input.partialSig?.some((p) => sameBytes(p.pubkey, pubkey))) {
    return validates(psbt, i, pubkey);
  }
  if (!input.finalScriptWitness) return false;
  const stack = witnessStack(input.finalScriptWitness);
  // P2WSH multisig: <empty> <sig>… <witnessScript>. Put each candidate back as a partial
  // signature on a copy, so that bitcoinjs computes the sighash exactly as when signing.
  const witnessScript = stack.at(-1);
  if (!witnessScript || stack.length < 3) return false;
  return stack.slice(1, -1).some((signature) => {
    if (signature.length === 0) return false;
    const trial = psbt.clone();
    const copy = trial.data.inputs[i]!;
    delete copy.finalScriptWitness;
    delete copy.finalScriptSig;
    copy.witnessScript = witnessScript;
    copy.partialSig = [{ pubkey, signature }];
    return validates(trial, i, pubkey);
  });
}

/** Verifies the input's partial signature by `pubkey`; only SIGHASH_ALL counts for a vault. */
function validates(psbt: Psbt, i: number, pubkey: Uint8Array): boolean {
  try {
    const sig = psbt.data.inputs[i]!.partialSig!.find((p) => sameBytes(p.pubkey, pubkey))!;
    if (script.signature.decode(sig.signature).hashType !== Transaction.SIGHASH_ALL) return false;
    return psbt.validateSignaturesOfInput(i, verifyEcdsa, pubkey);
  } catch {
    // Missing UTXO, a script without this key, or a malformed signature: not a valid signature.
    return false;
  }
}

/** Splits a serialized witness (count, then length-prefixed items) into its items. */
export function witnessStack(serialized: Uint8Array): Uint8Array[] {
  let pos = 0;
  const varint = (): number => {
    const first = serialized[pos++];
    if (first === undefined) throw new Error('truncated');
    if (first < 0xfd) return first;
    const size = first === 0xfd ? 2 : first === 0xfe ? 4 : 8;
    let n = 0;
    for (let k = 0; k < size; k++) n += (serialized[pos++] ?? 0) * 2 ** (8 * k);
    return n;
  };
  try {
    const count = varint();
    const items: Uint8Array[] = [];
    for (let k = 0; k < count; k++) {
      const len = varint();
      if (pos + len > serialized.length) return [];
      items.push(serialized.subarray(pos, pos + len));
      pos += len;
    }
    return items;
  } catch {
    return [];
  }
}

/**
 * `base` (the PSBT handed out) with the valid partial signatures that `signed` carries from the
 * key with master `fingerprint` on each input — nothing else of `signed` is taken (its scripts,
 * derivations and any other signatures stay out).
 */
export function withSignaturesOf(base: Psbt, signed: Psbt, fingerprint: string): Psbt {
  const out = base.clone();
  out.data.inputs.forEach((input, i) => {
    for (const d of derivationsOf(input, fingerprint)) {
      const sig = signed.data.inputs[i]?.partialSig?.find((p) => sameBytes(p.pubkey, d.pubkey));
      if (!sig || input.partialSig?.some((p) => sameBytes(p.pubkey, d.pubkey))) continue;
      // Verified against `base`'s own amounts and scripts, not the ones `signed` came with.
      const trial = out.clone();
      trial.updateInput(i, { partialSig: [sig] });
      if (hasValidSignature(trial, i, d.pubkey)) out.updateInput(i, { partialSig: [sig] });
    }
  });
  return out;
}

/** How many of the PSBT's inputs carry a valid partial signature of the key `fingerprint` names. */
export function inputsSignedBy(psbt: Psbt, fingerprint: string): number {
  return psbt.data.inputs.filter((input, i) =>
    derivationsOf(input, fingerprint).some(
      (d) =>
        input.partialSig?.some((p) => sameBytes(p.pubkey, d.pubkey)) &&
        hasValidSignature(psbt, i, d.pubkey),
    ),
  ).length;
}
