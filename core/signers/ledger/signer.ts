/**
 * The owner's Ledger as a Signer, over the Bitcoin app's wallet-policy protocol (ledger-bitcoin's
 * AppClient): the vault set's policy is registered once per device, the owner can check a vault
 * address on the device, and signatures come back verified and placed into the PSBT.
 */
import type Transport from '@ledgerhq/hw-transport';
import { AppClient, type WalletPolicy } from 'ledger-bitcoin';
import { address as bjsAddress, networks } from 'bitcoinjs-lib';
import { BitStableError, isBitStableError } from '../../errors';
import { bip48Path, parseKey, type KeyOrigin } from '../../bitcoin/keys';
import { vaultScript, type VaultKeys } from '../../bitcoin/descriptor';
import type { NetworkInfo } from '../../config/networks';
import type { PromptListener, SignContext, Signer, SignerPrompt, VaultKeyOrigins } from '../types';
import { checkApp, type LedgerAppInfo } from './app';
import { deviceError, type DeviceOp } from './device-errors';
import { decodePsbt, inputsSignableBy, placeSignatures } from './place-signatures';
import { defaultPolicyName, policyDescriptor, vaultWalletPolicy } from './policy';
import * as prompts from './prompts';
import type { LedgerRegistration, RegistrationStore } from './registration-store';

export interface LedgerOwnerSignerOptions {
  /** An open transport (a replayer in tests), used as it is and never reopened. */
  transport?: Transport;
  /**
   * Opens the transport (USB HID or Speculos; see openLedgerTransport) when a request needs the
   * device, and again after the device was lost: the app starts and reads without it.
   */
  openTransport?: () => Promise<Transport>;
  /** Where device failures are logged (the hosts pass their pino logger). */
  logger?: { warn(obj: object, msg: string): void };
  network: NetworkInfo;
  /** Where registrations (policy id and HMAC per device and vault set) are kept. */
  registrations: RegistrationStore;
  /** Receives the instructions to show while the device is in use. */
  onPrompt?: PromptListener;
  /** The account name registered on the device; defaults to defaultPolicyName. */
  policyName?: (keys: VaultKeyOrigins) => string;
  /** Longest wait for an answer that needs no button press (app, fingerprint, xpub); default 15 s. */
  responseTimeoutMs?: number;
}

const originOf = ({ fingerprint, path, xpub }: KeyOrigin): KeyOrigin => ({
  fingerprint,
  path,
  xpub,
});

/** Failures after which the transport is reopened: the device was unplugged, or stopped answering. */
const LOST = new Set(['DEVICE_NOT_FOUND', 'DEVICE_TIMEOUT']);

/** A vault address as BitStable encodes it and as the Ledger showed it (tb1… on regtest). */
export interface VaultAddressCheck {
  address: string;
  deviceAddress: string;
}

