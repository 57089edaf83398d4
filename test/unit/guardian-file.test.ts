import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Psbt, Transaction, payments } from 'bitcoinjs-lib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { vaultScript } from '../../core/bitcoin/descriptor';
import { bip32, keyExpression, parseKey } from '../../core/bitcoin/keys';
import { network } from '../../core/config/networks';
import {
  FileGuardianSigner,
  psbtFromFile,
  psbtToFile,
  unsignedTxIdOf,
  type PsbtFileFormat,
} from '../../core/signers/guardian-file';
import { SoftwareSigner } from '../../core/signers/software';
import type { SignContext } from '../../core/signers/types';

// The guardian is an imported xpub on test networks; a software key on testnet plays the
// guardian's own wallet, signing "elsewhere".
const net = network('testnet');
const seedOf = (label: string) => createHash('sha256').update(`bitstable-test-${label}`).digest();
const soft = (role: 'owner' | 'protocol' | 'guardian') =>
  new SoftwareSigner({
    role,
    network: net,
    secret: { seed: seedOf(role) },
    allowTestNetworks: true,
  });
const owner = soft('owner');
const protocol = soft('protocol');
const guardianWallet = soft('guardian');

async function setup() {
  const context: SignContext = {
    keys: {
      owner: await owner.accountKey(),
      protocol: await protocol.accountKey(),
      guardian: await guardianWallet.accountKey(),
    },
  };
  const guardian = new FileGuardianSigner(keyExpression(context.keys.guardian), net);
  return { context, guardian, psbt: vaultPsbt(context, 0) };
}

