/**
 * Puts the partial signatures a device returned into the PSBT, each checked first: it belongs to
 * an input this device's key is in, uses the input's sighash type, and verifies against the
 * input's sighash. A device answer that fails any check adds nothing.
 */
import { Psbt, Transaction, script } from 'bitcoinjs-lib';
import { BitStableError } from '../../errors';
import { ecc } from '../../bitcoin/keys';

/** One signature as the device returned it (ledger-bitcoin's PartialSignature, by input). */
export interface DeviceSignature {
  inputIndex: number;
  pubkey: Uint8Array;
  signature: Uint8Array;
  /** Only for taproot script paths, which vaults never use. */
  tapleafHash?: Uint8Array;
}

/** The one PSBT decoder (base64 or hex). */
export { decodePsbt } from '../../keys/psbt-keys';

const hexOf = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** Indexes of the inputs that carry a BIP32 derivation from the key with this master fingerprint. */
export function inputsSignableBy(psbt: Psbt, fingerprint: string): number[] {
  return psbt.data.inputs.flatMap((input, i) =>
    (input.bip32Derivation ?? []).some((d) => hexOf(d.masterFingerprint) === fingerprint)
      ? [i]
      : [],
  );
}

const refuse = (message: string, data: Record<string, unknown>) =>
  new BitStableError('DEVICE_ERROR', `${message} Nothing was added to the PSBT.`, data);

/** Checks one device signature against the PSBT; returns false if it is already there. */
function checkSignature(psbt: Psbt, sig: DeviceSignature, fingerprint: string): boolean {
  const input = psbt.data.inputs[sig.inputIndex];
  const data = { input: sig.inputIndex };
  if (!input)
    throw refuse('The Ledger returned a signature for an input the PSBT does not have.', data);
  if (sig.tapleafHash)
    throw refuse('The Ledger returned a taproot signature for a P2WSH vault input.', data);
  const ours = (input.bip32Derivation ?? []).some(
    (d) => hexOf(d.masterFingerprint) === fingerprint && sameBytes(d.pubkey, sig.pubkey),
  );
  if (!ours)
    throw refuse(
      "The Ledger signed with a key that is not this vault's owner key for that input.",
      data,
    );

  let hashType: number;
  try {
    hashType = script.signature.decode(sig.signature).hashType;
  } catch {
    throw refuse('The Ledger returned a signature that is not DER-encoded.', data);
  }
  const expected = input.sighashType ?? Transaction.SIGHASH_ALL;
  if (hashType !== expected) {
    throw refuse('The Ledger signed with an unexpected sighash type.', {
      ...data,
      hashType,
      expected,
    });
  }
  const existing = (input.partialSig ?? []).find((p) => sameBytes(p.pubkey, sig.pubkey));
  if (existing && !sameBytes(existing.signature, sig.signature)) {
    throw new BitStableError(
      'PSBT_INVALID',
      'The PSBT already carries a different signature from the owner key for this input. Start again from an unsigned PSBT.',
      data,
    );
  }
  return !existing;
}

function addSignatures(psbt: Psbt, sigs: DeviceSignature[]): void {
  for (const sig of sigs) {
    psbt.updateInput(sig.inputIndex, {
      partialSig: [
        { pubkey: Uint8Array.from(sig.pubkey), signature: Uint8Array.from(sig.signature) },
      ],
    });
  }
}

const verify = (pubkey: Uint8Array, hash: Uint8Array, signature: Uint8Array) =>
  ecc.verify(hash, pubkey, signature);

/** Verifies each device signature against its input's sighash, then adds it as a partialSig. */
export function placeSignatures(psbt: Psbt, sigs: DeviceSignature[], fingerprint: string): void {
  const fresh = sigs.filter((sig) => checkSignature(psbt, sig, fingerprint));
  // Verify on a copy so that a bad answer leaves `psbt` untouched.
  const trial = psbt.clone();
  addSignatures(trial, fresh);
  for (const sig of sigs) {
    let valid: boolean;
    try {
      // Computes the input's sighash (segwit v0: witnessScript and amount) and checks the key is in the script.
      valid = trial.validateSignaturesOfInput(sig.inputIndex, verify, sig.pubkey);
    } catch (err) {
      throw new BitStableError(
        'DEVICE_ERROR',
        'A signature from the Ledger could not be checked against its input (the input lacks its script or amount). Nothing was added to the PSBT.',
        { input: sig.inputIndex, detail: err instanceof Error ? err.message : String(err) },
        { cause: err },
      );
    }
    if (!valid)
      throw refuse('A signature from the Ledger does not verify against its input.', {
        input: sig.inputIndex,
      });
  }
  addSignatures(psbt, fresh);
}
