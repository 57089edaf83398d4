/**
 * The owner's Ledger signer against real device answers: APDU exchanges recorded from the
 * Bitcoin Test app 2.4.6 on an emulated Nano S+ (../shared/ledger), replayed byte for byte.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Psbt, address, networks } from 'bitcoinjs-lib';
import { AppClient } from 'ledger-bitcoin';
import { bip32, ecc } from '../../core/bitcoin/keys';
import { network } from '../../core/config/networks';
import type { SignerPrompt } from '../../core/signers/types';
import {
  LedgerOwnerSigner,
  MemoryRegistrationStore,
  policyDescriptor,
  policyKeys,
  type LedgerRegistration,
} from '../../core/signers/ledger';
import {
  indexOf,
  loadFlow,
  replay,
  type Exchange,
  type Flow,
  type FlowName,
} from '../fixtures/ledger/recordings';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const verify = (pubkey: Uint8Array, hash: Uint8Array, sig: Uint8Array) =>
  ecc.verify(hash, pubkey, sig);

/** Adds cosigner-1's signature (its xprv, derived at the input's bip32Derivation path). */
function cosignAsCosigner1(flow: Flow, psbt: Psbt): void {
  const cosigner = flow.inputs.cosigners[0]!;
  const account = bip32.fromBase58(cosigner.xprv, networks.testnet);
  const derivation = psbt.data.inputs[0]!.bip32Derivation!.find(
    (d) => hex(d.masterFingerprint) === cosigner.fingerprint,
  )!;
  // The derivation path is the account path plus /change/index.
  const child = account.derivePath(derivation.path.slice(cosigner.path.length + 1));
  expect(hex(child.publicKey)).toBe(hex(derivation.pubkey));
  psbt.signInput(0, child);
}

function registrationOf(flow: Flow): LedgerRegistration {
  return {
    fingerprint: flow.result.fingerprint,
    descriptor: policyDescriptor(flow.keys),
    name: flow.inputs.policy.name,
    policyId: flow.result.policyId,
    hmac: flow.result.policyHmac,
  };
}

/** Exchanges `from` up to (not including) `to`, by index. */
const slice = (ex: Exchange[], from: number, to?: number) => ex.slice(from, to);

afterEach(() => {
  vi.restoreAllMocks();
});