/** An unsigned PSBT spending vault `index`'s output of a made-up transaction (`salt` varies it). */
function vaultPsbt(context: SignContext, salt: number, index = 2): string {
  const keys = {
    owner: parseKey(context.keys.owner, net),
    protocol: parseKey(context.keys.protocol, net),
    guardian: parseKey(context.keys.guardian, net),
  };
  const vault = vaultScript(keys, index, net);
  const prev = new Transaction();
  prev.addInput(new Uint8Array(32).fill(9), salt);
  prev.addOutput(vault.outputScript, 250_000n);
  const psbt = new Psbt({ network: net.bitcoinjs });
  psbt.addInput({
    hash: prev.getId(),
    index: 0,
    nonWitnessUtxo: prev.toBuffer(),
    witnessUtxo: { script: vault.outputScript, value: 250_000n },
    witnessScript: vault.witnessScript,
    bip32Derivation: vault.derivations.map((d) => ({
      masterFingerprint: Buffer.from(d.fingerprint, 'hex'),
      path: d.path,
      pubkey: d.pubkey,
    })),
  });
  const to = payments.p2wpkh({ hash: new Uint8Array(20).fill(2), network: net.bitcoinjs });
  psbt.addOutput({ script: to.output!, value: 240_000n });
  return psbt.toBase64();
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bitstable-guardian-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('PSBT files', () => {
  it.each(['base64', 'binary'] as const)('round-trip as %s', async (format) => {
    const { psbt } = await setup();
    const path = join(dir, `vault.${format === 'binary' ? 'psbt' : 'txt'}`);
    await psbtToFile(psbt, path, format);
    const raw = await readFile(path);
    if (format === 'binary') expect(raw.subarray(0, 5).toString('hex')).toBe('70736274ff');
    else expect(raw.toString('utf8').trim()).toBe(psbt);
    expect(await psbtFromFile(path)).toBe(psbt);
    expect(await readdir(dir)).toEqual([path.split('/').pop()]);
  });

  it('also reads hex PSBT text, and refuses what is not a PSBT', async () => {
    const { psbt } = await setup();
    await writeFile(join(dir, 'hex.txt'), Psbt.fromBase64(psbt).toHex());
    expect(await psbtFromFile(join(dir, 'hex.txt'))).toBe(psbt);
    await writeFile(join(dir, 'notes.txt'), 'hello guardian');
    await expect(psbtFromFile(join(dir, 'notes.txt'))).rejects.toMatchObject({
      code: 'PSBT_INVALID',
    });
    await expect(psbtFromFile(join(dir, 'missing.psbt'))).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(psbtToFile('nope', join(dir, 'x.psbt'), 'binary')).rejects.toMatchObject({
      code: 'PSBT_INVALID',
    });
  });
});

describe('FileGuardianSigner', () => {
  it('signs only by file: signPsbt is refused', async () => {
    const { context, guardian, psbt } = await setup();
    expect(guardian.kind).toBe('file');
    expect(await guardian.fingerprint()).toBe(context.keys.guardian.fingerprint);
    expect(await guardian.accountKey()).toEqual(context.keys.guardian);
    await expect(guardian.signPsbt(psbt, context)).rejects.toMatchObject({
      code: 'SIGNER_REFUSED',
    });
  });

  it.each(['base64', 'binary'] as PsbtFileFormat[])(
    'exports, and imports the guardian-signed file back (%s)',
    async (format) => {
      const { context, guardian, psbt } = await setup();
      const out = join(dir, 'for-guardian.psbt');
      await guardian.exportPsbt(psbt, out, format);
      // Elsewhere: the guardian's wallet signs the exported file and saves it.
      const signed = await guardianWallet.signPsbt(await psbtFromFile(out), context);
      const back = join(dir, 'signed.psbt');
      await psbtToFile(signed, back, format);
      const result = await guardian.importSignedPsbt(back, unsignedTxIdOf(psbt));
      expect(result).toEqual({ psbt: signed, signedInputs: [0] });
    },
  );

  it('accepts a signed file the guardian also finalized', async () => {
    const { context, guardian, psbt } = await setup();
    const both = Psbt.fromBase64(
      await guardianWallet.signPsbt(await owner.signPsbt(psbt, context), context),
    );
    both.finalizeAllInputs();
    const path = join(dir, 'final.psbt');
    await psbtToFile(both.toBase64(), path, 'binary');
    const txid = unsignedTxIdOf(psbt);
    // Finalizing drops the key paths: the exported PSBT tells which key is the guardian's.
    await expect(guardian.importSignedPsbt(path, txid)).rejects.toMatchObject({
      code: 'PSBT_INVALID',
    });
    const result = await guardian.importSignedPsbt(path, txid, psbt);
    expect(result.signedInputs).toEqual([0]);
    // Finalized by owner + protocol: no guardian signature in the witness.
    const noGuardian = Psbt.fromBase64(
      await protocol.signPsbt(await owner.signPsbt(psbt, context), context),
    );
    noGuardian.finalizeAllInputs();
    await psbtToFile(noGuardian.toBase64(), path, 'binary');
    await expect(guardian.importSignedPsbt(path, txid, psbt)).rejects.toMatchObject({
      code: 'PSBT_INVALID',
    });
  });

  it('takes the signed transaction itself from a file: a binary .txn as Electrum exports it, or its hex', async () => {
    const { context, guardian, psbt } = await setup();
    const both = Psbt.fromBase64(
      await guardianWallet.signPsbt(await owner.signPsbt(psbt, context), context),
    );
    both.finalizeAllInputs();
    const tx = both.extractTransaction();
    const txid = unsignedTxIdOf(psbt);
    const binary = join(dir, 'signed.txn');
    await writeFile(binary, tx.toBuffer());
    const hex = join(dir, 'signed-hex.txn');
    await writeFile(hex, `${tx.toHex()}\n`);
    for (const path of [binary, hex]) {
      const result = await guardian.importSignedPsbt(path, txid, psbt);
      expect(result.signedInputs, path).toEqual([0]);
      expect(Psbt.fromBase64(result.psbt).extractTransaction().getId()).toBe(tx.getId());
    }
    // Without the exported PSBT there is nothing to match a transaction to.
    await expect(guardian.importSignedPsbt(binary, txid)).rejects.toMatchObject({
      code: 'PSBT_INVALID',
    });
  });

  it('refuses a PSBT for another transaction (PSBT_INVALID)', async () => {
    const { context, guardian, psbt } = await setup();
    const other = await guardianWallet.signPsbt(vaultPsbt(context, 1), context);
    await psbtToFile(other, join(dir, 'other.psbt'), 'base64');
    await expect(
      guardian.importSignedPsbt(join(dir, 'other.psbt'), unsignedTxIdOf(psbt)),
    ).rejects.toMatchObject({ code: 'PSBT_INVALID', data: { txid: unsignedTxIdOf(other) } });
  });

  it('refuses a file with no valid guardian signature (PSBT_INVALID)', async () => {
    const { context, guardian, psbt } = await setup();
    const txid = unsignedTxIdOf(psbt);
    const unsigned = join(dir, 'unsigned.psbt');
    await psbtToFile(psbt, unsigned, 'binary');
    await expect(guardian.importSignedPsbt(unsigned, txid)).rejects.toMatchObject({
      code: 'PSBT_INVALID',
    });
    // Signed, but by the protocol key only.
    await psbtToFile(await protocol.signPsbt(psbt, context), unsigned, 'binary');
    await expect(guardian.importSignedPsbt(unsigned, txid)).rejects.toMatchObject({
      code: 'PSBT_INVALID',
    });
    // A guardian signature whose bytes were changed does not verify.
    const forged = Psbt.fromBase64(await guardianWallet.signPsbt(psbt, context));
    const sig = forged.data.inputs[0]!.partialSig![0]!.signature;
    sig[10] = sig[10]! ^ 1;
    await psbtToFile(forged.toBase64(), unsigned, 'binary');
    await expect(guardian.importSignedPsbt(unsigned, txid)).rejects.toMatchObject({
      code: 'PSBT_INVALID',
    });
    // A valid guardian signature, but SIGHASH_NONE: vault signatures must commit to the outputs.
    const none = Psbt.fromBase64(psbt);
    const d = none.data.inputs[0]!.bip32Derivation!.find(
      (x) => Buffer.from(x.masterFingerprint).toString('hex') === context.keys.guardian.fingerprint,
    )!;
    none.updateInput(0, { sighashType: Transaction.SIGHASH_NONE });
    none.signInput(0, bip32.fromSeed(seedOf('guardian'), net.bitcoinjs).derivePath(d.path), [
      Transaction.SIGHASH_NONE,
    ]);
    await psbtToFile(none.toBase64(), unsigned, 'binary');
    await expect(guardian.importSignedPsbt(unsigned, txid)).rejects.toMatchObject({
      code: 'PSBT_INVALID',
    });
  });

  it('refuses a guardian key of another network (WRONG_NETWORK)', async () => {
    const { context } = await setup();
    expect(
      () => new FileGuardianSigner(keyExpression(context.keys.guardian), network('mainnet')),
    ).toThrow(expect.objectContaining({ code: 'WRONG_NETWORK' }));
  });
});
