/**
 * The recovery kit against the rest of the Bitcoin world (issue "The Ledger and the rest of the
 * Bitcoin world", items 4, 6, 8 and 9), on a real regtest node: a node restarted with another
 * guardian key lists both key sets' vaults; Bitcoin Core imports the kit's request into a fresh
 * watch-only wallet and sees every vault's coins; Core finds nothing to add to a BitStable
 * withdrawal PSBT (change script and keys, global xpubs already there).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BitStableNode } from '../../core/app/bitstable-node';
import { network } from '../../core/config/networks';
import type { Bps } from '../../core/money';
import { toSats } from '../../core/node/rpc';
import { recoveryKit } from '../../core/vaults/operations';
import type { RecoveryKit } from '../../core/vaults/recovery-kit';
import type { Vault } from '../../core/vaults/vault-store';
import { faucet, mine, setPrice } from '../helpers/app';
import { InMemoryKeyStore } from '../../core/keys/keystore';
import { testAccount } from '../helpers/keys';

const RETURN = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';
const dataDir = mkdtempSync(join(tmpdir(), 'bitstable-kit-'));
const keyStore = new InMemoryKeyStore();
let app: BitStableNode | undefined;
let first: Vault;
let second: Vault;
let kit: RecoveryKit;

const start = (guardian?: string) =>
  BitStableNode.start({
    dataDir,
    network: 'regtest',
    keyStore,
    params: { stabilityFeeBps: 0 as Bps },
    ...(guardian ? { guardian } : {}),
  });

beforeAll(async () => {
  app = await start();
  first = await app.vaults.createVault({ keySetId: app.keySetId, label: 'first guardian' });
  await faucet(app, first.address, 7_000_000);
  await mine(app);
  await app.stop();
  app = undefined;
  // The guardian key changed: the node starts on a new key set.
  app = await start(testAccount('kit-second-guardian', network('regtest')).expression);
  second = await app.vaults.createVault({ keySetId: app.keySetId, returnAddress: RETURN });
  await faucet(app, second.address, 5_000_000);
  await mine(app);
  kit = await recoveryKit(app.vaults, app.keySetId, app.network);
}, 120_000);

afterAll(async () => {
  await app?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the recovery kit', () => {
  it('after a guardian change lists both key sets, each with its vaults, and no private key', () => {
    expect(kit.keySets).toHaveLength(2);
    const [now, before] = kit.keySets;
    expect(now!.vaults.map((v) => v.address)).toEqual([second.address]);
    expect(before!.vaults).toEqual([
      { index: first.index, address: first.address, label: 'first guardian' },
    ]);
    expect(now!.keys.owner).toBe(before!.keys.owner);
    expect(now!.keys.guardian).not.toBe(before!.keys.guardian);
    for (const set of kit.keySets) {
      expect(set.birthday).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
      expect(set.bsms.split('\n').slice(0, 3)).toEqual([
        'BSMS 1.0',
        expect.stringMatching(/^wsh\(sortedmulti\(2,.*\/\*\*.*\)\)#[a-z0-9]{8}$/),
        '/0/*,/1/*',
      ]);
      expect(set.electrum.cosigners.map((c) => c.key.slice(0, 4))).toEqual([
        'Vpub',
        'Vpub',
        'Vpub',
      ]);
    }
    expect(JSON.stringify(kit)).not.toMatch(/tprv|xprv/);
  });

  it("Bitcoin Core imports the kit's request into a fresh watch-only wallet and sees every vault's coins", async () => {
    const rpc = app!.regtest!.rpc;
    await rpc.call('createwallet', ['kit-only', true, true, '', false, true, false]);
    for (const set of kit.keySets) {
      const results = await rpc.call<{ success: boolean; error?: unknown }[]>(
        'importdescriptors',
        [set.core],
        { wallet: 'kit-only' },
      );
      expect(results, JSON.stringify(results)).toEqual([{ success: true }, { success: true }]);
    }
    const coins = await rpc.call<{ address: string; amount: unknown }[]>('listunspent', [], {
      wallet: 'kit-only',
    });
    const seen = Object.fromEntries(coins.map((c) => [c.address, toSats(c.amount as never)]));
    expect(seen).toEqual({ [first.address]: 7_000_000, [second.address]: 5_000_000 });
    // The change descriptor is active, so a kit-only wallet can make a partial spend itself.
    const change = await rpc.call<string>('getrawchangeaddress', [], { wallet: 'kit-only' });
    expect(change.startsWith('bcrt1q')).toBe(true);
  });

  it('Core finds nothing to add to a withdrawal PSBT: change script and keys, global xpubs', async () => {
    const rpc = app!.regtest!.rpc;
    await setPrice(app!, 10_000_000);
    const destination = await app!.regtest!.miner.newAddress();
    const preview = await app!.operations.previewWithdraw(second.id, 1_000_000, destination);
    const decoded = await rpc.call<{
      global_xpubs: { xpub: string; master_fingerprint: string; path: string }[];
      outputs: { witness_script?: unknown; bip32_derivs?: unknown[] }[];
    }>('decodepsbt', [preview.psbtBase64]);
    const now = kit.keySets[0]!.keys;
    // Core writes paths with h and lists the xpubs in its own order.
    const globals = decoded.global_xpubs.map(
      (x) => `[${x.master_fingerprint}${x.path.slice(1).replace(/h/g, "'")}]${x.xpub}`,
    );
    expect(globals.sort()).toEqual([now.owner, now.protocol, now.guardian].sort());
    const [pay, change] = decoded.outputs;
    expect(pay!.bip32_derivs).toBeUndefined();
    expect(change!.witness_script).toBeDefined();
    expect(change!.bip32_derivs).toHaveLength(3);

    const analyzed = await rpc.call<{
      inputs: { has_utxo: boolean; next: string; missing?: Record<string, unknown> }[];
    }>('analyzepsbt', [preview.psbtBase64]);
    for (const input of analyzed.inputs) {
      expect(input).toMatchObject({ has_utxo: true, next: 'signer' });
      expect(Object.keys(input.missing ?? {})).toEqual(['signatures']);
    }
    const processed = await rpc.call<{ psbt: string; complete: boolean }>(
      'walletprocesspsbt',
      [preview.psbtBase64, false, 'ALL', true],
      { wallet: 'kit-only' },
    );
    // Core re-serializes (xpubs in its order, the previous transactions without witnesses):
    // compare what the two PSBTs say, not their bytes.
    const says = async (psbt: string) => {
      const d = await rpc.call<{
        global_xpubs: { xpub: string }[];
        inputs: { non_witness_utxo?: { txid: string } }[];
      }>('decodepsbt', [psbt]);
      d.global_xpubs.sort((a, b) => a.xpub.localeCompare(b.xpub));
      for (const i of d.inputs)
        if (i.non_witness_utxo) i.non_witness_utxo = { txid: i.non_witness_utxo.txid };
      return d;
    };
    expect(processed.complete).toBe(false);
    expect(await says(processed.psbt)).toEqual(await says(preview.psbtBase64));
  });
});
