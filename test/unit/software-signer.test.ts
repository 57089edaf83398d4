import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import { Psbt, Transaction, payments, script } from 'bitcoinjs-lib';
import { describe, expect, it } from 'vitest';
import { vaultScript, type VaultKeys } from '../../core/bitcoin/descriptor';
import { ecc, parseKey } from '../../core/bitcoin/keys';
import { network, type NetworkInfo } from '../../core/config/networks';
import { SoftwareSigner } from '../../core/signers/software';
import type { SignContext, SignerRole } from '../../core/signers/types';

const regtest = network('regtest');
const mainnet = network('mainnet');
// BIP39 test vector (trezor/python-mnemonic vectors.json): never for real money.
const OWNER_MNEMONIC =
  'letter advice cage absurd amount doctor acoustic avoid letter advice cage absurd amount doctor acoustic avoid letter advice cage absurd amount doctor acoustic bless';
const seedOf = (label: string) => createHash('sha256').update(`bitstable-test-${label}`).digest();
const PREV_VALUE = 100_000n;

function signers(net: NetworkInfo = regtest) {
  return {
    owner: new SoftwareSigner({
      role: 'owner',
      network: net,
      secret: { mnemonic: OWNER_MNEMONIC },
    }),
    protocol: new SoftwareSigner({ role: 'protocol', network: net, secret: { seed: seedOf('p') } }),
    guardian: new SoftwareSigner({ role: 'guardian', network: net, secret: { seed: seedOf('g') } }),
  };
}

async function contextOf(s: Record<SignerRole, SoftwareSigner>): Promise<SignContext> {
  return {
    keys: {
      owner: await s.owner.accountKey(),
      protocol: await s.protocol.accountKey(),
      guardian: await s.guardian.accountKey(),
    },
    purpose: 'Withdraw from vault 3',
  };
}

/** A PSBT spending vault 3's output of a made-up previous transaction, as SPEC §4 builds them. */
function vaultPsbt(context: SignContext, net: NetworkInfo = regtest, index = 3) {
  const keys = {
    owner: parseKey(context.keys.owner, net),
    protocol: parseKey(context.keys.protocol, net),
    guardian: parseKey(context.keys.guardian, net),
  } satisfies VaultKeys;
  const vault = vaultScript(keys, index, net);
  const prev = new Transaction();
  prev.version = 2;
  prev.addInput(new Uint8Array(32).fill(7), 0);
  prev.addOutput(vault.outputScript, PREV_VALUE);
  const psbt = new Psbt({ network: net.bitcoinjs });
  psbt.addInput({
    hash: prev.getId(),
    index: 0,
    nonWitnessUtxo: prev.toBuffer(),
    witnessUtxo: { script: vault.outputScript, value: PREV_VALUE },
    witnessScript: vault.witnessScript,
    bip32Derivation: vault.derivations.map((d) => ({
      masterFingerprint: Buffer.from(d.fingerprint, 'hex'),
      path: d.path,
      pubkey: d.pubkey,
    })),
  });
  const to = payments.p2wpkh({ hash: new Uint8Array(20).fill(1), network: net.bitcoinjs });
  psbt.addOutput({ script: to.output!, value: 90_000n });
  return { psbt: psbt.toBase64(), vault };
}

/** Checks the final witness independently of bitcoinjs' finalizer: each signature verifies. */
function expectValidSpend(tx: Transaction, witnessScript: Uint8Array, pubkeys: Uint8Array[]) {
  const [dummy, sigA, sigB, ws] = tx.ins[0]!.witness;
  expect(tx.ins[0]!.witness).toHaveLength(4);
  expect(dummy).toHaveLength(0);
  expect(Buffer.from(ws!)).toEqual(Buffer.from(witnessScript));
  for (const raw of [sigA!, sigB!]) {
    const sig = script.signature.decode(raw);
    expect(sig.hashType).toBe(Transaction.SIGHASH_ALL);
    const hash = tx.hashForWitnessV0(0, witnessScript, PREV_VALUE, sig.hashType);
    expect(pubkeys.some((pk) => ecc.verify(hash, pk, sig.signature))).toBe(true);
  }
}