describe.each<FlowName>(['with-nonwitness', 'witness-only'])(
  'LedgerOwnerSigner, recorded flow %s',
  (name) => {
    const flow = loadFlow(name);

    it('replays the recorded Nano S+ exchange: app, fingerprint, xpub, registration, address 0 and signature, each request asking the device who it is first; the PSBT finalizes to the recorded txid', async () => {
      const ex = flow.exchanges;
      // Every request starts with the app and the fingerprint (another Ledger may be plugged in
      // by now); the account key is asked once per device.
      const who = slice(ex, 0, 2);
      const { transport, store } = await replay([
        ...slice(ex, 0, 1), // appInfo
        ...who, // fingerprint
        ...slice(ex, 0, 3), // accountKey: app, fingerprint, xpub
        ...who,
        ...slice(ex, indexOf(ex, 'e102'), indexOf(ex, 'e103', 1)), // registerVault
        ...who,
        ...slice(ex, indexOf(ex, 'e103', 1), indexOf(ex, 'e104')), // vaultAddress
        ...who,
        ...slice(ex, indexOf(ex, 'e104')), // signPsbt
      ]);
      const registrations = new MemoryRegistrationStore();
      const prompts: SignerPrompt[] = [];
      const signer = new LedgerOwnerSigner({
        transport,
        network: network('testnet'),
        registrations,
        policyName: () => flow.inputs.policy.name,
        onPrompt: (p) => prompts.push(p),
      });
      // The policy our signer builds is the one the recording registered.
      expect(policyKeys(flow.keys)).toEqual(flow.inputs.policy.keys);

      expect(await signer.appInfo()).toEqual({ name: 'Bitcoin Test', version: '2.4.6' });
      expect(await signer.fingerprint()).toBe(flow.result.fingerprint);
      expect(await signer.accountKey()).toEqual(flow.inputs.device);

      const registration = await signer.registerVault(flow.keys);
      expect(registration.policyId).toBe(flow.result.policyId);
      expect(registration.hmac).toBe(flow.result.policyHmac);
      expect(await registrations.get(flow.result.fingerprint, policyDescriptor(flow.keys))).toEqual(
        registration,
      );

      const shown = await signer.vaultAddress(flow.keys, 0, { display: false });
      expect(shown).toEqual({
        address: flow.result.address0,
        deviceAddress: flow.result.address0,
      });

      const signed = await signer.signPsbt(flow.inputs.psbtBase64, { keys: flow.keys });
      store.ensureQueueEmpty();

      const psbt = Psbt.fromBase64(signed);
      const placed = psbt.data.inputs[0]!.partialSig!.map((p) => ({
        input: 0,
        pubkey: hex(p.pubkey),
        signature: hex(p.signature),
      }));
      expect(placed).toEqual(flow.result.signatures);
      expect(psbt.validateSignaturesOfInput(0, verify)).toBe(true);

      cosignAsCosigner1(flow, psbt);
      psbt.finalizeAllInputs();
      const tx = psbt.extractTransaction();
      expect(tx.getId()).toBe(flow.result.finalTxId);
      expect(tx.toHex()).toBe(flow.result.finalTxHex);

      const codes = prompts.map((p) => `${p.state}:${p.code}`);
      expect(codes).toEqual([
        'pending:ledger.connect',
        'active:ledger.register',
        'done:ledger.register',
        'active:ledger.sign',
        'done:ledger.sign',
      ]);
      // Only the PSBT without previous transactions makes the app warn about unverified inputs.
      const sign = prompts.find((p) => p.code === 'ledger.sign')!;
      expect(sign.level).toBe(name === 'witness-only' ? 'warning' : 'info');
      // The prompt lists the payment as the device shows it (a testnet address).
      const out = Psbt.fromBase64(flow.inputs.psbtBase64).txOutputs[0]!;
      expect(sign.text).toContain(address.fromOutputScript(out.script, networks.testnet));
    });

    it('replays the recorded signing exchange on a second run with the registration already stored, without registering again', async () => {
      const ex = flow.exchanges;
      const signStart = indexOf(ex, 'e104');
      // app, fingerprint, xpub (the owner check), then straight to signing.
      const { transport, store } = await replay([...slice(ex, 0, 3), ...slice(ex, signStart)]);
      const registrations = new MemoryRegistrationStore();
      await registrations.put(registrationOf(flow));
      const register = vi.spyOn(AppClient.prototype, 'registerWallet');
      const signer = new LedgerOwnerSigner({
        transport,
        network: network('testnet'),
        registrations,
      });

      const signed = await signer.signPsbt(flow.inputs.psbtBase64, { keys: flow.keys });
      store.ensureQueueEmpty();
      expect(register).not.toHaveBeenCalled();
      expect(Psbt.fromBase64(signed).data.inputs[0]!.partialSig).toHaveLength(1);
    });
  },
);

describe('LedgerOwnerSigner on regtest, replaying the recorded Bitcoin Test exchange', () => {
  const flow = loadFlow('with-nonwitness');

  it('replays the recorded address request: the device shows tb1…, BitStable shows the same script as bcrt1…', async () => {
    const ex = flow.exchanges;
    // The second GET_WALLET_ADDRESS is ours (the first is inside registerWallet), with its app check.
    const ours = indexOf(ex, 'e103', 1);
    const { transport, store } = await replay([
      ...slice(ex, 0, 3),
      ...slice(ex, ours, indexOf(ex, 'e104')),
    ]);
    const registrations = new MemoryRegistrationStore();
    await registrations.put(registrationOf(flow));
    const signer = new LedgerOwnerSigner({ transport, network: network('regtest'), registrations });

    const { address, deviceAddress } = await signer.vaultAddress(flow.keys, 0, { display: false });
    store.ensureQueueEmpty();
    expect(deviceAddress).toBe(flow.result.address0);
    expect(address.startsWith('bcrt1q')).toBe(true);
    // Same witness program, other human-readable part.
    expect(address.slice('bcrt1q'.length, -6)).toBe(deviceAddress.slice('tb1q'.length, -6));
  });

  it('tells the owner at registration that the Ledger shows tpub keys and tb1 addresses for regtest', async () => {
    const ex = flow.exchanges;
    const { transport } = await replay(slice(ex, 0, indexOf(ex, 'e103', 1)));
    const prompts: SignerPrompt[] = [];
    const signer = new LedgerOwnerSigner({
      transport,
      network: network('regtest'),
      registrations: new MemoryRegistrationStore(),
      policyName: () => flow.inputs.policy.name,
      onPrompt: (p) => prompts.push(p),
    });
    const registration = await signer.registerVault(flow.keys);
    expect(registration.hmac).toBe(flow.result.policyHmac);
    const text = prompts.find((p) => p.code === 'ledger.register')!.text;
    expect(text).toContain('tpub');
    expect(text).toContain('tb1');
    for (const key of flow.inputs.policy.keys) expect(text).toContain(key);
  });
});

