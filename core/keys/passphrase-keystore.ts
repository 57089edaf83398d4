/**
 * The headless key store (SPEC §4): each secret sealed with AES-256-GCM under a key derived from
 * a passphrase by scrypt, with its own random salt and IV, written as a small JSON file.
 *
 * node:crypto, not a library: it ships scrypt and AES-GCM from OpenSSL, so the passphrase and the
 * seeds are handled by no third-party code and no new dependency needs auditing.
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';
import { z } from 'zod';
import { BitStableError } from '../errors';
import { FileKeyStore } from './file-keystore';
import { keyStoreError, type SecretCipher } from './keystore';

/** scrypt cost parameters; N is a power of two. */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** 2^17 × 8 uses 128 MiB and about 0.4 s per secret here: four times the OWASP floor. */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 17, r: 8, p: 1 };
/** The OWASP floor (2^15), for regtest's worthless keys: the playground starts quickly. */
export const REGTEST_SCRYPT: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };

/** The scrypt cost for new key files on `network`. Files keep the cost they were made with. */
export function scryptFor(network: string): ScryptParams {
  return network === 'regtest' ? REGTEST_SCRYPT : DEFAULT_SCRYPT;
}

const MIN_N = 2 ** 15;
// Bounds what a (changed) file can make us allocate: 128·N·r·p bytes.
const MAX_SCRYPT_BYTES = 512 * 1024 * 1024;
const VERSION = 1;
const SALT_BYTES = 16;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

const WRONG = 'The passphrase is wrong, or the key file was changed.';

const b64 = (bytes: number) =>
  z.base64().refine((s) => Buffer.from(s, 'base64').length === bytes, `must be ${bytes} bytes`);

const scryptParams = z
  .object({
    name: z.literal('scrypt'),
    N: z
      .int()
      .min(MIN_N)
      .refine((n) => (n & (n - 1)) === 0, 'N must be a power of two'),
    r: z.int().min(1).max(32),
    p: z.int().min(1).max(16),
  })
  .refine((k) => 128 * k.N * k.r * k.p <= MAX_SCRYPT_BYTES, 'scrypt parameters too large');

const envelopeSchema = z.object({
  version: z.literal(VERSION),
  cipher: z.literal('aes-256-gcm'),
  kdf: scryptParams,
  salt: b64(SALT_BYTES),
  iv: b64(IV_BYTES),
  tag: b64(TAG_BYTES),
  ciphertext: z.base64(),
});

/** What a passphrase key file holds. */
export type PassphraseEnvelope = z.infer<typeof envelopeSchema>;

// The name is authenticated with the ciphertext, so a file renamed to another secret's name fails.
const aad = (name: string) => Buffer.from(`bitstable-keystore/v${VERSION}/${name}`, 'utf8');

function deriveKey(passphrase: Buffer, salt: Buffer, k: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // Async scrypt runs on the thread pool, keeping the Electron main loop responsive.
    // maxmem: Node's 32 MiB default is exactly 2^15·8·128 and rejects it with the overhead.
    const maxmem = 128 * k.N * k.r * k.p + 32 * 1024 * 1024;
    scrypt(passphrase, salt, KEY_BYTES, { N: k.N, r: k.r, p: k.p, maxmem }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** Seals secrets with a passphrase: scrypt → AES-256-GCM, one fresh salt and IV per secret. */
export class PassphraseCipher implements SecretCipher {
  // A private field: the passphrase never shows in console.log, inspect or JSON.
  readonly #passphrase: Buffer;
  readonly #kdf: ScryptParams;

  constructor(passphrase: string, kdf: ScryptParams = DEFAULT_SCRYPT) {
    if (typeof passphrase !== 'string' || passphrase.length === 0) {
      throw new BitStableError('INVALID_ARGUMENT', 'The key store needs a passphrase.', {});
    }
    const check = scryptParams.safeParse({ name: 'scrypt', ...kdf });
    if (!check.success) {
      throw new BitStableError(
        'INVALID_ARGUMENT',
        'scrypt needs N a power of two of at least 2^15, r and p small positive integers.',
        { N: kdf.N, r: kdf.r, p: kdf.p },
      );
    }
    // NFKC so that the same passphrase typed on another keyboard or OS gives the same bytes.
    this.#passphrase = Buffer.from(passphrase.normalize('NFKC'), 'utf8');
    this.#kdf = { N: kdf.N, r: kdf.r, p: kdf.p };
  }

  async seal(secret: Uint8Array, name: string): Promise<Uint8Array> {
    const salt = randomBytes(SALT_BYTES);
    const iv = randomBytes(IV_BYTES);
    const key = await this.key(salt, this.#kdf, name);
    try {
      const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(aad(name));
      const ciphertext = Buffer.concat([cipher.update(secret), cipher.final()]);
      const envelope: PassphraseEnvelope = {
        version: VERSION,
        cipher: 'aes-256-gcm',
        kdf: { name: 'scrypt', ...this.#kdf },
        salt: salt.toString('base64'),
        iv: iv.toString('base64'),
        tag: cipher.getAuthTag().toString('base64'),
        ciphertext: ciphertext.toString('base64'),
      };
      return Buffer.from(`${JSON.stringify(envelope, null, 2)}\n`, 'utf8');
    } finally {
      key.fill(0);
    }
  }

  async open(sealed: Uint8Array, name: string): Promise<Uint8Array> {
    const envelope = parseEnvelope(sealed, name);
    const key = await this.key(Buffer.from(envelope.salt, 'base64'), envelope.kdf, name);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(envelope.iv, 'base64'), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(aad(name));
      decipher.setAuthTag(Buffer.from(envelope.tag, 'base64'));
      const plain = decipher.update(Buffer.from(envelope.ciphertext, 'base64'));
      // final() checks the tag: a wrong passphrase and a changed byte look the same to GCM.
      const last = decipher.final();
      const secret = new Uint8Array(Buffer.concat([plain, last]));
      plain.fill(0);
      return secret;
    } catch (err) {
      throw keyStoreError('decrypt', name, WRONG, err);
    } finally {
      key.fill(0);
    }
  }

  private async key(salt: Buffer, kdf: ScryptParams, name: string): Promise<Buffer> {
    try {
      return await deriveKey(this.#passphrase, salt, kdf);
    } catch (err) {
      throw keyStoreError('io', name, 'Could not derive the key store key (scrypt failed).', err);
    }
  }

  toJSON(): string {
    return 'PassphraseCipher';
  }
}

function parseEnvelope(sealed: Uint8Array, name: string): PassphraseEnvelope {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(sealed).toString('utf8'));
  } catch (err) {
    throw keyStoreError('decrypt', name, WRONG, err);
  }
  const parsed = envelopeSchema.safeParse(json);
  if (!parsed.success) throw keyStoreError('decrypt', name, WRONG, parsed.error);
  return parsed.data;
}

/** Options of the passphrase key store. */
export interface PassphraseKeyStoreOptions {
  /** scrypt cost for new files; reading accepts what each file says, within bounds. */
  scrypt?: ScryptParams;
}

/** The headless key store: secret files in `dir`, each sealed under `passphrase`. */
export class PassphraseKeyStore extends FileKeyStore {
  constructor(dir: string, passphrase: string, options: PassphraseKeyStoreOptions = {}) {
    super(dir, new PassphraseCipher(passphrase, options.scrypt));
  }
}
