/**
 * One interface for the three key holders of a vault set (owner, protocol, guardian), whatever
 * holds the key: a Ledger, a software key, or a guardian who returns signed PSBT files.
 *
 * Device interaction is reported as small, stateless prompt messages ({state, level, code,
 * text}, in the spirit of Caravan's interaction messages) that the UI shows as instructions.
 */
import type { KeyOrigin } from '../bitcoin/keys';

/** Which of the vault set's three keys a signer holds. */
export type SignerRole = 'owner' | 'protocol' | 'guardian';

/** The account keys of a vault set, with origins, in descriptor order owner, protocol, guardian. */
export type VaultKeyOrigins = Record<SignerRole, KeyOrigin>;

/**
 * Where an interaction stands: `pending` (get ready: connect, unlock, open the app), `active`
 * (the device waits for the person), `done` (finished), `failed` (stopped with an error).
 */
export type PromptState = 'pending' | 'active' | 'done' | 'failed';

/** How the UI should style a prompt. */
export type PromptLevel = 'info' | 'warning' | 'error' | 'success';

/** One instruction for the person holding the device. `code` is stable; `text` is shown as is. */
export interface SignerPrompt {
  state: PromptState;
  level: PromptLevel;
  /** e.g. `ledger.open-app`, `ledger.register`, `ledger.sign`; or an ErrorCode when failed. */
  code: string;
  text: string;
}

/** Receives prompts as the interaction goes; must not throw (errors in it are ignored). */
export type PromptListener = (prompt: SignerPrompt) => void;

/** What a signer needs to know about the PSBT it is asked to sign. */
export interface SignContext {
  /** The vault set the PSBT spends from (a Ledger builds its wallet policy from these). */
  keys: VaultKeyOrigins;
  /** What the signature is for, in words (e.g. "Withdraw from vault 3"), for prompts. */
  purpose?: string;
  /** The vault spent from, so a prompt can name change back to it. */
  vaultId?: number;
}

/** A holder of one key of a vault set. */
export interface Signer {
  readonly role: SignerRole;
  /** What holds the key, so the UI knows whether to expect device prompts. */
  readonly kind: 'ledger' | 'software' | 'file';
  /** The master key fingerprint, 8 lowercase hex digits. */
  fingerprint(): Promise<string>;
  /** The BIP48 account xpub with its origin. */
  accountKey(): Promise<KeyOrigin>;
  /**
   * Signs every input this key can sign; returns the PSBT (base64) with this key's partial
   * signatures added, each verified against its input's sighash. Other fields are kept.
   */
  signPsbt(psbtBase64: string, context: SignContext): Promise<string>;
}

/** An owner's signer with a screen of its own (a Ledger): it registers vault policies and shows addresses. */
export interface DeviceSigner extends Signer {
  readonly kind: 'ledger';
  /** Registers the vault set's policy on the device unless it is registered already. */
  registerVault(keys: VaultKeyOrigins): Promise<unknown>;
  /** Whether a registration of the set's policy is kept for the owner's device (asks no device). */
  isRegistered(keys: VaultKeyOrigins): Promise<boolean>;
  /** Derives vault `index`'s address on the device (shown when `display`), compared with ours. */
  vaultAddress(
    keys: VaultKeyOrigins,
    index: number,
    options?: { display?: boolean },
  ): Promise<{ address: string; deviceAddress: string }>;
}

export const isDeviceSigner = (s: Signer): s is DeviceSigner =>
  s.kind === 'ledger' &&
  typeof (s as Partial<DeviceSigner>).registerVault === 'function' &&
  typeof (s as Partial<DeviceSigner>).isRegistered === 'function' &&
  typeof (s as Partial<DeviceSigner>).vaultAddress === 'function';

/**
 * What asking a key holder for a signature gives: the signed PSBT now, or word that it comes
 * later (a guardian who signs PSBT files elsewhere; an owner on another machine). Callers keep
 * the spend and its coins held until it comes, whoever the signer is.
 */
export type SignOutcome =
  { outcome: 'signed'; psbt: string } | { outcome: 'deferred'; reason: string };

/** A signer that may answer later instead of now. */
export interface DeferringSigner extends Signer {
  requestSignature(psbtBase64: string, context: SignContext): Promise<SignOutcome>;
}

/** Asks `signer` for its signature: signed now, or deferred when the signer signs elsewhere. */
export async function requestSignature(
  signer: Signer,
  psbtBase64: string,
  context: SignContext,
): Promise<SignOutcome> {
  const deferring = signer as Partial<DeferringSigner>;
  if (typeof deferring.requestSignature === 'function') {
    return deferring.requestSignature(psbtBase64, context);
  }
  return { outcome: 'signed', psbt: await signer.signPsbt(psbtBase64, context) };
}
