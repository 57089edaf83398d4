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
