/**
 * Device answers and transport failures → typed errors. Each case replays a device that answers
 * with a given status word or app identity (hand-built RecordStores in the recorded format).
 */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import Transport from '@ledgerhq/hw-transport';
import { Psbt } from 'bitcoinjs-lib';
import type { ErrorCode } from '../../core/errors';
import { network, type NetworkName } from '../../core/config/networks';
import {
  LedgerOwnerSigner,
  MemoryRegistrationStore,
  deviceError,
  openLedgerTransport,
  placeSignatures,
  policyDescriptor,
  statusWordError,
} from '../../core/signers/ledger';
import type { SignerPrompt } from '../../core/signers/types';
import {
  APP_REQUEST,
  appAnswer,
  indexOf,
  loadFlow,
  replay,
  type Exchange,
} from '../fixtures/ledger/recordings';

const flow = loadFlow('with-nonwitness');
const [appExchange, fingerprintExchange] = flow.exchanges as [Exchange, Exchange];

function signerOn(
  transport: Transport,
  net: NetworkName = 'testnet',
  onPrompt?: (p: SignerPrompt) => void,
) {
  return new LedgerOwnerSigner({
    transport,
    network: network(net),
    registrations: new MemoryRegistrationStore(),
    onPrompt,
  });
}

async function failure(
  p: Promise<unknown>,
): Promise<{ code: ErrorCode; message: string; data: Record<string, unknown> }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeDefined();
  return err as { code: ErrorCode; message: string; data: Record<string, unknown> };
}

describe('Ledger status words → typed errors (replayed device answers)', () => {
  const cases: [sw: string, code: ErrorCode, what: string][] = [
    ['6985', 'DEVICE_REJECTED', 'SW_DENY: rejected on the device'],
    ['5501', 'DEVICE_REJECTED', 'USER_REFUSED_ON_DEVICE'],
    ['5515', 'DEVICE_LOCKED', 'LOCKED_DEVICE'],
    ['6982', 'DEVICE_LOCKED', 'SECURITY_STATUS_NOT_SATISFIED (PIN not entered)'],
    ['6e00', 'DEVICE_WRONG_APP', 'CLA_NOT_SUPPORTED'],
    ['6e01', 'DEVICE_WRONG_APP', 'CLA_NOT_SUPPORTED_BOOTLOADER'],
    ['6d00', 'DEVICE_WRONG_APP', 'INS_NOT_SUPPORTED'],
    ['6511', 'DEVICE_WRONG_APP', 'app not open'],
    ['b007', 'DEVICE_ERROR', 'SW_BAD_STATE: unexpected state in the app'],
    ['6a80', 'DEVICE_ERROR', 'SW_INCORRECT_DATA'],
    ['6f42', 'DEVICE_ERROR', 'unknown'],
  ];

  it.each(cases)(
    'replays a device answering the app request with %s → %s (%s)',
    async (sw, code) => {
      const { transport } = await replay([[APP_REQUEST, sw]]);
      const prompts: SignerPrompt[] = [];
      const err = await failure(
        signerOn(transport, 'testnet', (p) => prompts.push(p)).fingerprint(),
      );
      expect(err.code).toBe(code);
      // The status word is kept for the log, never put in the sentence.
      expect(err.data.statusWord).toBe(`0x${sw}`);
      expect(err.message).not.toMatch(new RegExp(sw, 'i'));
      expect(prompts.at(-1)).toMatchObject({ state: 'failed', code });
    },
  );

  it('replays a device answering the fingerprint request (after a good app check) with 0x6985 → DEVICE_REJECTED', async () => {
    const { transport } = await replay([appExchange, [fingerprintExchange[0], '6985']]);
    expect((await failure(signerOn(transport).fingerprint())).code).toBe('DEVICE_REJECTED');
  });

  it('replays a device answering the signing request with 0xB008 while a registration HMAC is sent → DEVICE_HMAC_MISMATCH', async () => {
    const ex = flow.exchanges;
    const signStart = indexOf(ex, 'e104');
    const { transport } = await replay([...ex.slice(0, 3), [ex[signStart]![0], 'b008']]);
    const registrations = new MemoryRegistrationStore();
    const signer = new LedgerOwnerSigner({ transport, network: network('testnet'), registrations });
    await registrations.put({
      fingerprint: flow.result.fingerprint,
      descriptor: policyDescriptor(flow.keys),
      name: flow.inputs.policy.name,
      policyId: flow.result.policyId,
      hmac: flow.result.policyHmac,
    });
    expect((await failure(signer.signPsbt(flow.inputs.psbtBase64, { keys: flow.keys }))).code).toBe(
      'DEVICE_HMAC_MISMATCH',
    );
  });

  it('maps 0xB008 without an HMAC (an unregistered policy) to DEVICE_POLICY_NOT_REGISTERED', () => {
    expect(statusWordError(0xb008, { op: 'sign', hmacSent: false }).code).toBe(
      'DEVICE_POLICY_NOT_REGISTERED',
    );
    expect(statusWordError(0xb008, { op: 'address', hmacSent: true }).code).toBe(
      'DEVICE_HMAC_MISMATCH',
    );
  });
});

