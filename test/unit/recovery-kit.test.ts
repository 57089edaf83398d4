/**
 * The recovery kit's export forms, checked against what the other wallets need: Electrum's
 * SLIP-132 keys carry the same key as the tpub/xpub; the kit covers every key set given, with
 * the vaults in index order, birthday two hours before the first, and no private key.
 */
import bs58check from 'bs58check';
import { describe, expect, it } from 'vitest';
import { parseKey } from '../../core/bitcoin/keys';
import { network } from '../../core/config/networks';
import { recoveryKitOf, slip132Key } from '../../core/vaults/recovery-kit';
import { testKeySet } from '../helpers/keys';

const keysOf = (prefix: string, net = network('regtest')) => {
  const k = testKeySet(net, prefix);
  return {
    owner: parseKey(k.owner.expression, net),
    protocol: parseKey(k.protocol.expression, net),
    guardian: parseKey(k.guardian.expression, net),
  };
};

describe('the recovery kit', () => {
  it('gives Electrum Vpub keys on the test networks and Zpub on mainnet, the same key under new version bytes', () => {
    for (const [name, prefix] of [
      ['regtest', 'Vpub'],
      ['testnet', 'Vpub'],
      ['mainnet', 'Zpub'],
    ] as const) {
      const net = network(name);
      const key = keysOf('kit-slip', net).owner;
      const slip = slip132Key(key, net);
      expect(slip.startsWith(prefix), `${name}: ${slip}`).toBe(true);
      expect(bs58check.decode(slip).slice(4)).toEqual(bs58check.decode(key.xpub).slice(4));
    }
  });

  it('lists every key set given with its vaults in index order, a birthday before the first, and no private key', () => {
    const net = network('regtest');
    const now = keysOf('kit-now');
    const before = keysOf('kit-before');
    const t0 = Date.UTC(2026, 5, 1);
    const kit = recoveryKitOf(
      [
        { keys: now, vaults: [] },
        {
          keys: before,
          vaults: [
            { index: 2, address: 'bcrt1q-two', label: null, createdAt: t0 + 60_000 },
            { index: 0, address: 'bcrt1q-zero', label: 'savings', createdAt: t0 },
          ],
        },
      ],
      net,
    );
    const [empty, old] = kit.keySets;
    expect(empty).toMatchObject({ vaults: [], birthday: null, scanTo: 19 });
    expect(empty!.core.map((c) => c.timestamp)).toEqual(['now', 'now']);
    expect(old!.vaults.map((v) => v.index)).toEqual([0, 2]);
    expect(old!.birthday).toBe(t0 / 1000 - 7200);
    expect(old!.core[0]).toMatchObject({ range: [0, 22], active: true, internal: false });
    expect(old!.core[1]).toMatchObject({ active: true, internal: true });
    expect(old!.core[1]!.desc).toContain('/1/*');
    expect(old!.sparrow).toContain('/<0;1>/*');
    expect(old!.bsms.split('\n')[3]).toBe('bcrt1q-zero');
    expect(old!.electrum.cosigners.map((c) => c.role)).toEqual(['owner', 'protocol', 'guardian']);
    expect(kit.instructions.join(' ')).toMatch(/owner and the guardian sign together/);
    expect(JSON.stringify(kit)).not.toMatch(/[tx]prv/);
  });
});
