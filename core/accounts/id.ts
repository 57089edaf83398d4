/**
 * Account ids (SPEC §3): an account is its BIP340 x-only public key, written as bech32m with the
 * prefix `bsa` — `bsa1…`. bech32m gives a checksum that catches any mistyped character, so a
 * transfer to a typo is refused rather than sent to nobody.
 */
import { bech32m } from 'bech32';
import { BitStableError } from '../errors';

export const ACCOUNT_PREFIX = 'bsa';

/** The account id of an x-only public key (32 bytes). */
export function accountIdOf(xOnly: Uint8Array): string {
  if (xOnly.length !== 32) {
    throw new BitStableError('INVALID_ACCOUNT', 'An account key is 32 bytes (BIP340 x-only).', {});
  }
  return bech32m.encode(ACCOUNT_PREFIX, bech32m.toWords(xOnly));
}

/** The x-only public key an account id names; INVALID_ACCOUNT for anything else. */
export function parseAccountId(id: unknown): Uint8Array {
  const bad = () =>
    new BitStableError(
      'INVALID_ACCOUNT',
      `"${String(id).slice(0, 80)}" is not a BitStable account id (bsa1…). Check it for a mistyped character.`,
      {},
    );
  if (typeof id !== 'string' || id.length > 90 || id !== id.toLowerCase()) throw bad();
  let decoded: { prefix: string; words: number[] };
  try {
    decoded = bech32m.decode(id);
  } catch {
    throw bad();
  }
  if (decoded.prefix !== ACCOUNT_PREFIX) throw bad();
  let bytes: number[];
  try {
    bytes = bech32m.fromWords(decoded.words);
  } catch {
    throw bad();
  }
  if (bytes.length !== 32) throw bad();
  return Uint8Array.from(bytes);
}

/** True when `id` is a well-formed account id. */
export function isAccountId(id: unknown): id is string {
  try {
    parseAccountId(id);
    return true;
  } catch {
    return false;
  }
}
