/**
 * Checks that a PSBT does exactly what its plan says: the same inputs (this vault's coins, no
 * other), the same outputs in the same order with the same amounts, and nothing else. The
 * protocol signer runs this before every signature; a mismatch is SIGNER_REFUSED.
 */
import { Psbt } from 'bitcoinjs-lib';
import type { NetworkInfo } from '../config/networks';
import { BitStableError } from '../errors';
import { TX_LOCKTIME, TX_SEQUENCE, TX_VERSION, type SpendPlan } from './build';
import { outputScript } from './fees';

const refuse = (why: string, data: Record<string, unknown> = {}) =>
  new BitStableError('SIGNER_REFUSED', `The protocol key will not sign: ${why}`, data);

const txidOf = (hash: Uint8Array) => Buffer.from(hash).reverse().toString('hex');

/** Decodes `psbtBase64` and throws SIGNER_REFUSED unless it matches `plan` exactly. */
export function checkPsbtMatchesPlan(
  psbtBase64: string,
  plan: SpendPlan,
  vaultOutputScript: Uint8Array,
  net: NetworkInfo,
): Psbt {
  let psbt: Psbt;
  try {
    psbt = Psbt.fromBase64(psbtBase64, { network: net.bitcoinjs });
  } catch {
    throw new BitStableError('PSBT_INVALID', 'That is not a valid PSBT.', {});
  }
  if (psbt.version !== TX_VERSION || psbt.locktime !== TX_LOCKTIME) {
    throw refuse(
      `its version ${psbt.version} or locktime ${psbt.locktime} is not what BitStable builds.`,
    );
  }
  const ins = psbt.txInputs;
  if (ins.some((i) => i.sequence !== TX_SEQUENCE)) {
    throw refuse('an input has a sequence number BitStable does not build.');
  }
  if (ins.length !== plan.inputs.length) {
    throw refuse(`it spends ${ins.length} coins where ${plan.inputs.length} were planned.`);
  }
  for (const [i, input] of ins.entries()) {
    const planned = plan.inputs[i]!;
    if (txidOf(input.hash) !== planned.txid || input.index !== planned.vout) {
      throw refuse(`input ${i} is not the planned coin of this vault.`, { input: i });
    }
    const utxo = psbt.data.inputs[i]?.witnessUtxo;
    if (
      !utxo ||
      Buffer.compare(utxo.script, vaultOutputScript) !== 0 ||
      utxo.value !== BigInt(planned.amountSats)
    ) {
      throw refuse(`input ${i} does not say it spends ${planned.amountSats} sats of this vault.`, {
        input: i,
      });
    }
  }
  const outs = psbt.txOutputs;
  if (outs.length !== plan.outputs.length) {
    throw refuse(`it has ${outs.length} outputs where ${plan.outputs.length} were planned.`);
  }
  for (const [i, out] of outs.entries()) {
    const planned = plan.outputs[i]!;
    if (
      Buffer.compare(out.script, outputScript(planned.address, net)) !== 0 ||
      out.value !== BigInt(planned.amountSats)
    ) {
      throw refuse(
        `output ${i} differs from the planned ${planned.amountSats} sats to ${planned.address}.`,
        { output: i },
      );
    }
  }
  return psbt;
}

/** The unsigned transaction of a PSBT, serialized: equal bytes mean the very same transaction. */
export function unsignedTxBytes(psbt: Psbt): Buffer {
  return Buffer.from(psbt.data.globalMap.unsignedTx.toBuffer());
}

/**
 * SIGNER_REFUSED unless `psbtBase64` is the stored draft's transaction, byte for byte: version,
 * locktime, every input and sequence, every output. What was reviewed is what is signed.
 */
export function checkSameTransaction(
  psbtBase64: string,
  draftBase64: string,
  net: NetworkInfo,
): Psbt {
  let psbt: Psbt;
  let draft: Psbt;
  try {
    psbt = Psbt.fromBase64(psbtBase64, { network: net.bitcoinjs });
    draft = Psbt.fromBase64(draftBase64, { network: net.bitcoinjs });
  } catch {
    throw new BitStableError('PSBT_INVALID', 'That is not a valid PSBT.', {});
  }
  if (!unsignedTxBytes(psbt).equals(unsignedTxBytes(draft))) {
    throw refuse('it is not the transaction that was reviewed and stored.');
  }
  return psbt;
}
