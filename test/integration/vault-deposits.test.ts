import { codeOf } from '../helpers/errors';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { network } from '../../core/config/networks';
import { openDatabase, type Sqlite } from '../../core/db/database';
import { logicalHash } from '../../core/db/snapshot';
import { EventBus } from '../../core/events/bus';
import { CoreNode } from '../../core/node/bitcoin-node';
import { VaultService } from '../../core/vaults/vault-service';
import { sqliteStore } from '../../core/store/sqlite';
import { testAccount, testKeySet } from '../helpers/keys';
import { useRegtestNode } from '../helpers/regtest';

const net = network('regtest');
const node = useRegtestNode();
let dir: string;
let db: Sqlite;
let vaults: VaultService;
let keySetId: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bitstable-vaults-'));
  db = openDatabase(join(dir, 'bitstable.sqlite'));
  const chain = new CoreNode(node().rpc);
  await chain.ensureWatchWallet();
  vaults = new VaultService({
    store: sqliteStore(db),
    node: chain,
    network: net,
    params: net.defaults,
    bus: new EventBus(),
  });
  const k = testKeySet(net);
  keySetId = await vaults.registerKeySet({
    owner: k.owner.expression,
    protocol: k.protocol.expression,
    guardian: k.guardian.expression,
  });
});
afterAll(() => {
  db?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('vaults see their collateral on a real regtest chain', () => {
  it('a funded vault turns Active with exactly the funded sats; a second deposit adds up; a reorg takes it back out', async () => {
    const { miner, rpc } = node();
    const vault = await vaults.createVault({
      keySetId,
      label: 'first',
      plannedDepositSats: 10_000_000,
    });
    expect(vault.state).toBe('pending');
    expect(vault.address.startsWith('bcrt1q')).toBe(true);

    // In the mempool: seen as incoming, not collateral.
    await miner.send(vault.address, 10_000_000 as never);
    await vaults.syncDeposits();
    expect(await vaults.getVault(vault.id)).toMatchObject({
      state: 'pending',
      collateralSats: 0,
      incomingSats: 10_000_000,
    });

    await miner.mine(1);
    await vaults.syncDeposits();
    expect(await vaults.getVault(vault.id)).toMatchObject({
      state: 'active',
      collateralSats: 10_000_000,
      incomingSats: 0,
    });

    // A second deposit, confirmed in its own block.
    await miner.send(vault.address, 5_000_001 as never);
    const [secondBlock] = await miner.mine(1);
    await vaults.syncDeposits();
    expect((await vaults.getVault(vault.id)).collateralSats).toBe(15_000_001);

    // Reorg: disconnect the second deposit's block. Its transaction falls back to the mempool.
    await rpc.call('invalidateblock', [secondBlock]);
    await miner.settle();
    await vaults.syncDeposits();
    expect(await vaults.getVault(vault.id)).toMatchObject({
      state: 'active',
      collateralSats: 10_000_000,
      incomingSats: 5_000_001,
    });
    await rpc.call('reconsiderblock', [secondBlock]);
    await miner.settle();
    await vaults.syncDeposits();
    expect((await vaults.getVault(vault.id)).collateralSats).toBe(15_000_001);

    const events = db
      .prepare("SELECT count(*) FROM events WHERE vault_id = ? AND type = 'vault.collateral'")
      .pluck()
      .get(vault.id);
    expect(events).toBeGreaterThanOrEqual(4);
  });

  it('a reorg that removes the only deposit sends the vault back to Pending', async () => {
    const { miner, rpc } = node();
    const vault = await vaults.createVault({
      keySetId,
      returnAddress: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
    });
    await miner.send(vault.address, 2_500_000 as never);
    const [block] = await miner.mine(1);
    await vaults.syncDeposits();
    expect(await vaults.getVault(vault.id)).toMatchObject({
      state: 'active',
      collateralSats: 2_500_000,
    });

    await rpc.call('invalidateblock', [block]);
    await miner.settle();
    await vaults.syncDeposits();
    const after = await vaults.getVault(vault.id);
    // The deposit is back in the mempool: seen, but no longer collateral.
    expect(after).toMatchObject({ state: 'pending', collateralSats: 0, incomingSats: 2_500_000 });
    expect(
      db
        .prepare('SELECT count(*) FROM vault_utxos WHERE vault_id = ? AND confirmations > 0')
        .pluck()
        .get(vault.id),
    ).toBe(0);
    await rpc.call('reconsiderblock', [block]);
    await miner.settle();
    await vaults.syncDeposits();
    expect(await vaults.getVault(vault.id)).toMatchObject({
      state: 'active',
      collateralSats: 2_500_000,
    });
  });

  it('vault indexes and addresses never repeat', async () => {
    const a = await vaults.createVault({
      keySetId,
      returnAddress: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
    });
    const b = await vaults.createVault({
      keySetId,
      returnAddress: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
    });
    expect(b.index).toBe(a.index + 1);
    expect(b.address).not.toBe(a.address);
    const all = (await vaults.listVaults()).map((v) => v.address);
    expect(new Set(all).size).toBe(all.length);
  });

  it('refuses bad input with a typed error and changes nothing in the database', async () => {
    const before = logicalHash(db);
    const mainKey = testAccount('main', network('mainnet'));
    const k = testKeySet(net, 'b');
    const cases: [string, () => unknown, string][] = [
      [
        'negative sats',
        () => vaults.createVault({ keySetId, plannedDepositSats: -5 }),
        'INVALID_AMOUNT',
      ],
      [
        'fractional sats',
        () => vaults.createVault({ keySetId, plannedDepositSats: 0.5 }),
        'INVALID_AMOUNT',
      ],
      ['unknown vault id', async () => await vaults.getVault(999_999), 'VAULT_NOT_FOUND'],
      [
        'a vault id that is not a number',
        async () => await vaults.getVault('1; DROP TABLE vaults'),
        'INVALID_ARGUMENT',
      ],
      [
        'unknown key set',
        () =>
          vaults.createVault({
            keySetId: 424242,
            returnAddress: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
          }),
        'KEY_SET_NOT_FOUND',
      ],
      [
        'malformed xpub',
        async () =>
          await vaults.registerKeySet({
            owner: '[00000000/48h/1h/0h/2h]tpubNOPE',
            protocol: k.protocol.expression,
            guardian: k.guardian.expression,
          }),
        'INVALID_XPUB',
      ],
      [
        'a mainnet key on regtest',
        async () =>
          await vaults.registerKeySet({
            owner: mainKey.expression,
            protocol: k.protocol.expression,
            guardian: k.guardian.expression,
          }),
        'WRONG_NETWORK',
      ],
      [
        'the same key twice',
        async () =>
          await vaults.registerKeySet({
            owner: k.owner.expression,
            protocol: k.owner.expression,
            guardian: k.guardian.expression,
          }),
        'INVALID_XPUB',
      ],
      [
        'a faucet amount with a fraction of a sat',
        async () => node().miner.send((await vaults.listVaults())[0]!.address, 0.5 as never),
        'INVALID_AMOUNT',
      ],
      [
        'a faucet to a mainnet address',
        () => node().miner.send('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', 1000 as never),
        'INVALID_ADDRESS',
      ],
    ];
    for (const [name, fn, code] of cases) {
      expect(await codeOf(fn), name).toBe(code);
    }
    expect(logicalHash(db)).toBe(before);
  });
});