/** The owner key of a vault set, held on a Ledger running the Bitcoin app 2.1 or later. */
export class LedgerOwnerSigner implements Signer {
  readonly role = 'owner' as const;
  readonly kind = 'ledger' as const;
  private readonly net: NetworkInfo;
  private readonly store: RegistrationStore;
  private readonly timeoutMs: number;
  private connection?: { transport: Transport; client: AppClient };
  private greeted = false;
  // Who the device is, asked afresh at the start of every request (another Ledger may have been
  // plugged in since); account keys are kept per device fingerprint.
  private app?: LedgerAppInfo;
  private masterFingerprint?: string;
  private readonly xpubs = new Map<string, string>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: LedgerOwnerSignerOptions) {
    if (!options.transport === !options.openTransport)
      throw new BitStableError(
        'INTERNAL',
        'A Ledger signer needs either an open transport or a way to open one.',
        {},
      );
    this.net = options.network;
    this.store = options.registrations;
    this.timeoutMs = options.responseTimeoutMs ?? 15_000;
  }

  /** The running app, checked: the Bitcoin app ≥ 2.1 for this network. */
  appInfo(): Promise<LedgerAppInfo> {
    return this.session('app', () => this.checkedApp());
  }

  /** The device's master key fingerprint. */
  fingerprint(): Promise<string> {
    return this.session('fingerprint', () => this.readFingerprint());
  }

  /**
   * The BIP48 multisig account key m/48'/c'/0'/2' with its origin: the one remembered from the
   * first time (so the app starts and reads without the device, and another Ledger plugged in
   * later does not quietly become the owner), else the device's, remembered from now on.
   */
  async accountKey(): Promise<KeyOrigin> {
    const remembered = await this.store.ownerKey(this.net.name);
    if (remembered) return originOf(parseKey(remembered, this.net));
    return this.session('xpub', async () => {
      const path = bip48Path(this.net);
      const origin = originOf(
        parseKey(
          { fingerprint: await this.readFingerprint(), path, xpub: await this.readXpub(path) },
          this.net,
        ),
      );
      await this.store.rememberOwnerKey(this.net.name, origin);
      return origin;
    });
  }

  /** Registers the vault set's policy on the device unless already registered; returns the registration. */
  registerVault(keys: VaultKeyOrigins): Promise<LedgerRegistration> {
    return this.session(
      'register',
      async () => (await this.registration(this.normalize(keys))).registration,
    );
  }

  /** Whether a registration of the set's policy is kept for the owner key's device; no device request. */
  async isRegistered(keys: VaultKeyOrigins): Promise<boolean> {
    const normal = this.normalize(keys);
    const stored = await this.store.get(normal.owner.fingerprint, policyDescriptor(normal));
    return stored !== undefined;
  }

  /** Derives vault `index`'s address on the device (shown for the owner to check if `display`) and compares it with ours. */
  vaultAddress(
    keys: VaultKeyOrigins,
    index: number,
    { display = true } = {},
  ): Promise<VaultAddressCheck> {
    return this.session('address', async () => {
      const parsed = this.parse(keys);
      const ours = vaultScript(parsed, index, this.net);
      const expected = bjsAddress.fromOutputScript(ours.outputScript, this.deviceNetwork());
      const deviceAddress = await this.withRegistration(parsed, 'address', (policy, hmac) => {
        if (display) this.emit(prompts.addressPrompt(this.net, index, expected));
        return this.client().then((c) => c.getWalletAddress(policy, hmac, 0, index, display));
      });
      if (deviceAddress !== expected) {
        throw new BitStableError(
          'DEVICE_ERROR',
          `The Ledger derived a different address for vault ${index} than BitStable. Do not use either address; check the vault keys.`,
          { index, deviceAddress, expected },
        );
      }
      if (display)
        this.emit(
          prompts.donePrompt('ledger.address', `Vault ${index}'s address was shown on the Ledger.`),
        );
      return { address: ours.address, deviceAddress };
    });
  }

  /** Signs the owner's inputs on the device; returns the PSBT with the verified signatures added. */
  signPsbt(psbtBase64: string, context: SignContext): Promise<string> {
    return this.session('sign', async () => {
      const keys = this.normalize(context.keys);
      const psbt = decodePsbt(psbtBase64);
      const mine = inputsSignableBy(psbt, keys.owner.fingerprint);
      if (mine.length === 0) {
        throw new BitStableError(
          'SIGNER_REFUSED',
          `This PSBT has no input for the owner key [${keys.owner.fingerprint}], so there is nothing for the Ledger to sign.`,
          { fingerprint: keys.owner.fingerprint },
        );
      }
      const unverified = mine.some((i) => !psbt.data.inputs[i]!.nonWitnessUtxo);
      const { outputs, feeSats } = this.shownOutputs(psbt, keys.owner.fingerprint);
      const signatures = await this.withRegistration(keys, 'sign', (policy, hmac) => {
        this.emit(
          prompts.signPrompt(
            this.net,
            context.purpose,
            unverified,
            outputs,
            feeSats,
            context.vaultId,
          ),
        );
        return this.client().then((c) => c.signPsbt(psbtBase64, policy, hmac));
      });
      if (signatures.length === 0) {
        throw new BitStableError(
          'DEVICE_ERROR',
          'The Ledger finished without returning a signature. Nothing was signed.',
          {},
        );
      }
      placeSignatures(
        psbt,
        signatures.map(([inputIndex, s]) => ({
          inputIndex,
          pubkey: s.pubkey,
          signature: s.signature,
          tapleafHash: s.tapleafHash,
        })),
        keys.owner.fingerprint,
      );
      this.emit(
        prompts.donePrompt('ledger.sign', `The Ledger signed ${signatures.length} input(s).`),
      );
      return psbt.toBase64();
    });
  }

  /** The PSBT's outputs as the device shows them, change marked, and the fee (when known). */
  private shownOutputs(
    psbt: ReturnType<typeof decodePsbt>,
    ownerFingerprint: string,
  ): { outputs: prompts.ShownOutput[]; feeSats?: number } {
    const outputs = psbt.txOutputs.map((o, i) => {
      const own = psbt.data.outputs[i]?.bip32Derivation?.find(
        (d) => Buffer.from(d.masterFingerprint).toString('hex') === ownerFingerprint,
      );
      const changeIndex = own ? Number(own.path.split('/').pop()) : undefined;
      return {
        address: bjsAddress.fromOutputScript(o.script, this.deviceNetwork()),
        amountSats: Number(o.value),
        ...(changeIndex === undefined ? {} : { changeIndex }),
      };
    });
    let inSum = 0n;
    for (const input of psbt.data.inputs) {
      if (!input.witnessUtxo) return { outputs };
      inSum += input.witnessUtxo.value;
    }
    const outSum = psbt.txOutputs.reduce((sum, o) => sum + o.value, 0n);
    return { outputs, feeSats: Number(inSum - outSum) };
  }

  /** Closes the connection to the device (the next request opens it again). */
  async close(): Promise<void> {
    const open = this.connection;
    this.connection = undefined;
    this.greeted = false;
    if (open) await open.transport.close();
  }

  // ——— one request at a time, errors typed and reported ———

  private async client(): Promise<AppClient> {
    if (!this.connection) {
      const transport = this.options.transport ?? (await this.options.openTransport!());
      this.connection = { transport, client: new AppClient(transport) };
    }
    return this.connection.client;
  }

  private session<T>(op: DeviceOp, fn: () => Promise<T>): Promise<T> {
    const run = async () => {
      this.app = undefined;
      this.masterFingerprint = undefined;
      try {
        return await fn();
      } catch (err) {
        const typed = deviceError(err, { op });
        this.options.logger?.warn(
          { op, code: typed.code, ...typed.data },
          `Ledger ${op} failed: ${typed.message}`,
        );
        // A device that went away: the transport is dead; the next request opens a new one.
        if (this.options.openTransport && LOST.has(typed.code)) await this.drop();
        this.emit(prompts.failedPrompt(typed));
        throw typed;
      }
    };
    // A Ledger answers one request at a time; queue them instead of racing on the transport.
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async drop(): Promise<void> {
    try {
      await this.close();
    } catch {
      // Closing a transport whose device is gone may fail too; it is dropped either way.
    }
  }

  private emit(prompt: SignerPrompt): void {
    try {
      this.options.onPrompt?.(prompt);
    } catch {
      // A failing listener must not break a signing session.
    }
  }

  private async device<T>(
    op: DeviceOp,
    call: () => Promise<T>,
    hmacSent = false,
    timed = false,
  ): Promise<T> {
    try {
      return await (timed ? this.withTimeout(call()) : call());
    } catch (err) {
      throw deviceError(err, { op, hmacSent });
    }
  }

  private withTimeout<T>(pending: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            Object.assign(new Error(`no answer within ${this.timeoutMs} ms`), {
              name: 'TimeoutTagged',
            }),
          ),
        this.timeoutMs,
      );
    });
    return Promise.race([pending, timeout]).finally(() => clearTimeout(timer)) as Promise<T>;
  }

  // ——— what the device says, asked once per session ———

  private async checkedApp(): Promise<LedgerAppInfo> {
    if (!this.app) {
      // Once per connection: later requests ask silently.
      if (!this.greeted) this.emit(prompts.connectPrompt(this.net));
      this.greeted = true;
      const { name, version } = await this.device(
        'app',
        async () => (await this.client()).getAppAndVersion(),
        false,
        true,
      );
      checkApp({ name, version }, this.net);
      this.app = { name, version };
    }
    return this.app;
  }

  private async readFingerprint(): Promise<string> {
    await this.checkedApp();
    this.masterFingerprint ??= await this.device(
      'fingerprint',
      async () => (await this.client()).getMasterFingerprint(),
      false,
      true,
    );
    return this.masterFingerprint;
  }

  private async readXpub(path: string): Promise<string> {
    const at = `${await this.readFingerprint()} ${path}`;
    let xpub = this.xpubs.get(at);
    if (!xpub) {
      xpub = await this.device(
        'xpub',
        async () => (await this.client()).getExtendedPubkey(path, false),
        false,
        true,
      );
      this.xpubs.set(at, xpub);
    }
    return xpub;
  }

  // ——— vault keys and registration ———

  private parse(keys: VaultKeyOrigins): VaultKeys {
    return {
      owner: parseKey(keys.owner, this.net),
      protocol: parseKey(keys.protocol, this.net),
      guardian: parseKey(keys.guardian, this.net),
    };
  }

  /** Validated keys in canonical form (lowercase fingerprint, ' for hardened), so policy ids are stable. */
  private normalize(keys: VaultKeyOrigins): VaultKeyOrigins {
    const p = this.parse(keys);
    return {
      owner: originOf(p.owner),
      protocol: originOf(p.protocol),
      guardian: originOf(p.guardian),
    };
  }

  private deviceNetwork() {
    // The Bitcoin Test app encodes every test network as testnet (tb1…, tpub).
    return this.net.name === 'mainnet' ? networks.bitcoin : networks.testnet;
  }

  /** Refuses a Ledger that does not hold the vault set's owner key. */
  private async checkOwner(keys: VaultKeyOrigins): Promise<string> {
    const fingerprint = await this.readFingerprint();
    if (fingerprint !== keys.owner.fingerprint) {
      throw new BitStableError(
        'SIGNER_REFUSED',
        `This Ledger (key fingerprint ${fingerprint}) does not hold this vault's owner key (${keys.owner.fingerprint}). Connect the Ledger you set the vault up with.`,
        { device: fingerprint, owner: keys.owner.fingerprint },
      );
    }
    const xpub = await this.readXpub(keys.owner.path);
    if (xpub !== keys.owner.xpub) {
      throw new BitStableError(
        'SIGNER_REFUSED',
        `This Ledger has the owner's fingerprint but a different account key at ${keys.owner.path} (a passphrase or another account?). Connect the Ledger as you set the vault up.`,
        { path: keys.owner.path },
      );
    }
    return fingerprint;
  }

  private async registration(
    keys: VaultKeyOrigins,
  ): Promise<{ registration: LedgerRegistration; policy: WalletPolicy }> {
    const fingerprint = await this.checkOwner(keys);
    const descriptor = policyDescriptor(keys);
    const stored = await this.store.get(fingerprint, descriptor);
    if (stored) {
      const policy = vaultWalletPolicy(keys, stored.name);
      if (policy.getId().toString('hex') === stored.policyId)
        return { registration: stored, policy };
      // A record that does not match its own policy cannot be used; register afresh.
      await this.store.delete(fingerprint, descriptor);
    }
    const name = (this.options.policyName ?? defaultPolicyName)(keys);
    const policy = vaultWalletPolicy(keys, name);
    this.emit(prompts.registerPrompt(this.net, keys, name));
    const [id, hmac] = await this.device('register', async () =>
      (await this.client()).registerWallet(policy),
    );
    if (!id.equals(policy.getId())) {
      throw new BitStableError(
        'DEVICE_ERROR',
        'The Ledger registered a different policy than the one sent. Nothing was saved.',
        {
          policyId: id.toString('hex'),
        },
      );
    }
    const registration = {
      fingerprint,
      descriptor,
      name,
      policyId: id.toString('hex'),
      hmac: hmac.toString('hex'),
    };
    await this.store.put(registration);
    this.emit(
      prompts.donePrompt('ledger.register', `The vault is registered on this Ledger as "${name}".`),
    );
    return { registration, policy };
  }

  /**
   * Runs a request that needs the registration. If the device rejects the stored HMAC, the
   * registration is dropped so the next attempt registers once more (and only once).
   */
  private async withRegistration<T>(
    keys: VaultKeyOrigins,
    op: DeviceOp,
    call: (policy: WalletPolicy, hmac: Buffer) => Promise<T>,
  ): Promise<T> {
    const { registration, policy } = await this.registration(keys);
    try {
      return await this.device(op, () => call(policy, Buffer.from(registration.hmac, 'hex')), true);
    } catch (err) {
      // The HMAC went only to a device with the registration's fingerprint (asked at the start
      // of this request), so it is that device that no longer knows the registration.
      if (isBitStableError(err, 'DEVICE_HMAC_MISMATCH')) {
        await this.store.delete(registration.fingerprint, registration.descriptor);
        this.options.logger?.warn(
          { fingerprint: registration.fingerprint, policyId: registration.policyId },
          'Ledger rejected the stored registration; it was deleted and will be asked for again',
        );
      }
      throw err;
    }
  }
}
