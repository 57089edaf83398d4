/**
 * Keys at rest on the desktop (SPEC §4): the core's FileKeyStore with a SecretCipher backed by
 * Electron's safeStorage (Keychain on macOS, DPAPI on Windows, libsecret/KWallet on Linux), and
 * the choice of store when the OS has no keychain.
 *
 * Electron is a type here only: safeStorage is passed in, so tests use a fake.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { keyStoreError, type SecretCipher } from '../core/keys/keystore';

/** The parts of Electron's safeStorage the cipher uses. */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
  /** Linux only: which secret store Chromium picked. */
  getSelectedStorageBackend?(): string;
}

/**
 * Linux backends that are not a keychain: `basic_text` encrypts with a key hard-coded in
 * Chromium, which is plaintext with extra steps; `unknown` means none was chosen yet.
 */
const WEAK_LINUX_BACKENDS = new Set(['basic_text', 'unknown']);

/** Whether safeStorage protects secrets with the OS keychain here, and if not, why. */
export function safeStorageStatus(
  safeStorage: SafeStorageLike,
  platform: NodeJS.Platform,
): { available: true; backend: string } | { available: false; reason: string } {
  if (!safeStorage.isEncryptionAvailable()) {
    return { available: false, reason: noKeychainReason(platform) };
  }
  if (platform === 'linux') {
    const backend = safeStorage.getSelectedStorageBackend?.() ?? 'unknown';
    if (WEAK_LINUX_BACKENDS.has(backend))
      return { available: false, reason: noKeychainReason(platform) };
    return { available: true, backend };
  }
  return { available: true, backend: platform === 'darwin' ? 'keychain' : 'dpapi' };
}

function noKeychainReason(platform: NodeJS.Platform): string {
  if (platform === 'linux') {
    return 'This computer has no unlocked keyring (GNOME Keyring or KWallet) for BitStable to keep its keys in.';
  }
  return 'The operating system did not offer BitStable a place to keep its keys encrypted.';
}

const FORMAT = 'bitstable-safestorage';
const VERSION = 1;
const envelopeSchema = z.strictObject({
  format: z.literal(FORMAT),
  version: z.literal(VERSION),
  ciphertext: z.base64(),
});

/**
 * Seals secrets with safeStorage. safeStorage encrypts strings and has no associated data, so the
 * secret's name goes inside the ciphertext and is checked on open: a key file copied over another
 * secret's file is refused instead of silently standing in for it.
 */
export class SafeStorageCipher implements SecretCipher {
  constructor(private readonly safeStorage: SafeStorageLike) {}

  async seal(secret: Uint8Array, name: string): Promise<Uint8Array> {
    if (!this.safeStorage.isEncryptionAvailable()) {
      throw keyStoreError(
        'io',
        name,
        'The OS keychain is not available, so the key cannot be stored.',
      );
    }
    const inner = `${FORMAT}/v${VERSION}\n${name}\n${Buffer.from(secret).toString('base64')}`;
    const ciphertext = this.safeStorage.encryptString(inner);
    const envelope = {
      format: FORMAT,
      version: VERSION,
      ciphertext: ciphertext.toString('base64'),
    };
    return Buffer.from(`${JSON.stringify(envelope, null, 2)}\n`, 'utf8');
  }

  async open(sealed: Uint8Array, name: string): Promise<Uint8Array> {
    let envelope: z.infer<typeof envelopeSchema>;
    try {
      envelope = envelopeSchema.parse(JSON.parse(Buffer.from(sealed).toString('utf8')));
    } catch (err) {
      throw keyStoreError(
        'decrypt',
        name,
        `The key file for "${name}" was not written by BitStable's keychain store, or was changed.`,
        err,
      );
    }
    if (!this.safeStorage.isEncryptionAvailable()) {
      throw keyStoreError(
        'decrypt',
        name,
        'The OS keychain is locked or not available, so the key cannot be read. Unlock it and restart BitStable.',
      );
    }
    let inner: string;
    try {
      inner = this.safeStorage.decryptString(Buffer.from(envelope.ciphertext, 'base64'));
    } catch (err) {
      throw keyStoreError(
        'decrypt',
        name,
        `The OS keychain could not decrypt the key "${name}": it was sealed by another user or computer, or the file was changed.`,
        err,
      );
    }
    const [header, storedName, b64, ...rest] = inner.split('\n');
    if (header !== `${FORMAT}/v${VERSION}` || rest.length > 0 || b64 === undefined) {
      throw keyStoreError('decrypt', name, `The key file for "${name}" is damaged.`);
    }
    if (storedName !== name) {
      throw keyStoreError(
        'decrypt',
        name,
        `The key file for "${name}" holds another key ("${String(storedName).slice(0, 100)}").`,
      );
    }
    return new Uint8Array(Buffer.from(b64, 'base64'));
  }

