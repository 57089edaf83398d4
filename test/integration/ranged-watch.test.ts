/**
 * One ranged descriptor per key set (issue "A protocol node that outgrows one machine" item 4):
 * on a real regtest node, with a lead of 4 so ranges run out within a test, the watch-only wallet
 * sees a deposit to the last vault of a range and to the first of the next, knows every vault's
 * address when many are created at once, and a node that never saw them finds them all again;
 * a node that already watches more of the range (a larger keypool) takes the growth too. A key
 * set's first range is imported when it is registered; two clients importing at once both get in.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rangedDescriptor, vaultScript } from '../../core/bitcoin/descriptor';
import { parseKey } from '../../core/bitcoin/keys';
import { network } from '../../core/config/networks';
import { openDatabase, type Sqlite } from '../../core/db/database';
import { EventBus } from '../../core/events/bus';
import type { Sats } from '../../core/money';
import { CoreNode } from '../../core/node/bitcoin-node';
import { sqliteStore } from '../../core/store/sqlite';
import { VaultService } from '../../core/vaults/vault-service';
import type { Vault } from '../../core/vaults/vault-store';
import { testKeySet } from '../helpers/keys';
import { useRegtestNode } from '../helpers/regtest';

const net = network('regtest');
// Core watches a ranged descriptor ahead by its keypool (1,000 by default); 1 lets the test's
// small lead be the range.
const node = useRegtestNode({ extraArgs: ['-keypool=1'] });
let dir: string;
let db: Sqlite;
let vaults: VaultService;
const failures: string[] = [];

const serviceOn = (chain: CoreNode) =>
  new VaultService({
    store: sqliteStore(db),
    node: chain,
    network: net,
    params: net.defaults,
    bus: new EventBus(),
    rangeAheadMin: 4,
    failed: (task, err) => failures.push(`${task}: ${String(err)}`),
  });

const keySetOf = async (prefix: string) => {
  const k = testKeySet(net, prefix);
  return await vaults.registerKeySet({
    owner: k.owner.expression,
    protocol: k.protocol.expression,
    guardian: k.guardian.expression,
  });
};

const until = async (ok: () => boolean) => {
  for (let i = 0; !ok(); i++) {
    if (i > 500) throw new Error('not within 10 s');
    await new Promise((r) => setTimeout(r, 20));
  }
};

const watchedEnd = (keySetId: number) =>
  db.prepare('SELECT watched_end FROM key_sets WHERE id = ?').pluck().get(keySetId) as number;

/** Whether the named watch-only wallet has the address's script. */
const watches = async (wallet: string, address: string) =>
  (
    await node().rpc.call<{ ismine: boolean }>('getaddressinfo', [address], {
      wallet,
    })
  ).ismine;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bitstable-ranged-'));
  db = openDatabase(join(dir, 'bitstable.sqlite'));
  const chain = new CoreNode(node().rpc);
  await chain.ensureWatchWallet();
  vaults = serviceOn(chain);
});
afterAll(() => {
  db?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('one watched range per key set', () => {
  it('a deposit to the last vault of a range and to the first of the next both count', async () => {
    const { miner } = node();
    const keySetId = await keySetOf('range-edge');
    const first = await vaults.createVault({ keySetId });
    expect(first.index).toBe(0);
    const end = watchedEnd(keySetId);
    expect(end).toBe(4);
    const made = [first];
    // Up to the first vault past the range the first creation watched.
    while (made.length <= end) made.push(await vaults.createVault({ keySetId }));
    const last = made[end - 1]!;
    const next = made[end]!;
    expect([last.index, next.index]).toEqual([end - 1, end]);
    expect(watchedEnd(keySetId)).toBeGreaterThan(end);

    await miner.send(last.address, 1_000_000 as Sats);
    await miner.send(next.address, 2_000_000 as Sats);
    await miner.mine(1);
    await vaults.syncDeposits();
    expect(await vaults.getVault(last.id)).toMatchObject({
      state: 'active',
      collateralSats: 1_000_000,
    });
    expect(await vaults.getVault(next.id)).toMatchObject({
      state: 'active',
      collateralSats: 2_000_000,
    });
    expect(failures).toEqual([]);
  });

  it('forty vaults created at once get forty indexes, every address watched, in a few imports; bad asks among them change nothing', async () => {
    const keySetId = await keySetOf('range-burst');
    const asks = Array.from({ length: 46 }, (_, i) =>
      i % 8 === 3
        ? vaults.createVault({ keySetId, plannedDepositSats: 0 }).then(
            () => 'made',
            (err: { code?: string }) => err.code,
          )
        : vaults.createVault({ keySetId, label: `burst ${i}` }),
    );
    const settled = await Promise.all(asks);
    const made = settled.filter((x): x is Vault => typeof x === 'object');
    expect(settled.filter((x) => typeof x !== 'object')).toEqual(Array(6).fill('INVALID_AMOUNT'));
    expect(made.map((v) => v.index).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 40 }, (_, i) => i),
    );
    // Background growths may still be on their way; none is needed for what was handed out.
    for (const v of made) expect(await watches('bitstable-watch', v.address), v.address).toBe(true);
    const imports = db
      .prepare(
        "SELECT count(*) FROM events WHERE type = 'keyset.watched' AND json_extract(data, '$.keySetId') = ?",
      )
      .pluck()
      .get(keySetId) as number;
    expect(imports).toBeGreaterThan(1);
    expect(imports).toBeLessThanOrEqual(12);
    expect(failures).toEqual([]);
  });

  it('a watch-only wallet that never saw the vaults finds every one and its coins again', async () => {
    const keySetId = await keySetOf('range-rewatch');
    const made: Vault[] = [];
    for (let i = 0; i < 7; i++) made.push(await vaults.createVault({ keySetId }));
    const { miner } = node();
    await miner.send(made[6]!.address, 3_000_000 as Sats);
    await miner.mine(1);

    const fresh = new CoreNode(node().rpc, 'bitstable-watch-again');
    await fresh.ensureWatchWallet();
    expect(await watches('bitstable-watch-again', made[6]!.address)).toBe(false);
    await serviceOn(fresh).rewatchAll();
    for (const v of made)
      expect(await watches('bitstable-watch-again', v.address), v.address).toBe(true);
    const coins = await fresh.listWatchedUtxos();
    expect(coins.filter((c) => c.address === made[6]!.address).map((c) => c.amountSats)).toEqual([
      3_000_000,
    ]);
  });

  it('a node that already watches further than the range asked for still takes the growth', async () => {
    const keySetId = await keySetOf('range-wider');
    const keys = await vaults.keySet(keySetId);
    await until(() => watchedEnd(keySetId) > 0); // the first range, imported on registration
    // As a node with a keypool of 50 would after the first import.
    await node().rpc.call(
      'importdescriptors',
      [[{ desc: rangedDescriptor(keys), range: [0, 49], timestamp: 'now' }]],
      { wallet: 'bitstable-watch' },
    );
    const made: Vault[] = [];
    for (let i = 0; i < 6; i++) made.push(await vaults.createVault({ keySetId }));
    for (const v of made) expect(await watches('bitstable-watch', v.address), v.address).toBe(true);
    expect(watchedEnd(keySetId)).toBeGreaterThan(5);
    expect(failures).toEqual([]);
  });

  it("a key set's first range is imported when it is registered: its first vault's address is watched before anyone asks for it", async () => {
    const keySetId = await keySetOf('range-on-register');
    await until(() => watchedEnd(keySetId) === 4);
    const { address } = vaultScript(await vaults.keySet(keySetId), 0, net);
    expect(await watches('bitstable-watch', address)).toBe(true);
    const first = await vaults.createVault({ keySetId });
    expect(first.address).toBe(address);
    expect(failures).toEqual([]);
  });

  it('two clients of one node (as two instances would be) import into the watch-only wallet at the same time: the one Core turns away waits and goes through', async () => {
    // Core takes one import per wallet at a time and refuses the next ("currently
    // rescanning"); ranges of a few thousand keep each import long enough to overlap.
    const [a, b] = [testKeySet(net, 'range-two-a'), testKeySet(net, 'range-two-b')];
    const desc = (k: typeof a) =>
      rangedDescriptor({
        owner: parseKey(k.owner.expression, net),
        protocol: parseKey(k.protocol.expression, net),
        guardian: parseKey(k.guardian.expression, net),
      });
    const clients = [new CoreNode(node().rpc), new CoreNode(node().rpc)];
    await Promise.all(
      [a, b].map((k, n) =>
        clients[n]!.importDescriptors([{ desc: desc(k), range: [0, 2999], timestamp: 'now' }]),
      ),
    );
    for (const k of [a, b]) {
      const keys = {
        owner: parseKey(k.owner.expression, net),
        protocol: parseKey(k.protocol.expression, net),
        guardian: parseKey(k.guardian.expression, net),
      };
      expect(await watches('bitstable-watch', vaultScript(keys, 2999, net).address)).toBe(true);
    }
  });

  it('a range growth the node refuses in the background is reported, and cleared by the next one that goes through (a node double refusing one import, in front of the real node)', async () => {
    const real = new CoreNode(node().rpc);
    let refuse = 0;
    const flaky = Object.assign(Object.create(real) as CoreNode, {
      importDescriptors: (imports: Parameters<CoreNode['importDescriptors']>[0]) =>
        refuse-- > 0
          ? Promise.reject(new Error('the node is busy'))
          : real.importDescriptors(imports),
    });
    const told: string[] = [];
    const service = new VaultService({
      store: sqliteStore(db),
      node: flaky,
      network: net,
      params: net.defaults,
      bus: new EventBus(),
      rangeAheadMin: 4,
      failed: (task) => told.push(`failed ${task}`),
      succeeded: (task) => told.push(`succeeded ${task}`),
    });
    const k = testKeySet(net, 'range-refused');
    const keySetId = await service.registerKeySet({
      owner: k.owner.expression,
      protocol: k.protocol.expression,
      guardian: k.guardian.expression,
    });
    const made: Vault[] = [await service.createVault({ keySetId })]; // the first range: awaited
    refuse = 1;
    // The second vault starts a growth in the background, which the node refuses.
    made.push(await service.createVault({ keySetId }));
    await until(() => told.includes('failed watch-range'));
    while (!told.slice(told.indexOf('failed watch-range')).includes('succeeded watch-range'))
      made.push(await service.createVault({ keySetId }));
    expect(told[0]).toBe('succeeded watch-range');
    for (const v of made) expect(await watches('bitstable-watch', v.address), v.address).toBe(true);
  });
});