describe('LedgerOwnerSigner when the device rejects the stored registration', () => {
  const flow = loadFlow('with-nonwitness');

  it('replays a device that answers the signing request with 0xB008: drops the HMAC, says so, and re-registers exactly once on the next attempt', async () => {
    const ex = flow.exchanges;
    const signStart = indexOf(ex, 'e104');
    const rejected: Exchange = [ex[signStart]![0], 'b008'];
    const { transport, store } = await replay([
      ...slice(ex, 0, 3), // app, fingerprint, xpub
      rejected, // SIGN_PSBT with the stored HMAC → SW_SIGNATURE_FAIL
      ...slice(ex, 0, 2), // the next request: app, fingerprint (the account key is known)
      ...slice(ex, indexOf(ex, 'e102'), indexOf(ex, 'e103', 1)), // registerWallet (and its own address check)
      ...slice(ex, signStart), // SIGN_PSBT again, now accepted
    ]);
    const registrations = new MemoryRegistrationStore();
    await registrations.put(registrationOf(flow));
    const prompts: SignerPrompt[] = [];
    const register = vi.spyOn(AppClient.prototype, 'registerWallet');
    const signer = new LedgerOwnerSigner({
      transport,
      network: network('testnet'),
      registrations,
      policyName: () => flow.inputs.policy.name,
      onPrompt: (p) => prompts.push(p),
    });

    const first = await signer
      .signPsbt(flow.inputs.psbtBase64, { keys: flow.keys })
      .catch((e: unknown) => e);
    expect(first).toMatchObject({ code: 'DEVICE_HMAC_MISMATCH' });
    expect(
      await registrations.get(flow.result.fingerprint, policyDescriptor(flow.keys)),
    ).toBeUndefined();
    expect(prompts.at(-1)).toMatchObject({
      state: 'failed',
      level: 'error',
      code: 'DEVICE_HMAC_MISMATCH',
    });

    const signed = await signer.signPsbt(flow.inputs.psbtBase64, { keys: flow.keys });
    store.ensureQueueEmpty();
    expect(register).toHaveBeenCalledTimes(1);
    expect(
      await registrations.get(flow.result.fingerprint, policyDescriptor(flow.keys)),
    ).toMatchObject({
      hmac: flow.result.policyHmac,
    });
    expect(Psbt.fromBase64(signed).data.inputs[0]!.partialSig).toHaveLength(1);
  });
});

