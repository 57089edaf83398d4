import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BitStableNode } from '../../core/app/bitstable-node';
import { InMemoryKeyStore } from '../../core/keys/keystore';
import type { FailoverRpc } from '../../core/node/failover';
import { RegtestNode } from '../../core/node/regtest';
import type { Sats } from '../../core/money';

const started: RegtestNode[] = [];
let app: BitStableNode | undefined;
const dataDir = mkdtempSync(join(tmpdir(), 'bitstable-failover-'));
afterAll(async () => {
  await app?.stop();
  for (const n of started) {
    await n.stop();
    rmSync(n.dataDir, { recursive: true, force: true });
  }
  rmSync(dataDir, { recursive: true, force: true });
});

async function until(what: string, check: () => Promise<boolean>, ms = 60_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const cookie = (n: RegtestNode) => ({
  kind: 'cookie' as const,
  cookieFile: join(n.dataDir, 'regtest', '.cookie'),
});

describe('failover to a second Bitcoin node', () => {
  it('keeps tracking collateral on the secondary when the primary stops, missing no block', async () => {
    const a = await RegtestNode.start({ listen: true });
    started.push(a);
    const b = await RegtestNode.start({ listen: true, initialBlocks: 0 });
    started.push(b);
    await b.rpc.call('addnode', [`127.0.0.1:${a.p2pPort}`, 'onetry']);
    await until(
      'the secondary to sync',
      async () =>
        (await b.rpc.call<number>('getblockcount')) === (await a.rpc.call<number>('getblockcount')),
    );

    app = await BitStableNode.start({
      dataDir,
      network: 'regtest',
      keyStore: new InMemoryKeyStore(),
      backups: false,
      bitcoin: {
        kind: 'rpc',
        rpc: { url: a.rpc.url, auth: cookie(a), timeoutMs: 5_000 },
        fallback: { url: b.rpc.url, auth: cookie(b), timeoutMs: 5_000 },
      },
    });
    const vault = await app.vaults.createVault({
      keySetId: app.keySetId,
      returnAddress: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
    });
    await a.miner.send(vault.address, 1_000_000 as Sats);
    await a.miner.mine(1);
    await app.sync();
    expect(await app.vaults.getVault(vault.id)).toMatchObject({
      state: 'active',
      collateralSats: 1_000_000,
    });

    // A second deposit reaches the secondary's mempool; then the primary goes away.
    const txid = await a.miner.send(vault.address, 500_000 as Sats);
    // Hand it over directly: P2P relay waits a random few seconds, too slow to wait for reliably.
    // From the sending wallet (gettransaction), not the mempool: a CI run once found the
    // just-sent transaction missing from getrawtransaction's view.
    const { hex } = await a.rpc.call<{ hex: string }>('gettransaction', [txid], {
      wallet: 'miner',
    });
    await b.rpc.call('sendrawtransaction', [hex]);
    await a.stop();

    // The secondary mines it. The next sync fails over, teaches the secondary the vaults, and sees it.
    await b.miner.mine(1);
    await app.sync();
    expect((app.chain.rpc as FailoverRpc).active).toBe(1);
    expect(await app.vaults.getVault(vault.id)).toMatchObject({
      state: 'active',
      collateralSats: 1_500_000,
    });
    // New vaults go to the secondary too.
    const second = await app.vaults.createVault({
      keySetId: app.keySetId,
      returnAddress: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
    });
    expect(second.index).toBe(vault.index + 1);
  });
});
