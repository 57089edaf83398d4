/**
 * How strong a key store passphrase must be off regtest (issue 16): the passphrase is all that
 * stands between a copied key file and the protocol key. A length-and-variety rule rather than a
 * dictionary: 20 characters or more (a few random words), or 12 or more mixing at least three of
 * lower case, upper case, digits and symbols. Regtest keys guard worthless coins and may be weak.
 */
import type { NetworkName } from '../config/networks';
import { BitStableError } from '../errors';

export function checkPassphraseStrength(passphrase: string, network: NetworkName): void {
  if (network === 'regtest') return;
  const kinds = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^a-zA-Z0-9]/].filter((re) => re.test(passphrase));
  const long = [...passphrase].length;
  const distinct = new Set(passphrase).size;
  if ((long >= 20 && distinct >= 8) || (long >= 12 && kinds.length >= 3 && distinct >= 6)) return;
  throw new BitStableError(
    'INVALID_CONFIG',
    `The key store passphrase is too weak for ${network} keys: use 20 characters or more (a few random words), or at least 12 that mix three of lower case, upper case, digits and symbols.`,
    { network, length: long },
  );
}
