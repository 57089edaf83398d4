/**
 * A key held in software as a Signer: the node's protocol key everywhere, and on regtest the
 * stand-in owner and guardian keys (SPEC §4). It signs only vault inputs (P2WSH, SIGHASH_ALL)
 * whose BIP32 derivation names this key inside its own BIP48 account, and verifies each
 * signature before returning. It checks no policy: the protocol's rules (SPEC §10) wrap it.
 */
import type { BIP32Interface } from 'bip32';
import { Transaction, type Psbt } from 'bitcoinjs-lib';
import type { KeyOrigin } from '../bitcoin/keys';
import type { NetworkInfo } from '../config/networks';
import { BitStableError } from '../errors';
import {
  childOfAccount,
  decodePsbt,
  derivationsOf,
  sameBytes,
  verifyEcdsa,
} from '../keys/psbt-keys';
import {
  accountOf,
  checkSoftwareKeyAllowed,
  rootOf,
  type SoftwareKeyOptions,
  type SoftwareSecret,
} from '../keys/software-key';
import type { SignContext, Signer, SignerRole } from './types';

/** How each software key is named in the UI. */
export const SOFTWARE_SIGNER_LABELS: Record<SignerRole, string> = {
  owner: 'Software owner key (regtest only — not secure)',
  protocol: 'Protocol key (software, held by this node)',
  guardian: 'Software guardian key (regtest only — not secure)',
};

/** What a software signer is made of. */
export interface SoftwareSignerOptions extends SoftwareKeyOptions {
  role: SignerRole;
  network: NetworkInfo;
  secret: SoftwareSecret;
}

const refuse = (message: string, data: Record<string, unknown> = {}) =>
  new BitStableError('SIGNER_REFUSED', message, data);
const invalid = (message: string, data: Record<string, unknown>, cause?: unknown) =>
  new BitStableError('PSBT_INVALID', message, data, { cause });

/** One key of a vault set, held in this process. */
export class SoftwareSigner implements Signer {
  readonly kind = 'software' as const;
  readonly role: SignerRole;
  readonly label: string;
  readonly network: NetworkInfo;
  // Private fields: the keys never show in console.log, util.inspect or JSON.stringify.
  readonly #account: BIP32Interface;
  readonly #origin: KeyOrigin;

  /** Refuses an owner or guardian key outside regtest (WRONG_NETWORK); see checkSoftwareKeyAllowed. */
  constructor(options: SoftwareSignerOptions) {
    checkSoftwareKeyAllowed(options.role, options.network, options);
    this.role = options.role;
    this.network = options.network;
    this.label = SOFTWARE_SIGNER_LABELS[options.role];
    const root = rootOf(options.secret, options.network);
    const { fingerprint, path, xpub } = accountOf(root, options.network);
    this.#origin = { fingerprint, path, xpub };
    // Only the account's private node is kept; the root is not needed past this point.
    this.#account = root.derivePath(path);
  }

  async fingerprint(): Promise<string> {
    return this.#origin.fingerprint;
  }

  async accountKey(): Promise<KeyOrigin> {
    return { ...this.#origin };
  }

  /**
   * Adds this key's signature (SIGHASH_ALL) to every input whose derivations name it, verified.
   * SIGNER_REFUSED when the PSBT has nothing for this key or is for another vault set;
   * PSBT_INVALID when a derivation or input is wrong (then nothing is signed).
   */
  async signPsbt(psbtBase64: string, context: SignContext): Promise<string> {
    this.checkContext(context);
    const psbt = decodePsbt(psbtBase64, this.network.bitcoinjs);
    // Every input of a vault names the same child path: derive each once per PSBT.
    const children = new Map<string, ReturnType<typeof childOfAccount>>();
    const childAt = (path: string) => {
      if (!children.has(path))
        children.set(path, childOfAccount(this.#account, this.#origin.path, path));
      return children.get(path)!;
    };
    let ours = 0;
    psbt.data.inputs.forEach((_, i) => {
      ours += this.signInput(psbt, i, childAt);
    });
    if (ours === 0) {
      throw refuse(`The PSBT has no input for the ${this.role} key ${this.#origin.fingerprint}.`, {
        role: this.role,
        fingerprint: this.#origin.fingerprint,
      });
    }
    return psbt.toBase64();
  }

  /** Signs input `i` for each of this key's derivations in it; returns how many it names. */
  private signInput(
    psbt: Psbt,
    i: number,
    childAt: (path: string) => ReturnType<typeof childOfAccount>,
  ): number {
    const input = psbt.data.inputs[i]!;
    const derivations = derivationsOf(input, this.#origin.fingerprint);
    for (const d of derivations) {
      const child = childAt(d.path);
      if (!child) {
        throw invalid(
          `Input ${i} asks the ${this.role} key to sign at ${d.path}, outside its account ${this.#origin.path}.`,
          { input: i, path: d.path },
        );
      }
      if (!sameBytes(child.publicKey, d.pubkey)) {
        throw invalid(
          `Input ${i} names the ${this.role} key's fingerprint with a public key that is not its key at ${d.path}.`,
          { input: i, path: d.path },
        );
      }
      // Already finalized, or already signed by this key: signing again adds nothing.
      if (input.finalScriptWitness || input.finalScriptSig) continue;
      if (input.partialSig?.some((p) => sameBytes(p.pubkey, child.publicKey))) continue;
      this.checkVaultInput(psbt, i);
      try {
        psbt.signInput(i, child, [Transaction.SIGHASH_ALL]);
      } catch (err) {
        throw invalid(
          `Input ${i} cannot be signed by the ${this.role} key: ${(err as Error).message}.`,
          { input: i },
          err,
        );
      }
      if (!psbt.validateSignaturesOfInput(i, verifyEcdsa, child.publicKey)) {
        throw new BitStableError('INTERNAL', `The signature made for input ${i} does not verify.`, {
          input: i,
        });
      }
    }
    return derivations.length;
  }

  /** Vault inputs are P2WSH with their amount, signed SIGHASH_ALL; nothing else is signed. */
  private checkVaultInput(psbt: Psbt, i: number): void {
    const input = psbt.data.inputs[i]!;
    if (!input.witnessScript) {
      throw invalid(
        `Input ${i} has no witnessScript; BitStable keys sign only vault (P2WSH) inputs.`,
        { input: i },
      );
    }
    if (!input.witnessUtxo && !input.nonWitnessUtxo) {
      throw invalid(`Input ${i} does not say what it spends (no witnessUtxo).`, { input: i });
    }
    if (input.sighashType !== undefined && input.sighashType !== Transaction.SIGHASH_ALL) {
      throw invalid(`Input ${i} asks for sighash type ${input.sighashType}; only ALL is signed.`, {
        input: i,
        sighashType: input.sighashType,
      });
    }
  }

  /** The PSBT must be for a vault set whose key in this role is this key. */
  private checkContext(context: SignContext): void {
    const expected = context?.keys?.[this.role];
    if (!expected) return;
    if (
      expected.fingerprint.toLowerCase() !== this.#origin.fingerprint ||
      expected.xpub !== this.#origin.xpub
    ) {
      throw refuse(
        `This PSBT is for a vault set whose ${this.role} key is ${expected.fingerprint}, not this key (${this.#origin.fingerprint}).`,
        { role: this.role, expected: expected.fingerprint, fingerprint: this.#origin.fingerprint },
      );
    }
  }

  toJSON(): Record<string, string> {
    return { kind: this.kind, role: this.role, label: this.label, ...this.#origin };
  }

  toString(): string {
    return `${this.label} [${this.#origin.fingerprint}]`;
  }
}