describe('SoftwareSigner', () => {
  it.each([
    ['owner', 'protocol'],
    ['protocol', 'guardian'],
    ['owner', 'guardian'],
  ] as const)('%s + %s sign a 2-of-3 P2WSH spend that finalizes into a valid tx', async (a, b) => {
    const s = signers();
    const context = await contextOf(s);
    const { psbt, vault } = vaultPsbt(context);
    const once = await s[a].signPsbt(psbt, context);
    const twice = await s[b].signPsbt(once, context);
    const signed = Psbt.fromBase64(twice);
    expect(signed.data.inputs[0]!.partialSig).toHaveLength(2);
    signed.finalizeAllInputs();
    const tx = signed.extractTransaction();
    const pubkeyOf = (role: SignerRole) => vault.derivations.find((d) => d.role === role)!.pubkey;
    expectValidSpend(tx, vault.witnessScript, [pubkeyOf(a), pubkeyOf(b)]);
  });

  it('reports its account key at BIP48 and signs idempotently', async () => {
    const s = signers();
    const context = await contextOf(s);
    expect(context.keys.owner.path).toBe("m/48'/1'/0'/2'");
    expect(await s.owner.fingerprint()).toBe(context.keys.owner.fingerprint);
    const { psbt } = vaultPsbt(context);
    const once = await s.protocol.signPsbt(psbt, context);
    expect(await s.protocol.signPsbt(once, context)).toBe(once);
  });

  it('refuses a PSBT in which its key has nothing to sign (SIGNER_REFUSED)', async () => {
    const s = signers();
    const context = await contextOf(s);
    const { psbt } = vaultPsbt(context);
    const stranger = new SoftwareSigner({
      role: 'protocol',
      network: regtest,
      secret: { seed: seedOf('stranger') },
    });
    const strangerContext = { keys: { ...context.keys, protocol: await stranger.accountKey() } };
    await expect(stranger.signPsbt(psbt, strangerContext)).rejects.toMatchObject({
      code: 'SIGNER_REFUSED',
    });
    // Asked to sign for a vault set whose protocol key is another key: refused too.
    await expect(stranger.signPsbt(psbt, context)).rejects.toMatchObject({
      code: 'SIGNER_REFUSED',
    });
  });

  it('refuses a derivation whose public key is not its key, or a path outside its account', async () => {
    const s = signers();
    const context = await contextOf(s);
    const { psbt } = vaultPsbt(context);
    const fp = context.keys.protocol.fingerprint;
    const edit = (change: (d: { path: string; pubkey: Uint8Array }) => void) => {
      const p = Psbt.fromBase64(psbt);
      const d = p.data.inputs[0]!.bip32Derivation!.find(
        (x) => Buffer.from(x.masterFingerprint).toString('hex') === fp,
      )!;
      change(d);
      return p.toBase64();
    };
    const otherKey = vaultPsbt(context, regtest, 4).vault.derivations[1]!.pubkey;
    for (const bad of [
      edit((d) => (d.pubkey = otherKey)),
      edit((d) => (d.path = "m/44'/1'/0'/0/3")),
      edit((d) => (d.path = "m/48'/1'/0'/2'/0'/3")),
    ]) {
      await expect(s.protocol.signPsbt(bad, context)).rejects.toMatchObject({
        code: 'PSBT_INVALID',
      });
    }
  });

  it('signs only SIGHASH_ALL vault inputs, and refuses what is not a PSBT', async () => {
    const s = signers();
    const context = await contextOf(s);
    const p = Psbt.fromBase64(vaultPsbt(context).psbt);
    p.updateInput(0, { sighashType: Transaction.SIGHASH_NONE });
    await expect(s.owner.signPsbt(p.toBase64(), context)).rejects.toMatchObject({
      code: 'PSBT_INVALID',
    });
    await expect(s.owner.signPsbt('not a psbt', context)).rejects.toMatchObject({
      code: 'PSBT_INVALID',
    });
  });

  it('refuses an owner or guardian software key on mainnet (WRONG_NETWORK); protocol is fine', () => {
    for (const role of ['owner', 'guardian'] as const) {
      expect(
        () =>
          new SoftwareSigner({
            role,
            network: mainnet,
            secret: { mnemonic: OWNER_MNEMONIC },
            allowTestNetworks: true,
          }),
      ).toThrow(expect.objectContaining({ code: 'WRONG_NETWORK' }));
    }
    const protocol = new SoftwareSigner({
      role: 'protocol',
      network: mainnet,
      secret: { seed: seedOf('p') },
    });
    expect(protocol.kind).toBe('software');
  });

  it('labels the owner key as regtest-only and never shows its secret', async () => {
    const s = signers();
    expect(s.owner.label).toBe('Software owner key (regtest only — not secure)');
    const seedHex = seedOf('p').toString('hex');
    for (const shown of [
      JSON.stringify(s.owner),
      inspect(s.owner, { showHidden: true, depth: 10 }),
      String(s.owner),
      JSON.stringify(s.protocol),
      inspect(s.protocol, { showHidden: true, depth: 10 }),
    ]) {
      expect(shown).not.toContain('letter advice');
      expect(shown).not.toContain(seedHex);
      expect(shown).not.toMatch(/[xt]prv/);
    }
    const err = await s.owner.signPsbt('garbage', await contextOf(s)).catch((e: unknown) => e);
    expect(JSON.stringify((err as { data: unknown }).data)).not.toContain('letter');
  });
});