  toJSON(): string {
    return 'SafeStorageCipher';
  }
}

/** Where each kind of store keeps its files, under the network's data folder. */
export const KEY_DIRS = {
  /** Same folder and format as the headless host, so a passphrase store moves between the two. */
  passphrase: 'keys',
  safeStorage: 'keys-keychain',
} as const;

/** What is known when the app picks its key store. */
export interface KeyStoreSituation {
  network: string;
  keychain: { available: true } | { available: false; reason: string };
  /** Secrets already stored by each kind of store (sticky: a store in use is never switched). */
  existing: { safeStorage: boolean; passphrase: boolean };
  /** BITSTABLE_PASSPHRASE: the user opted into a passphrase store. */
  passphrase?: string | undefined;
}

export type KeyStoreChoice =
  | { kind: 'safeStorage' }
  | { kind: 'passphrase'; passphrase: string }
  /** Regtest without a keychain: a generated passphrase in a 0600 file, like the headless host. */
  | { kind: 'regtest-generated-passphrase' }
  | { kind: 'refuse'; message: string };

/**
 * Picks the key store. The one already holding keys wins (switching would mint a new protocol
 * key and orphan every vault). A fresh install uses the OS keychain; without one, a passphrase
 * the user set (BITSTABLE_PASSPHRASE); on regtest, whose coins are worthless, a generated one;
 * elsewhere BitStable refuses rather than keep keys in plaintext.
 */
export function chooseKeyStore(s: KeyStoreSituation): KeyStoreChoice {
  if (s.existing.safeStorage) {
    if (s.keychain.available) return { kind: 'safeStorage' };
    return {
      kind: 'refuse',
      message: `BitStable's keys are sealed with this computer's keychain, which is not available now. ${s.keychain.reason} Unlock or start it, then restart BitStable.`,
    };
  }
  if (s.existing.passphrase) {
    if (s.passphrase) return { kind: 'passphrase', passphrase: s.passphrase };
    if (s.network === 'regtest') return { kind: 'regtest-generated-passphrase' };
    return {
      kind: 'refuse',
      message: `BitStable's keys are sealed with a passphrase. ${PASSPHRASE_HOWTO}`,
    };
  }
  if (s.keychain.available) return { kind: 'safeStorage' };
  if (s.passphrase) return { kind: 'passphrase', passphrase: s.passphrase };
  if (s.network === 'regtest') return { kind: 'regtest-generated-passphrase' };
  return {
    kind: 'refuse',
    message: `${s.keychain.reason} BitStable will not keep keys unencrypted. ${PASSPHRASE_HOWTO} Or install and unlock GNOME Keyring or KWallet.`,
  };
}

const PASSPHRASE_HOWTO =
  'To use a passphrase instead, quit BitStable and start it with BITSTABLE_PASSPHRASE set to a passphrase you keep safe (it encrypts the keys with scrypt and AES-256-GCM).';

/** True when `dir` holds at least one stored secret. */
export async function hasSecrets(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).some((f) => f.endsWith('.secret') && !f.startsWith('.'));
  } catch {
    return false;
  }
}

/** The key folders of one network. */
export function keyDirs(
  dataDir: string,
  network: string,
): { safeStorage: string; passphrase: string } {
  return {
    safeStorage: join(dataDir, network, KEY_DIRS.safeStorage),
    passphrase: join(dataDir, network, KEY_DIRS.passphrase),
  };
}
