/**
 * Whose signatures a PSBT holds (the PSBT inspector): real vault PSBTs (core/bitcoin/descriptor's
 * scripts and derivations, as the node builds them) signed by software keys, each signature named
 * by the key it verifies under; a key the vault does not have is "unknown", and a file cannot make
 * a stranger the owner by writing the owner's fingerprint.
 */
import { createHash } from 'node:crypto';
import { Psbt, Transaction, payments } from 'bitcoinjs-lib';
import { describe, expect, it } from 'vitest';
import { vaultScript, type VaultKeys } from '../../core/bitcoin/descriptor';
import { parseKey } from '../../core/bitcoin/keys';
import { network } from '../../core/config/networks';
import {
  derivedRoleKeys,
  psbtInputSigners,
  psbtSigners,
  vaultRoleKeys,
  type RoleKeys,
  type SignerRole,
} from '../../core/psbt/signers';
import { SoftwareSigner } from '../../core/signers/software';
import type { SignContext } from '../../core/signers/types';

const net = network('testnet');
const seedOf = (label: string) => createHash('sha256').update(`bitstable-test-${label}`).digest();
const soft = (role: SignerRole, label: string = role) =>
  new SoftwareSigner({
    role,
    network: net,
    secret: { seed: seedOf(label) },
    allowTestNetworks: true,
  });
const owner = soft('owner');
const protocol = soft('protocol');
const guardian = soft('guardian');
/** Someone else's owner key: a key set of theirs with the same protocol and guardian. */
const stranger = soft('owner', 'stranger');

async function contextOf(ownerSigner: SoftwareSigner): Promise<SignContext> {
  return {
    keys: {
      owner: await ownerSigner.accountKey(),
      protocol: await protocol.accountKey(),
      guardian: await guardian.accountKey(),
    },
  };
}

const keysOf = (context: SignContext): VaultKeys => ({
  owner: parseKey(context.keys.owner, net),
  protocol: parseKey(context.keys.protocol, net),
  guardian: parseKey(context.keys.guardian, net),
});

/** A coin of vault `index`: output `vout` of a made-up transaction (`salt` varies it). */
interface Coin {
  index: number;
  sats: bigint;
  vout?: number;
  salt?: number;
  /** Give the whole previous transaction instead of the witness UTXO (as some wallets do). */
  wholeTx?: boolean;
}

/** An unsigned PSBT spending `coins`, with the scripts and derivations the node puts in. */
function spendPsbt(keys: VaultKeys, coins: Coin[]): string {
  const psbt = new Psbt({ network: net.bitcoinjs });
  for (const c of coins) {
    const vault = vaultScript(keys, c.index, net);
    const prev = new Transaction();
    prev.addInput(new Uint8Array(32).fill(7), c.salt ?? 0);
    const other = payments.p2wpkh({ hash: new Uint8Array(20).fill(5), network: net.bitcoinjs });
    for (let v = 0; v < (c.vout ?? 0); v++) prev.addOutput(other.output!, 1_000n);
    prev.addOutput(vault.outputScript, c.sats);
    psbt.addInput({
      hash: prev.getId(),
      index: c.vout ?? 0,
      ...(c.wholeTx
        ? { nonWitnessUtxo: prev.toBuffer() }
        : { witnessUtxo: { script: vault.outputScript, value: c.sats } }),
      witnessScript: vault.witnessScript,
      bip32Derivation: vault.derivations.map((d) => ({
        masterFingerprint: Buffer.from(d.fingerprint, 'hex'),
        path: d.path,
        pubkey: d.pubkey,
      })),
    });
  }
  const to = payments.p2wpkh({ hash: new Uint8Array(20).fill(3), network: net.bitcoinjs });
  const total = coins.reduce((n, c) => n + c.sats, 0n);
  psbt.addOutput({ script: to.output!, value: total - 10_000n });
  return psbt.toBase64();
}

