/** Deterministic test keys (never used for real money): BIP48 account xpubs from fixed seeds. */
import { createHash } from 'node:crypto';
import { bip32, bip48Path, keyExpression, type KeyOrigin } from '../../core/bitcoin/keys';
import type { NetworkInfo } from '../../core/config/networks';

/** The account key of a seed derived from `label`, as [fingerprint/path]xpub. */
export function testAccount(
  label: string,
  net: NetworkInfo,
): KeyOrigin & { expression: string; xprv: string } {
  const seed = createHash('sha256').update(`bitstable-test-${label}`).digest();
  const root = bip32.fromSeed(seed, net.bitcoinjs);
  const path = bip48Path(net);
  const account = root.derivePath(path);
  const origin = {
    fingerprint: Buffer.from(root.fingerprint).toString('hex'),
    path,
    xpub: account.neutered().toBase58(),
  };
  return { ...origin, expression: keyExpression(origin), xprv: account.toBase58() };
}

/** Owner, protocol and guardian test keys for a network. */
export function testKeySet(net: NetworkInfo, prefix = 'a') {
  return {
    owner: testAccount(`${prefix}-owner`, net),
    protocol: testAccount(`${prefix}-protocol`, net),
    guardian: testAccount(`${prefix}-guardian`, net),
  };
}
