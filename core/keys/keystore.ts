/**
 * Secrets at rest: the node's protocol seed per network, and on regtest the software owner
 * mnemonic and software guardian seed (SPEC §4). The core asks for a secret by name through
 * `KeyStore`; how it is protected (a passphrase, Electron safeStorage) is the store's business.
 */
import { BitStableError } from '../errors';

/** Where the node keeps its secrets. Every method is async so that a store may do real I/O. */
export interface KeyStore {
  /** True when a secret is stored under `name`. */
  has(name: string): Promise<boolean>;
  /** The secret stored under `name` (a fresh copy the caller may wipe); KEYSTORE_ERROR if none. */
  get(name: string): Promise<Uint8Array>;
  /**
   * Stores a new secret. Refuses (KEYSTORE_ERROR, `data.reason: 'exists'`) when one is already
   * stored under `name`: losing a seed loses the coins behind it, so replacing one takes an
   * explicit `delete` first.
   */
  put(name: string, secret: Uint8Array): Promise<void>;
  /** Removes the secret stored under `name`; nothing happens when there is none. */
  delete(name: string): Promise<void>;
}

/**
 * Turns a secret into bytes safe to write to disk and back. A file store is a directory plus one
 * of these, so Electron's safeStorage (encrypt/decrypt of a Buffer) needs only this adapter.
 * `name` is the secret's name, to bind the ciphertext to it where the cipher can (AES-GCM's
 * associated data), so that swapping two key files is detected; a cipher may ignore it.
 */
export interface SecretCipher {
  seal(secret: Uint8Array, name: string): Promise<Uint8Array>;
  /** Throws KEYSTORE_ERROR when the bytes were not sealed by this cipher or were changed. */
  open(sealed: Uint8Array, name: string): Promise<Uint8Array>;
}

/** Why a key store refused, in `error.data.reason`. */
export type KeyStoreFailure = 'exists' | 'missing' | 'decrypt' | 'io';

/** A KEYSTORE_ERROR that never carries the secret, only its name and the reason. */
export function keyStoreError(
  reason: KeyStoreFailure,
  name: string,
  message: string,
  cause?: unknown,
): BitStableError {
  return new BitStableError('KEYSTORE_ERROR', message, { name, reason }, { cause });
}

/** True when `err` is the key store's refusal to overwrite an existing secret. */
export function isSecretExists(err: unknown): boolean {
  return (
    err instanceof BitStableError && err.code === 'KEYSTORE_ERROR' && err.data.reason === 'exists'
  );
}

// Names become file names: a strict alphabet keeps them inside the store's directory.
const NAME = /^[a-z0-9][a-z0-9._-]{0,99}$/;

/** Returns `name` if it is a valid secret name (lowercase letters, digits, `.`, `_`, `-`). */
export function checkSecretName(name: string): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new BitStableError(
      'INVALID_ARGUMENT',
      'A secret name uses lowercase letters, digits, ".", "_" and "-", and starts with a letter or digit.',
      { name: String(name).slice(0, 100) },
    );
  }
  return name;
}

/** Refuses an empty secret: storing nothing is always a bug upstream. */
export function checkSecret(name: string, secret: Uint8Array): void {
  if (!(secret instanceof Uint8Array) || secret.length === 0) {
    throw new BitStableError('INVALID_ARGUMENT', `The secret "${name}" is empty.`, { name });
  }
}

/** Keeps secrets in memory only (tests, and throwaway regtest sessions). */
export class InMemoryKeyStore implements KeyStore {
  readonly #secrets = new Map<string, Uint8Array>();

  async has(name: string): Promise<boolean> {
    return this.#secrets.has(checkSecretName(name));
  }

  async get(name: string): Promise<Uint8Array> {
    const secret = this.#secrets.get(checkSecretName(name));
    if (!secret) throw keyStoreError('missing', name, `No secret named "${name}" is stored.`);
    return Uint8Array.from(secret);
  }

  async put(name: string, secret: Uint8Array): Promise<void> {
    checkSecretName(name);
    checkSecret(name, secret);
    if (this.#secrets.has(name)) throw existsError(name);
    this.#secrets.set(name, Uint8Array.from(secret));
  }

  async delete(name: string): Promise<void> {
    this.#secrets.get(checkSecretName(name))?.fill(0);
    this.#secrets.delete(name);
  }
}

/** The refusal to overwrite, worded once for every store. */
export function existsError(name: string): BitStableError {
  return keyStoreError(
    'exists',
    name,
    `A secret named "${name}" is already stored; BitStable never overwrites one. Delete it first if you really mean to replace it.`,
  );
}
