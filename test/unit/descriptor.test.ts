import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { codeOfSync } from '../helpers/errors';
import { describe, expect, it } from 'vitest';
import {
  descriptorChecksum,
  rangedDescriptor,
  vaultDescriptor,
  vaultScript,
} from '../../core/bitcoin/descriptor';
import { parseKey } from '../../core/bitcoin/keys';
import { network } from '../../core/config/networks';
import { testAccount, testKeySet } from '../helpers/keys';

const ledgerDir = join(import.meta.dirname, '..', '..', '..', 'shared', 'ledger');

describe('descriptor checksum (BIP-380)', () => {
  it('matches the example in Bitcoin Core doc/descriptors.md', () => {
    expect(
      descriptorChecksum(
        "pkh([d34db33f/44'/0'/0']xpub6ERApfZwUNrhLCkDtcHTcxd75RbzS1ed54G1LkBUHQVHQKqhMkhgbmJbZRkrgZw4koxb5JaHWkY4ALHY2grBGRjaDMzQLcgJvLJuZZvRcEL/1/*)",
      ),
    ).toBe('ml40v0wf');
  });

  it("equals BIP-380's reference (transcribed with BigInt) on 300 random descriptors", () => {
    // The BIP's Python, line for line, as the oracle for the two-number state the code keeps.
    const charset =
      '0123456789()[],\'/*abcdefgh@:$%{}IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~ijklmnopqrstuvwxyzABCDEFGH`#"\\ ';
    const gen = [0xf5dee51989n, 0xa9fdca3312n, 0x1bab10e32dn, 0x3706b1677an, 0x644d626ffdn];
    const polymod = (symbols: number[]) => {
      let chk = 1n;
      for (const value of symbols) {
        const top = chk >> 35n;
        chk = ((chk & 0x7ffffffffn) << 5n) ^ BigInt(value);
        for (let i = 0; i < 5; i++) if ((top >> BigInt(i)) & 1n) chk ^= gen[i]!;
      }
      return chk;
    };
    const reference = (s: string) => {
      const symbols: number[] = [];
      const groups: number[] = [];
      for (const c of s) {
        const v = charset.indexOf(c);
        symbols.push(v & 31);
        groups.push(v >> 5);
        if (groups.length === 3) {
          symbols.push(groups[0]! * 9 + groups[1]! * 3 + groups[2]!);
          groups.length = 0;
        }
      }
      if (groups.length === 1) symbols.push(groups[0]!);
      else if (groups.length === 2) symbols.push(groups[0]! * 3 + groups[1]!);
      const chk = polymod([...symbols, 0, 0, 0, 0, 0, 0, 0, 0]) ^ 1n;
      let out = '';
      for (let i = 0; i < 8; i++)
        out += 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'[Number((chk >> BigInt(5 * (7 - i))) & 31n)];
      return out;
    };
    let seed = 7;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31);
    for (let n = 0; n < 300; n++) {
      let s = '';
      const length = 1 + (next() % 120);
      for (let i = 0; i < length; i++) s += charset[next() % charset.length];
      expect(descriptorChecksum(s), s).toBe(reference(s));
    }
  });
});

describe('vault addresses', () => {
  it("equal the address a real Ledger (Bitcoin Test 2.4.6) showed for the same policy's address #0", () => {
    const recorded = JSON.parse(
      readFileSync(join(ledgerDir, 'flow-with-nonwitness.result.json'), 'utf8'),
    );
    const net = network('testnet');
    const [owner, protocol, guardian] = recorded.policy.keys.map((k: string) => parseKey(k, net));
    expect(vaultScript({ owner, protocol, guardian }, 0, net).address).toBe(recorded.address0);
  });

  it('are the same whatever order the keys sort in (sortedmulti), and differ per index', () => {
    const net = network('regtest');
    const k = testKeySet(net);
    const keys = {
      owner: parseKey(k.owner.expression, net),
      protocol: parseKey(k.protocol.expression, net),
      guardian: parseKey(k.guardian.expression, net),
    };
    const swapped = { owner: keys.guardian, protocol: keys.owner, guardian: keys.protocol };
    expect(vaultScript(keys, 3, net).address).toBe(vaultScript(swapped, 3, net).address);
    expect(vaultScript(keys, 3, net).address).not.toBe(vaultScript(keys, 4, net).address);
    expect(vaultScript(keys, 0, net).address.startsWith('bcrt1q')).toBe(true);
  });

  it('descriptors carry every key with its origin and a checksum', () => {
    const net = network('regtest');
    const k = testKeySet(net);
    const keys = {
      owner: parseKey(k.owner.expression, net),
      protocol: parseKey(k.protocol.expression, net),
      guardian: parseKey(k.guardian.expression, net),
    };
    const d = vaultDescriptor(keys, 7);
    expect(d).toMatch(
      /^wsh\(sortedmulti\(2,\[[0-9a-f]{8}\/48'\/1'\/0'\/2'\]tpub\w+\/0\/7,.*\)\)#[a-z0-9]{8}$/,
    );
    expect(d).toContain(`${k.protocol.expression}/0/7`);
    expect(rangedDescriptor(keys)).toContain(`${k.guardian.expression}/0/*`);
  });
});

describe('key validation', () => {
  const regtest = network('regtest');
  const mainnet = network('mainnet');
  const good = testAccount('x', regtest);
  it.each([
    ['garbage', 'hello', 'INVALID_XPUB'],
    ['a key without origin', good.xpub, 'INVALID_XPUB'],
    ['a corrupted xpub (checksum)', good.expression.slice(0, -3) + 'aaa', 'INVALID_XPUB'],
    ['a private key', `[${good.fingerprint}/48'/1'/0'/2']${good.xprv}`, 'INVALID_XPUB'],
    [
      'a path that does not match the depth',
      `[${good.fingerprint}/48'/1'/0']${good.xpub}`,
      'INVALID_XPUB',
    ],
    ['a bad fingerprint', `[zzzzzzzz/48'/1'/0'/2']${good.xpub}`, 'INVALID_XPUB'],
    [
      'a mainnet coin type on regtest',
      `[${good.fingerprint}/48'/0'/0'/2']${good.xpub}`,
      'WRONG_NETWORK',
    ],
  ])('refuses %s', (_n, input, code) => {
    expect(codeOfSync(() => parseKey(input, regtest))).toBe(code);
  });

  it('refuses a tpub on mainnet and an xpub on regtest with WRONG_NETWORK', () => {
    expect(codeOfSync(() => parseKey(good.expression, mainnet))).toBe('WRONG_NETWORK');
    const main = testAccount('x', mainnet);
    expect(codeOfSync(() => parseKey(main.expression, regtest))).toBe('WRONG_NETWORK');
    expect(parseKey(main.expression, mainnet).xpub.startsWith('xpub')).toBe(true);
  });

  it("accepts 'h' for hardened and normalizes it", () => {
    const k = parseKey(`[${good.fingerprint.toUpperCase()}/48h/1h/0h/2h]${good.xpub}`, regtest);
    expect(k.path).toBe("m/48'/1'/0'/2'");
    expect(k.fingerprint).toBe(good.fingerprint);
  });
});
