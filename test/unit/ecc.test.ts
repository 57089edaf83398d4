import { randomBytes } from 'node:crypto';
import { BIP32Factory } from 'bip32';
import * as tiny from 'tiny-secp256k1';
import { describe, expect, it, vi } from 'vitest';
import { derivationBackend, derivationEcc, publicChild } from '../../core/bitcoin/ecc';
import { bip32 } from '../../core/bitcoin/keys';

// bip32 on the reference backend alone: what every derivation here is compared with.
const reference = BIP32Factory(tiny);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('public derivation on the native backend', () => {
  it('loads the native libsecp256k1 where the package ships a prebuild (here: this machine)', () => {
    const prebuilt = ['linux-x64', 'darwin-arm64', 'win32-x64'];
    if (!prebuilt.includes(`${process.platform}-${process.arch}`)) return;
    expect(derivationBackend).toBe('native');
  });

  it("gives BIP32 test vector 1's m/0H/1/2H/2 from m/0H/1/2H", () => {
    const parent = bip32.fromBase58(
      'xpub6D4BDPcP2GT577Vvch3R8wDkScZWzQzMMUm3PWbmWvVJrZwQY4VUNgqFJPMM3No2dFDFGTsxxpG5uJh7n7epu4trkrX7x7DogT5Uv6fcLW5',
    );
    const child = reference.fromBase58(
      'xpub6FHa3pjLCk84BayeJxFW2SP4XRrFd1JYnxeLeU8EqN3vDfZmbqBqaGJAyiLjTAwm6ZLRQUMv1ZACTj37sR62cfN7fe5JnJ7dh8zL4fiyLHV',
    );
    expect(hex(publicChild(parent.publicKey, parent.chainCode, 2)!)).toBe(hex(child.publicKey));
    expect(bip32.fromBase58(parent.toBase58()).derive(2).toBase58()).toBe(child.toBase58());
  });

  it('agrees with bip32 on the reference backend for a thousand indexes of a random key', () => {
    const account = reference.fromSeed(randomBytes(32)).derivePath("m/48'/1'/0'/2'").neutered();
    const branch = account.derive(0);
    const ours = bip32.fromBase58(account.toBase58()).derive(0);
    for (let i = 0; i < 1000; i++) {
      const index = i < 500 ? i : 0x7fffffff - i;
      const want = hex(branch.derive(index).publicKey);
      expect(hex(publicChild(branch.publicKey, branch.chainCode, index)!)).toBe(want);
      expect(hex(ours.derive(index).publicKey)).toBe(want);
    }
  });

  it('adds a tweak as tiny-secp256k1 does, and refuses what it refuses', () => {
    for (let i = 0; i < 200; i++) {
      const point = tiny.pointFromScalar(randomBytes(32), i % 2 === 0)!;
      const tweak = randomBytes(32);
      if (!tiny.isPrivate(tweak)) continue;
      for (const compressed of [true, false]) {
        expect(hex(derivationEcc.pointAddScalar(point, tweak, compressed)!)).toBe(
          hex(tiny.pointAddScalar(point, tweak, compressed)!),
        );
      }
    }
    const one = Buffer.alloc(32);
    one[31] = 1;
    const point = tiny.pointFromScalar(one, true)!; // G
    const order = Buffer.from(
      'fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141',
      'hex',
    );
    expect(derivationEcc.pointAddScalar(point, order, true)).toBeNull();
    // p + (n − 1)·G with p = G is the point at infinity.
    const minusOne = Buffer.from(order);
    minusOne[31] = 0x40;
    expect(derivationEcc.pointAddScalar(point, minusOne, true)).toBeNull();
    expect(derivationEcc.isPoint(point)).toBe(true);
    expect(derivationEcc.isPoint(point.subarray(0, 32))).toBe(false);
    const offCurve = Buffer.from(point);
    offCurve[0] = 0x05;
    expect(derivationEcc.isPoint(offCurve)).toBe(false);
  });

  it('falls back to tiny-secp256k1 when the native backend is turned off, with the same keys', async () => {
    vi.resetModules();
    vi.stubEnv('BITSTABLE_ECC', 'wasm');
    try {
      const fallback = await import('../../core/bitcoin/ecc');
      expect(fallback.derivationBackend).toBe('wasm');
      expect(fallback.derivationEcc).toBe(tiny);
      const branch = reference.fromSeed(randomBytes(32)).neutered().derive(0);
      for (let index = 0; index < 50; index++)
        expect(hex(fallback.publicChild(branch.publicKey, branch.chainCode, index)!)).toBe(
          hex(branch.derive(index).publicKey),
        );
    } finally {
      vi.unstubAllEnvs();
      vi.resetModules();
    }
  });
});
