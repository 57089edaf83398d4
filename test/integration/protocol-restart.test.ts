/**
 * The protocol node dies while it holds the owner's signature (issue 12), as real processes: a
 * wallet host signs a withdrawal and hands it over; the node is SIGKILLed
 *   1. after the owner signed and before it co-signed (fault point `spend.draft`), and
 *   2. after it co-signed and stored the transaction, before it broadcast it (`spend.signed`);
 * each time it is restarted on the same data folder and port (taking over the bitcoind the killed
 * process left running, as after a real crash). The wallet reconnects by itself,
 * asks what became of the signature, and shows it: (1) abandoned, nothing sent; (2) sent, with
 * its txid. The destination receives the amount exactly once.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RpcClient, toSats } from '../../core/node/rpc';
import { startScript, type Child } from '../helpers/process';
import { openActiveVault, rpcCall, until } from '../helpers/rpc';

const PASSPHRASE = 'restart-test-passphrase';
const dirs: string[] = [];
const children: Child[] = [];
const tmp = (name: string) => {
  const d = mkdtempSync(join(tmpdir(), `bitstable-${name}-`));
  dirs.push(d);
  return d;
};

let protocolDir: string;
let port = 0;
let node: Child | null = null;
let bitcoin: RpcClient;
let wallet: { url: string; token: string };

/** Starts the protocol node on the data folder (and, after the first, on the same port). */
async function startNode(fault?: string): Promise<void> {
  const c = startScript('protocol.ts', ['--port', String(port), '--data-dir', protocolDir], {
    BITSTABLE_PASSPHRASE: PASSPHRASE,
    ...(fault ? { BITSTABLE_FAULT: fault } : { BITSTABLE_FAULT: '' }),
  });
  children.push(c);
  node = c;
  const [, url] = await c.waitFor(/Gateway: (http:\/\/\S+)/);
  port = Number(new URL(url!).port);
  const [, rpcUrl, cookie] = await c.waitFor(/Bitcoin RPC: (\S+) cookie=(\S+)/);
  bitcoin = new RpcClient({ url: rpcUrl!, auth: { kind: 'cookie', cookieFile: cookie! } });
}

/**
 * After the node killed itself. Its bitcoind lives on (as it would after a crash of the app) and
 * the next start takes it over rather than failing on its data folder's lock.
 */
async function reapNode(): Promise<void> {
  const child = node!.child;
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((r) => child.once('exit', () => r()));
}

const call = (method: string, params: unknown = {}) =>
  rpcCall(wallet.url, wallet.token, method, params);

beforeAll(async () => {
  protocolDir = tmp('protocol');
  await startNode('spend.draft');
  const dir = tmp('wallet');
  const c = startScript(
    'headless.ts',
    ['--connect', `http://127.0.0.1:${port}`, '--data-dir', dir, '--port', '0'],
    {
      BITSTABLE_PASSPHRASE: PASSPHRASE,
    },
  );
  children.push(c);
  const [, url, token] = await c.waitFor(/Open: (http:\/\/\S+)\/#token=([A-Za-z0-9_-]+)/);
  wallet = { url: url!, token: token! };
}, 240_000);

afterAll(async () => {
  await Promise.allSettled(children.map((c) => c.stop()));
  // A bitcoind adopted across restarts is stopped by the node that adopted it; should a run fail
  // before that, none may outlive the test.
  try {
    execFileSync('pkill', ['-KILL', '-f', protocolDir]);
  } catch {
    // none left
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}, 120_000);

describe('the protocol node dies holding the owner’s signature', () => {
  it('before co-signing: abandoned, nothing sent; after storing: sent once on restart; the wallet shows which', async () => {
    await call('regtest.setPrice', { priceCents: 4_500_000 });
    const vault = await openActiveVault(call, [10_000_000]);
    const destination = (await call('regtest.newAddress')).address as string;
    const received = async () =>
      toSats(await bitcoin.call('getreceivedbyaddress', [destination, 0], { wallet: 'miner' }));

    // 1. Killed after the owner signed, before the co-signature.
    const first = await call('vaults.previewWithdraw', {
      vaultId: vault.id,
      amountSats: 1_000_000,
      destination,
    });
    const lost = await call('vaults.withdraw', { vaultId: vault.id, spendId: first.spendId }).then(
      () => 'sent',
      (err: { code?: string }) => err.code,
    );
    expect(lost).toBe('NODE_UNREACHABLE');
    expect((await call('wallet.signed'))[0]).toMatchObject({
      spendId: first.spendId,
      outcome: 'submitted',
    });
    await reapNode();
    await startNode('spend.signed');
    const abandoned = await until(
      'the wallet to hear what became of it',
      async () =>
        (await call('wallet.signed')).find((r: { spendId: number }) => r.spendId === first.spendId),
      (r) => r?.outcome !== 'submitted',
    );
    expect(abandoned).toMatchObject({ outcome: 'refused', txid: null });
    expect(abandoned.message).toMatch(/nothing was sent/);
    expect(await received()).toBe(0);

    // 2. Killed after co-signing and storing, before broadcasting.
    const second = await call('vaults.previewWithdraw', {
      vaultId: vault.id,
      amountSats: 1_000_000,
      destination,
    });
    expect(
      await call('vaults.withdraw', { vaultId: vault.id, spendId: second.spendId }).then(
        () => 'sent',
        (err: { code?: string }) => err.code,
      ),
    ).toBe('NODE_UNREACHABLE');
    await reapNode();
    await startNode();
    const sent = await until(
      'the wallet to hear the restart sent it',
      async () =>
        (await call('wallet.signed')).find(
          (r: { spendId: number }) => r.spendId === second.spendId,
        ),
      (r) => r?.outcome !== 'submitted',
    );
    expect(sent).toMatchObject({ outcome: 'accepted' });
    expect(sent.txid).toMatch(/^[0-9a-f]{64}$/);
    await call('regtest.mine', { blocks: 1 });
    await until('the payment to confirm', received, (sats) => sats === 1_000_000);
    // Exactly once: the abandoned first signature never reached the chain.
    const confirmed = toSats(
      await bitcoin.call('getreceivedbyaddress', [destination, 1], { wallet: 'miner' }),
    );
    expect(confirmed).toBe(1_000_000);
    const v = await until(
      'the vault to count the change',
      () => call('vaults.get', { vaultId: vault.id }),
      (x) => x.collateralSats === 10_000_000 - 1_000_000 - second.feeSats,
    );
    expect(v.state).toBe('active');
  });
});
