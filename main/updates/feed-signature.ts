/**
 * Detached Ed25519 signatures over an update feed (latest.yml, latest-mac.yml, latest-linux.yml).
 *
 * electron-updater trusts the feed's sha512 and, on Linux, nothing else: whoever can change the
 * feed on the release host can ship any AppImage. So every feed gets a `<feed>.sig` beside it,
 * signed offline by the release key; the app ships the public half (public-key.ts) and refuses a
 * feed whose signature does not verify.
 *
 * The signed message is domain-separated, names the feed file and says until when it holds, so a
 * signature cannot be replayed onto another platform's feed, reused by another protocol, or
 * served forever by a frozen or replaying mirror:
 *   "bitstable-update-feed/v2\n" + fileName + "\n" + expires (ISO 8601 UTC) + "\n" + feed bytes
 *
 * node:crypto only (Ed25519 from OpenSSL); no third-party code handles the key.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { z } from 'zod';

export const SIGNATURE_FORMAT = 'bitstable-feed-signature';
export const SIGNATURE_VERSION = 2;
const DOMAIN = 'bitstable-update-feed/v2';
/** How long a signed feed holds unless the release says otherwise: the feed is re-signed sooner. */
export const DEFAULT_FEED_VALIDITY_DAYS = 30;

/** The `.sig` file: JSON, one signature. */
export const signatureFileSchema = z.strictObject({
  format: z.literal(SIGNATURE_FORMAT),
  version: z.literal(SIGNATURE_VERSION),
  algorithm: z.literal('ed25519'),
  /** The feed file's name, e.g. latest-linux.yml. */
  file: z.string().min(1).max(200),
  /** keyIdOf(public key): which shipped key to verify with. */
  keyId: z.string().regex(/^[0-9a-f]{16}$/),
  /** Until when the signed feed may be believed (ISO 8601, UTC); it is signed with the feed. */
  expires: z.iso.datetime(),
  /** 64 bytes, base64. */
  signature: z.base64().refine((s) => Buffer.from(s, 'base64').length === 64, 'must be 64 bytes'),
});
export type SignatureFile = z.infer<typeof signatureFileSchema>;

/** The bytes that are signed for feed `fileName`, believed until `expires`. */
export function signedMessage(fileName: string, expires: string, feed: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`${DOMAIN}\n${fileName}\n${expires}\n`, 'utf8'), feed]);
}

/** A public key as the app ships it: the raw 32 bytes in base64. */
export function publicKeyFromBase64(raw: string): KeyObject {
  const bytes = Buffer.from(raw, 'base64');
  if (bytes.length !== 32) throw new Error('An Ed25519 public key is 32 bytes (base64).');
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: bytes.toString('base64url') },
    format: 'jwk',
  });
}

/** The raw 32 bytes of an Ed25519 public key, base64. */
export function publicKeyToBase64(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new Error('Not an Ed25519 key.');
  return Buffer.from(jwk.x, 'base64url').toString('base64');
}

/** A short, stable name for a public key: the first 8 bytes of SHA-256 of its raw bytes, hex. */
export function keyIdOf(publicKeyBase64: string): string {
  return createHash('sha256')
    .update(Buffer.from(publicKeyBase64, 'base64'))
    .digest('hex')
    .slice(0, 16);
}

/** Reads a private key (PKCS#8 PEM, as `keygen` writes it); refuses anything but Ed25519. */
export function privateKeyFromPem(pem: string): KeyObject {
  const key = createPrivateKey({ key: pem, format: 'pem' });
  if (key.asymmetricKeyType !== 'ed25519')
    throw new Error('The release signing key must be an Ed25519 key.');
  return key;
}

/** A new release signing key pair: the private key as PKCS#8 PEM, the public key as base64. */
export function generateSigningKeyPair(): {
  privateKeyPem: string;
  publicKey: string;
  keyId: string;
} {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pub = publicKeyToBase64(publicKey);
  return {
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKey: pub,
    keyId: keyIdOf(pub),
  };
}

/** Signs a feed, believed until `expires` (default 30 days from now); returns the `.sig` text. */
export function signFeed(
  fileName: string,
  feed: Uint8Array,
  privateKey: KeyObject,
  expires: Date = new Date(Date.now() + DEFAULT_FEED_VALIDITY_DAYS * 86_400_000),
): string {
  const publicKey = publicKeyToBase64(createPublicKey(privateKey));
  const until = expires.toISOString();
  const file: SignatureFile = {
    format: SIGNATURE_FORMAT,
    version: SIGNATURE_VERSION,
    algorithm: 'ed25519',
    file: fileName,
    keyId: keyIdOf(publicKey),
    expires: until,
    signature: sign(null, signedMessage(fileName, until, feed), privateKey).toString('base64'),
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}

/** Why a signature was refused. */
export type SignatureFailure =
  'malformed' | 'wrong-file' | 'unknown-key' | 'bad-signature' | 'expired';

/**
 * Checks a `.sig` text against the feed bytes and the trusted public keys (base64), and that it
 * has not expired at `now`. Returns the key id that verified, or the reason it did not.
 */
export function checkFeedSignature(
  fileName: string,
  feed: Uint8Array,
  signatureText: string,
  trustedKeys: readonly string[],
  now: number = Date.now(),
): { ok: true; keyId: string } | { ok: false; reason: SignatureFailure; expires?: string } {
  let json: unknown;
  try {
    json = JSON.parse(signatureText);
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const parsed = signatureFileSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: 'malformed' };
  const sig = parsed.data;
  if (sig.file !== fileName) return { ok: false, reason: 'wrong-file' };
  const key = trustedKeys.find((k) => keyIdOf(k) === sig.keyId);
  if (!key) return { ok: false, reason: 'unknown-key' };
  const good = verify(
    null,
    signedMessage(fileName, sig.expires, feed),
    publicKeyFromBase64(key),
    Buffer.from(sig.signature, 'base64'),
  );
  if (!good) return { ok: false, reason: 'bad-signature' };
  // Only a verified date counts: the expiry is part of what was signed.
  if (Date.parse(sig.expires) <= now) return { ok: false, reason: 'expired', expires: sig.expires };
  return { ok: true, keyId: sig.keyId };
}