describe('Ledger app identity (replayed getAppAndVersion answers)', () => {
  const cases: [name: string, version: string, net: NetworkName, code: ErrorCode | null][] = [
    ['BOLOS', '1.1.2', 'testnet', 'DEVICE_WRONG_APP'],
    ['Ethereum', '1.10.4', 'mainnet', 'DEVICE_WRONG_APP'],
    ['Bitcoin Legacy', '2.2.4', 'mainnet', 'DEVICE_WRONG_APP'],
    ['Bitcoin', '2.4.6', 'testnet', 'DEVICE_WRONG_APP'],
    ['Bitcoin', '2.4.6', 'regtest', 'DEVICE_WRONG_APP'],
    ['Bitcoin Test', '2.4.6', 'mainnet', 'DEVICE_WRONG_APP'],
    ['Bitcoin Test', '2.0.6', 'testnet', 'DEVICE_APP_TOO_OLD'],
    ['Bitcoin', '1.6.5', 'mainnet', 'DEVICE_APP_TOO_OLD'],
    ['Bitcoin', '2.1.0', 'mainnet', null],
    ['Bitcoin Test', '2.4.6', 'signet', null],
  ];

  it.each(cases)(
    'replays a device running %s %s with a %s vault → %s',
    async (name, version, net, code) => {
      const { transport } = await replay([[APP_REQUEST, appAnswer(name, version)]]);
      const result = signerOn(transport, net).appInfo();
      if (code === null) {
        expect(await result).toEqual({ name, version });
      } else {
        expect((await failure(result)).code).toBe(code);
      }
    },
  );

  it('refuses a Ledger that does not hold the vault owner key (SIGNER_REFUSED) before asking it to register', async () => {
    const { transport, store } = await replay([appExchange, fingerprintExchange]);
    const keys = { ...flow.keys, owner: { ...flow.keys.owner, fingerprint: '00000000' } };
    expect((await failure(signerOn(transport).registerVault(keys))).code).toBe('SIGNER_REFUSED');
    store.ensureQueueEmpty();
  });
});

/** A transport whose exchanges fail as `fail` says. */
class FailingTransport extends Transport {
  constructor(private readonly fail: () => Promise<Buffer>) {
    super();
  }
  override exchange(): Promise<Buffer> {
    return this.fail();
  }
}

const named = (name: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(name), { name, ...extra });

describe('Ledger transport failures → typed errors', () => {
  it.each([
    ['DisconnectedDeviceDuringOperation', 'DEVICE_NOT_FOUND'],
    ['DisconnectedDevice', 'DEVICE_NOT_FOUND'],
    ['TransportExchangeTimeoutError', 'DEVICE_TIMEOUT'],
    ['TransportRaceCondition', 'DEVICE_ERROR'],
  ] as const)('a transport throwing %s → %s', async (name, code) => {
    const transport = new FailingTransport(() => Promise.reject(named(name)));
    expect((await failure(signerOn(transport).fingerprint())).code).toBe(code);
  });

  it('a device that never answers a non-interactive request → DEVICE_TIMEOUT', async () => {
    const transport = new FailingTransport(() => new Promise<Buffer>(() => {}));
    const signer = new LedgerOwnerSigner({
      transport,
      network: network('testnet'),
      registrations: new MemoryRegistrationStore(),
      responseTimeoutMs: 20,
    });
    expect((await failure(signer.appInfo())).code).toBe('DEVICE_TIMEOUT');
  });

  it('maps "no device" from the USB transport to DEVICE_NOT_FOUND with what to do', () => {
    const err = deviceError(named('TransportError', { id: 'NoDevice' }), { op: 'open' });
    expect(err.code).toBe('DEVICE_NOT_FOUND');
    expect(err.message).toMatch(/connect/i);
  });

  it('opening Speculos on a port nobody listens on → DEVICE_NOT_FOUND', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const err = await failure(
      openLedgerTransport({ kind: 'speculos', apiPort: port, baseURL: 'http://127.0.0.1' }),
    );
    expect(err.code).toBe('DEVICE_NOT_FOUND');
    expect(err.message).toMatch(/Speculos/);
  });
});

describe('placing device signatures', () => {
  it('refuses a recorded signature that was altered (it no longer verifies) and leaves the PSBT untouched', () => {
    const psbt = Psbt.fromBase64(flow.inputs.psbtBase64);
    const { pubkey, signature } = flow.result.signatures[0]!;
    const bad = Buffer.from(signature, 'hex');
    bad[10] = bad[10]! ^ 0x01; // inside r: still DER, no longer valid
    expect(() =>
      placeSignatures(
        psbt,
        [{ inputIndex: 0, pubkey: Buffer.from(pubkey, 'hex'), signature: bad }],
        flow.result.fingerprint,
      ),
    ).toThrow(expect.objectContaining({ code: 'DEVICE_ERROR' }));
    expect(psbt.data.inputs[0]!.partialSig).toBeUndefined();
  });

  it('refuses a signature by a key that is not the owner key of the input', () => {
    const psbt = Psbt.fromBase64(flow.inputs.psbtBase64);
    const { signature } = flow.result.signatures[0]!;
    const otherKey = psbt.data.inputs[0]!.bip32Derivation!.find(
      (d) => Buffer.from(d.masterFingerprint).toString('hex') !== flow.result.fingerprint,
    )!;
    expect(() =>
      placeSignatures(
        psbt,
        [{ inputIndex: 0, pubkey: otherKey.pubkey, signature: Buffer.from(signature, 'hex') }],
        flow.result.fingerprint,
      ),
    ).toThrow(expect.objectContaining({ code: 'DEVICE_ERROR' }));
  });
});