/** An unsigned PSBT spending vault `index`'s one coin. */
const vaultPsbt = (keys: VaultKeys, index: number, salt = 0) =>
  spendPsbt(keys, [{ index, sats: 250_000n, salt }]);

/** What the first input's signatures say, `known` the keys of its vault. */
const firstInput = (psbt: Psbt, known: RoleKeys) => psbtInputSigners(psbt, () => known)[0]!;

/** `psbt` signed by each signer in turn. */
async function signedBy(psbt: string, context: SignContext, ...signers: SoftwareSigner[]) {
  let out = psbt;
  for (const s of signers) out = await s.signPsbt(out, context);
  return Psbt.fromBase64(out, { network: net.bitcoinjs });
}

describe('psbtInputSigners', () => {
  it('names each signature by its key, owner first, and reads the 2 of 3 from the script', async () => {
    const context = await contextOf(owner);
    const keys = keysOf(context);
    const unsigned = vaultPsbt(keys, 5);
    const known = vaultRoleKeys(keys, 5, net);
    const none = Psbt.fromBase64(unsigned, { network: net.bitcoinjs });
    expect(firstInput(none, known)).toEqual({
      signedBy: [],
      invalidSignatures: 0,
      multisig: { required: 2, keys: 3 },
    });
    expect(firstInput(await signedBy(unsigned, context, owner), known).signedBy).toEqual(['owner']);
    // Signed protocol first: still told owner, protocol.
    const both = await signedBy(unsigned, context, protocol, owner);
    expect(firstInput(both, known)).toEqual({
      signedBy: ['owner', 'protocol'],
      invalidSignatures: 0,
      multisig: { required: 2, keys: 3 },
    });
    // The keys the PSBT's own derivations name, checked against the key set, are the same keys.
    expect(derivedRoleKeys(both.data.inputs[0]!, keys)).toEqual(known);
  });

  it('reads the signatures of a finalized input from its witness', async () => {
    const context = await contextOf(owner);
    const keys = keysOf(context);
    const psbt = await signedBy(vaultPsbt(keys, 1), context, guardian, owner);
    psbt.finalizeAllInputs();
    expect(psbt.data.inputs[0]!.partialSig).toBeUndefined();
    expect(firstInput(psbt, vaultRoleKeys(keys, 1, net))).toEqual({
      signedBy: ['owner', 'guardian'],
      invalidSignatures: 0,
      multisig: { required: 2, keys: 3 },
    });
  });

  it("calls a key of the script that is none of the vault's keys unknown", async () => {
    // The stranger's vault, read with this key set's keys: their owner key is not ours.
    const theirs = await contextOf(stranger);
    const psbt = await signedBy(vaultPsbt(keysOf(theirs), 3), theirs, stranger, protocol);
    const ours = keysOf(await contextOf(owner));
    expect(firstInput(psbt, derivedRoleKeys(psbt.data.inputs[0]!, ours)).signedBy).toEqual([
      'protocol',
      'unknown',
    ]);
    // With no keys known at all, every valid signature is an unknown key's.
    expect(firstInput(psbt, {}).signedBy).toEqual(['unknown', 'unknown']);
  });

  it("does not take a derivation's word for it: the owner's fingerprint on a stranger's key is not the owner", async () => {
    const theirs = await contextOf(stranger);
    const psbt = await signedBy(vaultPsbt(keysOf(theirs), 3), theirs, stranger);
    const ours = keysOf(await contextOf(owner));
    const input = psbt.data.inputs[0]!;
    const strangerKey = input.partialSig![0]!.pubkey;
    for (const d of input.bip32Derivation!) {
      if (Buffer.from(d.pubkey).equals(Buffer.from(strangerKey)))
        d.masterFingerprint = Buffer.from(ours.owner.fingerprint, 'hex');
    }
    const known = derivedRoleKeys(input, ours);
    expect(known.owner).toBeUndefined();
    expect(firstInput(psbt, known).signedBy).toEqual(['unknown']);
  });

  it("counts a signature that does not verify (another transaction's) apart, naming no one", async () => {
    const context = await contextOf(owner);
    const keys = keysOf(context);
    const other = await signedBy(vaultPsbt(keys, 2, 1), context, owner);
    const psbt = await signedBy(vaultPsbt(keys, 2, 0), context, protocol);
    psbt.updateInput(0, { partialSig: other.data.inputs[0]!.partialSig });
    expect(firstInput(psbt, vaultRoleKeys(keys, 2, net))).toEqual({
      signedBy: ['protocol'],
      invalidSignatures: 1,
      multisig: { required: 2, keys: 3 },
    });
  });
});