describe('LedgerOwnerSigner device session, replaying the recorded exchanges', () => {
  const flow = loadFlow('with-nonwitness');
  const ex = flow.exchanges;
  const who = slice(ex, 0, 2); // app, fingerprint
  const signing = slice(ex, indexOf(ex, 'e104'));
  /** The fingerprint request answered by a Ledger holding another seed. */
  const otherLedger: Exchange = [ex[1]![0], 'deadbeef9000'];

  it('replays another Ledger plugged in between two signatures: refused in plain words before the registration is sent, which is kept; the right one plugged back signs, no restart', async () => {
    const { transport, store } = await replay([
      ...slice(ex, 0, 3), // app, fingerprint, xpub (the owner check)
      ...signing,
      ...slice(ex, 0, 1),
      otherLedger, // the next request finds another device
      ...who, // and the one after it, the right one again
      ...signing,
    ]);
    const registrations = new MemoryRegistrationStore();
    await registrations.put(registrationOf(flow));
    const signer = new LedgerOwnerSigner({ transport, network: network('testnet'), registrations });

    await signer.signPsbt(flow.inputs.psbtBase64, { keys: flow.keys });
    const refused = await signer
      .signPsbt(flow.inputs.psbtBase64, { keys: flow.keys })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'SIGNER_REFUSED' });
    expect((refused as Error).message).toContain('deadbeef');
    expect((refused as Error).message).toContain('Connect the Ledger you set the vault up with');
    expect(await registrations.get(flow.result.fingerprint, policyDescriptor(flow.keys))).toEqual(
      registrationOf(flow),
    );

    const signed = await signer.signPsbt(flow.inputs.psbtBase64, { keys: flow.keys });
    store.ensureQueueEmpty();
    expect(Psbt.fromBase64(signed).data.inputs[0]!.partialSig).toHaveLength(1);
  });

  it('replays a start without the Ledger: the owner key comes from what was remembered, and the device is not asked', async () => {
    const first = await replay(slice(ex, 0, 3));
    const registrations = new MemoryRegistrationStore();
    const once = new LedgerOwnerSigner({
      transport: first.transport,
      network: network('testnet'),
      registrations,
    });
    expect(await once.accountKey()).toEqual(flow.inputs.device);
    first.store.ensureQueueEmpty();

    // The next start: no device at all (opening it would fail), and the key is known.
    const opened = vi.fn(() => Promise.reject(new Error('no Ledger plugged in')));
    const later = new LedgerOwnerSigner({
      openTransport: opened,
      network: network('testnet'),
      registrations,
    });
    expect(await later.accountKey()).toEqual(flow.inputs.device);
    expect(opened).not.toHaveBeenCalled();
  });

  it('replays a Ledger unplugged while signing: says nothing was signed, logs it, and the next request opens the device again and signs', async () => {
    // The first connection answers who it is, then loses the device at the signature.
    const lost = await replay(slice(ex, 0, 3));
    const exchange = lost.transport.exchange.bind(lost.transport);
    let answered = 0;
    lost.transport.exchange = (apdu: Buffer) => {
      if (answered++ < 3) return exchange(apdu);
      return Promise.reject(
        Object.assign(new Error('Device disconnected'), {
          name: 'DisconnectedDeviceDuringOperation',
        }),
      );
    };
    const again = await replay([...who, ...signing]);
    const connections = [lost.transport, again.transport];
    const openTransport = vi.fn(async () => connections.shift()!);
    const warned: unknown[] = [];
    const prompts: SignerPrompt[] = [];
    const registrations = new MemoryRegistrationStore();
    await registrations.put(registrationOf(flow));
    const signer = new LedgerOwnerSigner({
      openTransport,
      network: network('testnet'),
      registrations,
      logger: { warn: (obj) => warned.push(obj) },
      onPrompt: (p) => prompts.push(p),
    });

    const failed = await signer
      .signPsbt(flow.inputs.psbtBase64, { keys: flow.keys })
      .catch((e: unknown) => e);
    expect(failed).toMatchObject({ code: 'DEVICE_NOT_FOUND' });
    expect((failed as Error).message).toContain('nothing was signed');
    expect(prompts.at(-1)).toMatchObject({ state: 'failed', code: 'DEVICE_NOT_FOUND' });
    expect(warned).toEqual([expect.objectContaining({ op: 'sign', code: 'DEVICE_NOT_FOUND' })]);

    const signed = await signer.signPsbt(flow.inputs.psbtBase64, { keys: flow.keys });
    again.store.ensureQueueEmpty();
    expect(openTransport).toHaveBeenCalledTimes(2);
    expect(Psbt.fromBase64(signed).data.inputs[0]!.partialSig).toHaveLength(1);
  });
});

describe('the signing prompt', () => {
  it('lists each payment as the device shows it with the fee, and change as back to the vault, not shown', async () => {
    const { signPrompt } = await import('../../core/signers/ledger/prompts');
    const prompt = signPrompt(
      network('regtest'),
      'Withdraw from vault 3',
      false,
      [
        { address: 'tb1qpayee', amountSats: 1_000_000 },
        { address: 'tb1qvault', amountSats: 13_990_000, changeIndex: 3 },
      ],
      1_410,
      7,
    );
    expect(prompt.text).toContain('0.01000000 BTC to tb1qpayee; fee 0.00001410 BTC');
    expect(prompt.text).toContain('0.13990000 BTC back to vault #7 (its address #3');
    expect(prompt.text).not.toContain('to tb1qvault');
  });
});
