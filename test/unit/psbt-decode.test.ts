/**
 * The one PSBT decoder and what a signer may hand back: a PSBT in base64 or hex, or the signed
 * transaction itself, matched to the exported PSBT by txid. On the recorded Ledger flow's real
 * PSBT and final transaction (../shared/ledger).
 */
import { Psbt } from 'bitcoinjs-lib';
import { describe, expect, it } from 'vitest';
import { decodePsbt, returnedPsbt, unsignedTxId } from '../../core/keys/psbt-keys';
import { loadFlow } from '../fixtures/ledger/recordings';

const flow = loadFlow('with-nonwitness');
const exported = Psbt.fromBase64(flow.inputs.psbtBase64);
const codeOf = (f: () => unknown) => {
  try {
    f();
    return 'ok';
  } catch (err) {
    return (err as { code?: string }).code ?? 'no code';
  }
};

describe('decodePsbt', () => {
  it('reads a PSBT as base64 or as hex, with whitespace as pasted; anything else is PSBT_INVALID', () => {
    const hex = exported.toHex();
    expect(decodePsbt(`${hex.slice(0, 50)}\n  ${hex.slice(50)}`).toBase64()).toBe(
      flow.inputs.psbtBase64,
    );
    expect(decodePsbt(` ${flow.inputs.psbtBase64}\n`).toHex()).toBe(hex);
    for (const bad of ['', 'bm90IGEgcHNidA==', '70736274ff00', flow.result.finalTxHex])
      expect(
        codeOf(() => decodePsbt(bad)),
        bad.slice(0, 20),
      ).toBe('PSBT_INVALID');
  });
});

describe('returnedPsbt', () => {
  it("takes the signed transaction in hex as the exported PSBT finalized with the transaction's witnesses", () => {
    const psbt = returnedPsbt(flow.result.finalTxHex, exported);
    expect(unsignedTxId(psbt)).toBe(unsignedTxId(exported));
    const input = psbt.data.inputs[0]!;
    expect(input.finalScriptWitness).toBeDefined();
    expect(input.partialSig).toBeUndefined();
    expect(psbt.extractTransaction().toHex()).toBe(flow.result.finalTxHex);
    // The exported PSBT itself is left as it was.
    expect(exported.toBase64()).toBe(flow.inputs.psbtBase64);
  });

  it('refuses a transaction that is not the exported one, one without signatures, and hex that is neither', () => {
    const other = Psbt.fromBase64(flow.inputs.psbtBase64);
    other.setLocktime(1);
    expect(codeOf(() => returnedPsbt(flow.result.finalTxHex, other))).toBe('PSBT_INVALID');
    const unsigned = Buffer.from(exported.data.globalMap.unsignedTx.toBuffer()).toString('hex');
    expect(codeOf(() => returnedPsbt(unsigned, exported))).toBe('PSBT_INVALID');
    expect(codeOf(() => returnedPsbt('abcd', exported))).toBe('PSBT_INVALID');
    // Without an exported PSBT to match it to, a transaction is not a PSBT.
    expect(codeOf(() => returnedPsbt(flow.result.finalTxHex, undefined))).toBe('PSBT_INVALID');
  });
});
