/**
 * Sign-in by signature (SPEC §3): the node hands out a fresh challenge; the wallet signs, with the
 * account key (BIP340 Schnorr), the tagged hash of `bitstable-login/v1`, the node's id, the
 * origin the wallet itself connected to, and the challenge. The origin is what a relay cannot
 * fake: a node in the middle that passes another node's challenge through gets a signature for
 * its own address, which the real node refuses (as WebAuthn binds a signature to its origin).
 * A challenge is used once, so a signature cannot be replayed.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as ecc from 'tiny-secp256k1';
import { BitStableError } from '../errors';
import { accountIdOf, parseAccountId } from './id';

export const LOGIN_TAG = 'bitstable-login/v1';

/** BIP340 tagged hash: sha256(sha256(tag) ‖ sha256(tag) ‖ data). */
function taggedHash(tag: string, data: Uint8Array): Uint8Array {
  const t = createHash('sha256').update(tag).digest();
  return createHash('sha256').update(t).update(t).update(data).digest();
}

/** What the account key signs to sign in at node `nodeId`, reached at `origin`, with `challenge` (hex). */
export function loginDigest(nodeId: string, challenge: string, origin: string): Uint8Array {
  const node = Buffer.from(nodeId, 'utf8');
  const at = Buffer.from(origin, 'utf8');
  const ch = Buffer.from(challenge, 'hex');
  // Length-prefixed so that no (node id, origin, challenge) can be read as another.
  const len = (b: Buffer) => Buffer.from([b.length >> 8, b.length & 0xff]);
  const data = Buffer.concat([len(node), node, len(at), at, ch]);
  return taggedHash(LOGIN_TAG, data);
}

/** The origin (scheme://host:port) of a URL, as signed in a login. */
export function originOf(url: string): string {
  return new URL(url).origin;
}

/** An account key pair from a 32-byte secret (the wallet side). */
export function accountKey(secret: Uint8Array): { id: string; xOnly: Uint8Array } {
  if (secret.length !== 32 || !ecc.isPrivate(secret)) {
    throw new BitStableError('INVALID_ACCOUNT', 'The stored account key is not a valid key.', {});
  }
  const xOnly = ecc.xOnlyPointFromScalar(secret);
  return { id: accountIdOf(xOnly), xOnly };
}

/** The wallet's signature of a login challenge (hex). */
export function signLogin(
  secret: Uint8Array,
  nodeId: string,
  challenge: string,
  origin: string,
): string {
  return Buffer.from(
    ecc.signSchnorr(loginDigest(nodeId, challenge, origin), secret, randomBytes(32)),
  ).toString('hex');
}

/** True when `signatureHex` is `accountId`'s signature of this node's challenge. */
export function verifyLogin(
  accountId: string,
  nodeId: string,
  challenge: string,
  signatureHex: string,
  origin: string,
): boolean {
  const xOnly = parseAccountId(accountId);
  if (!/^[0-9a-f]{128}$/.test(signatureHex)) return false;
  if (!ecc.isXOnlyPoint(xOnly)) return false;
  return ecc.verifySchnorr(
    loginDigest(nodeId, challenge, origin),
    xOnly,
    Buffer.from(signatureHex, 'hex'),
  );
}