describe('psbtInputSigners over many inputs', () => {
  it('checks each input against its own coin: its outpoint, amount and script', async () => {
    const context = await contextOf(owner);
    const keys = keysOf(context);
    const coins: Coin[] = [
      { index: 0, sats: 250_000n },
      { index: 7, sats: 1_234_567n, vout: 2, salt: 1 },
      { index: 7, sats: 99_999n, vout: 1, salt: 2, wholeTx: true },
      { index: 3, sats: 50_000n, salt: 3 },
    ];
    const psbt = await signedBy(spendPsbt(keys, coins), context, owner, guardian);
    const known = (i: number) => vaultRoleKeys(keys, coins[i]!.index, net);
    const said = psbtInputSigners(psbt, known);
    expect(said.map((s) => s.signedBy)).toEqual(coins.map(() => ['owner', 'guardian']));
    expect(said.every((s) => s.invalidSignatures === 0)).toBe(true);

    // Another amount for input 1: its signatures are for a coin it does not spend.
    const otherAmount = psbt.clone();
    otherAmount.data.inputs[1]!.witnessUtxo = {
      script: otherAmount.data.inputs[1]!.witnessUtxo!.script,
      value: 1_234_568n,
    };
    expect(psbtInputSigners(otherAmount, known).map((s) => s.invalidSignatures)).toEqual([
      0, 2, 0, 0,
    ]);
    // Another vault's script for input 3: not the script its coin commits to.
    const otherScript = psbt.clone();
    otherScript.data.inputs[3]!.witnessScript = vaultScript(keys, 4, net).witnessScript;
    const wrong = psbtInputSigners(otherScript, known)[3]!;
    expect(wrong).toMatchObject({ signedBy: [], invalidSignatures: 2 });

    // Finalized, the same signatures are read from the witnesses.
    psbt.finalizeAllInputs();
    expect(psbtInputSigners(psbt, known).map((s) => s.signedBy)).toEqual(
      coins.map(() => ['owner', 'guardian']),
    );
  });
});

describe('psbtSigners', () => {
  it("uses the keys of the vault the node finds at the input's address, else the PSBT's derivations against the fallback's roles", async () => {
    const context = await contextOf(owner);
    const keys = keysOf(context);
    const psbt = await signedBy(vaultPsbt(keys, 4), context, owner, protocol);
    const address = vaultScript(keys, 4, net).address;
    const asked: string[] = [];
    const found = await psbtSigners(psbt, net, {
      vaultAt: async (a) => {
        asked.push(a);
        return a === address ? { keys, index: 4 } : undefined;
      },
    });
    expect(asked).toEqual([address]);
    expect(found.map((s) => s.signedBy)).toEqual([['owner', 'protocol']]);
    // Not the caller's vault: the derivations, with only the roles the caller may see.
    const notFound = async () => undefined;
    const fallback = await psbtSigners(psbt, net, {
      vaultAt: notFound,
      fallback: { keys, roles: ['protocol', 'guardian'] },
    });
    expect(fallback.map((s) => s.signedBy)).toEqual([['protocol', 'unknown']]);
    // Nothing known: the signatures are still counted, each an unknown key's.
    const nothing = await psbtSigners(psbt, net, { vaultAt: notFound });
    expect(nothing.map((s) => s.signedBy)).toEqual([['unknown', 'unknown']]);
  });
});
