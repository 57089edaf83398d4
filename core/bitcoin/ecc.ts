/**
 * The secp256k1 backends.
 *
 * - Signing, verifying and everything bitcoinjs does: tiny-secp256k1, the reference backend of
 *   bitcoinjs (libsecp256k1 compiled to WebAssembly).
 * - Public BIP32 derivation (a point plus a multiple of G, three per vault): the native binding of
 *   libsecp256k1 from the `secp256k1` package where one loads, about three times faster than
 *   the WebAssembly build. This is what lets a protocol node create a thousand vaults a second.
 *   The package ships N-API prebuilds (linux-x64, darwin-arm64, win32-x64), so the same binary
 *   loads in Node and in Electron. Where no prebuild matches, tiny-secp256k1 does it: the
 *   package's own pure-JavaScript fallback is slower than both, so we never load it.
 *
 * Both backends are libsecp256k1, and a unit test derives the same keys with each.
 */
import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import * as tiny from 'tiny-secp256k1';

/** The part of the `secp256k1` package's API used here (its bindings entry has no types). */
interface NativeSecp256k1 {
  publicKeyVerify(pubkey: Uint8Array): boolean;
  publicKeyTweakAdd(pubkey: Uint8Array, tweak: Uint8Array, compressed?: boolean): Uint8Array;
}

function loadNative(): NativeSecp256k1 | null {
  if (process.env.BITSTABLE_ECC === 'wasm') return null;
  try {
    return createRequire(import.meta.url)('secp256k1/bindings') as NativeSecp256k1;
  } catch {
    return null;
  }
}

const native = loadNative();

/** Which backend derives public keys: shown in /health's details and the bench line. */
export const derivationBackend: 'native' | 'wasm' = native ? 'native' : 'wasm';

const isPoint = (p: Uint8Array): boolean =>
  (p.length === 33 || p.length === 65) && native!.publicKeyVerify(p);

/** The sum of a point and a multiple of G, or null at infinity (or for a tweak out of range). */
function addTweak(p: Uint8Array, tweak: Uint8Array, compressed: boolean): Uint8Array | null {
  if (!tiny.isPrivate(tweak)) return null;
  if (!native) return tiny.pointAddScalar(p, tweak, compressed);
  try {
    return native.publicKeyTweakAdd(p, tweak, compressed);
  } catch {
    return null; // the sum is the point at infinity, or p is not a point
  }
}

/**
 * The public key of child `index` (not hardened) of a BIP32 node, without the rest of a child
 * node: BIP32's CKDpub, I = HMAC-SHA512(chain code, key ‖ index), child = key + I_L·G.
 *
 * Written here rather than taken from bip32's `derive`, which builds and checks a whole child node
 * (its parent's fingerprint hashed again, schema checks, a second curve check of the sum) that a
 * vault's leaf key never needs: at three leaves per vault that was a third of a vault creation.
 * In the case BIP32 sends to the next index (I_L at least the group order, or the sum at infinity;
 * odds about 2^-127), it returns null and the caller asks bip32, so both always agree. A unit test
 * compares it with bip32 on the BIP32 test vectors and a thousand indexes.
 */
export function publicChild(
  publicKey: Uint8Array,
  chainCode: Uint8Array,
  index: number,
): Uint8Array | null {
  const data = new Uint8Array(37);
  data.set(publicKey, 0);
  new DataView(data.buffer).setUint32(33, index, false);
  const i = createHmac('sha512', chainCode).update(data).digest();
  return addTweak(publicKey, i.subarray(0, 32), true);
}

/**
 * tiny-secp256k1's interface (what bip32 takes), with the two calls of public derivation on the
 * native binding: the derived point, and the check bip32 makes of it. A tweak that is zero or
 * at least the group order, or a sum at infinity, gives null, as tiny's does; bip32 then moves
 * to the next index, as BIP32 says.
 */
export const derivationEcc: typeof tiny = native
  ? {
      ...tiny,
      isPoint,
      pointAddScalar: (p, tweak, compressed = true) => addTweak(p, tweak, compressed),
    }
  : tiny;

export { tiny as ecc };
