/**
 * The protocol node is gone (issue 12), in a browser: a wallet host with its own Bitcoin node,
 * connected to a protocol node whose guardian is an independent key (this test plays the
 * guardian with its own seed). The vault is set up through the wallet's API; then the node is
 * SIGKILLed and the person works in the UI: the banner says the node does not answer, the page
 * "Without the protocol node" lists the vault from the wallet's own records, the exit is built
 * and owner-signed, the guardian's signed PSBT is pasted back, and the wallet sends it through its
 * own node. Screenshots: test-artifacts/e2e/40-… to 43-….
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { keyExpression, parseKey } from '../../core/bitcoin/keys';
import { network } from '../../core/config/networks';
import { softwareGuardianAccount } from '../../core/keys/node-keys';
import { RpcClient, toSats } from '../../core/node/rpc';
import { SoftwareSigner } from '../../core/signers/software';
import { ensureRendererBuilt } from '../../scripts/headless';
import { scratch, type Child } from '../helpers/process';
import { openActiveVault, rpcCall, until } from '../helpers/rpc';
import { launchBrowser, type Browser } from './fixtures/browser';
import { BitStableApp } from './pages/app';

const net = network('regtest');
const PASSPHRASE = 'exit-alone-e2e-passphrase';
const guardianSeed = randomBytes(32);
const guardianKey = keyExpression(softwareGuardianAccount(guardianSeed, net));
const files = scratch('bitstable-e2e');
let browser: Browser | null = null;
let protocolDir: string;
let node: Child;
let bitcoin: RpcClient;
let wallet: { url: string; token: string; openUrl: string };
let app: BitStableApp;
const tmp = files.tmp;
const call = (method: string, params: unknown = {}) =>
  rpcCall(wallet.url, wallet.token, method, params);

beforeAll(async () => {
  await ensureRendererBuilt();
  protocolDir = tmp('alone-protocol');
  node = files.start(
    'protocol.ts',
    ['--port', '0', '--data-dir', protocolDir, '--guardian-key', guardianKey],
    { BITSTABLE_PASSPHRASE: PASSPHRASE },
  );
  const [, gateway] = await node.waitFor(/Gateway: (http:\/\/\S+)/);
  const [, rpcUrl, cookie] = await node.waitFor(/Bitcoin RPC: (\S+) cookie=(\S+)/);
  bitcoin = new RpcClient({ url: rpcUrl!, auth: { kind: 'cookie', cookieFile: cookie! } });
  const c = files.start(
    'headless.ts',
    ['--connect', gateway!, '--data-dir', tmp('alone-wallet'), '--port', '0', '--label', 'alice'],
    {
      BITSTABLE_PASSPHRASE: PASSPHRASE,
      BITSTABLE_RPC_URL: rpcUrl!,
      BITSTABLE_RPC_COOKIE: cookie!,
      BITSTABLE_EXIT_ALONE_AFTER_S: '3',
    },
  );
  const [, openUrl, url, token] = await c.waitFor(
    /Open: ((http:\/\/\S+)\/#token=([A-Za-z0-9_-]+))/,
  );
  wallet = { url: url!, token: token!, openUrl: openUrl! };
  browser = await launchBrowser();
  app = new BitStableApp(browser.page, url!);
}, 240_000);

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail')
    await app?.shot('failed-exit-alone').catch(() => undefined);
});

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await files.cleanup();
}, 120_000);

describe('an exit without the protocol node, in the browser', () => {
  it('the node dies; the wallet shows its own records, signs the exit, takes the guardian’s PSBT and sends it', async () => {
    await call('regtest.setPrice', { priceCents: 4_500_000 });
    const returnAddress = (await call('regtest.newAddress')).address as string;
    const vault = await openActiveVault(call, [30_000_000], { returnAddress });
    await call('vaults.mint', { vaultId: vault.id, amountCents: 400_000 });
    const destination = (await call('regtest.newAddress')).address as string;
    const info = await call('node.info');
    const owner = (await call('status.get')).owner.key as string;
    await app.open(wallet.openUrl);

    node.child.kill('SIGKILL');
    await new Promise<void>((r) => node.child.once('exit', () => r()));
    const page = app.page;
    // The top bar stops calling the last price fresh: grey, and as of when it was read.
    await expect
      .poll(() => page.locator('[data-testid="price-freshness"]').innerText(), { timeout: 45_000 })
      .toMatch(/^as of \d\d:\d\d:\d\d$/);
    expect(await page.locator('[data-testid="price-freshness"]').getAttribute('class')).toContain(
      'stale',
    );
    // So does the dashboard's price card.
    expect(await page.locator('[data-testid="price-status"]').innerText()).toMatch(/^As of /);
    await app.shot('40a-alone-price-stale');
    // The dashboard's reads fail; the banner points to what the wallet can do alone.
    await page.reload();
    const banner = page.locator('[data-testid="node-unreachable-banner"]');
    await banner.waitFor({ timeout: 60_000 });
    await app.shot('40-alone-node-gone');
    await banner.locator('a').click();
    await page.locator('[data-testid="page-alone"]').waitFor();
    await page
      .locator('[data-testid="alone-reachable"][data-reachable="false"]')
      .waitFor({ timeout: 30_000 });
    const row = page.locator(`[data-testid="alone-vault-${vault.id}"]`);
    expect(await row.innerText()).toContain('0.30000000');
    await row.locator('[data-testid="alone-build"]').waitFor({ timeout: 30_000 });
    await app.shot('41-alone-ready');

    await row.locator('[data-testid="alone-destination"]').fill(destination);
    page.once('dialog', (d) => void d.accept());
    await row.locator('[data-testid="alone-build"]').click();
    const exitRow = page.locator('[data-testid^="alone-exit-"][data-state="awaiting-guardian"]');
    await exitRow.waitFor({ timeout: 30_000 });
    await app.shot('42-alone-signed-for-guardian');

    // The guardian, elsewhere, signs what the wallet handed out.
    const [exit] = (await call('wallet.alone')).exits;
    const keys = {
      owner: parseKey(owner, net),
      protocol: parseKey(info.protocolKey, net),
      guardian: parseKey(info.guardianKey, net),
    };
    const signed = await new SoftwareSigner({
      role: 'guardian',
      network: net,
      secret: { seed: guardianSeed },
    }).signPsbt(exit.psbtBase64, { keys });
    await exitRow.locator('[data-testid="alone-signed"]').fill(signed);
    await exitRow.locator('[data-testid="alone-send"]').click();
    const sent = page.locator('[data-testid^="alone-exit-"][data-state="broadcast"]');
    await sent.waitFor({ timeout: 30_000 });
    await app.shot('43-alone-sent');
    const txid = (await sent.locator('[data-testid="alone-sent"] code').innerText()).trim();
    expect(txid).toMatch(/^[0-9a-f]{64}$/);

    const miner = await bitcoin.call<string>('getnewaddress', [], { wallet: 'miner' });
    await bitcoin.call('generatetoaddress', [1, miner]);
    expect(
      toSats(await bitcoin.call('getreceivedbyaddress', [destination, 1], { wallet: 'miner' })),
    ).toBe(exit.amountSats);
    await until(
      'the page to show the vault empty',
      () => row.innerText(),
      (t) => t.includes('0.00000000'),
    );
  });
});
