/**
 * Two people in two browsers, each with their own wallet host, against one protocol node — all
 * real processes on one regtest chain (issue 12). Alice opens a vault on her own owner key,
 * mints, and sends Bob bsUSD from "Send & receive"; Bob sees it arrive; the price falls and Bob
 * takes Alice's auction from his own balance; Alice sees her vault Liquidated. Screenshots of
 * both sides go to test-artifacts/e2e/ (30-…). Bob's wallet checks the node's price against two
 * exchanges of its own (fake ones on loopback HTTP with the real ticker formats); Alice's has
 * none and says so.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type Browser } from './fixtures/browser';
import { ensureRendererBuilt } from '../../scripts/headless';
import { BitStableApp } from './pages/app';
import { startScript, type Child } from '../helpers/process';
import { FakeExchange } from '../fixtures/oracle/exchanges';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PASSPHRASE = 'parties-e2e-passphrase';
const dirs: string[] = [];
const children: Child[] = [];
const browsers: Browser[] = [];
let exchanges: FakeExchange[] = [];
let gatewayUrl = '';
const tmp = (name: string) => {
  const d = mkdtempSync(join(tmpdir(), `bitstable-e2e-${name}-`));
  dirs.push(d);
  return d;
};

interface Person {
  app: BitStableApp;
  openUrl: string;
  account: string;
}
let alice: Person;
let bob: Person;

async function person(
  label: string,
  gateway: string,
  rpcUrl: string,
  cookie: string,
  env: Record<string, string> = {},
): Promise<Person> {
  const c = startScript(
    'headless.ts',
    ['--connect', gateway, '--data-dir', tmp(label), '--port', '0', '--label', label],
    {
      BITSTABLE_PASSPHRASE: PASSPHRASE,
      BITSTABLE_RPC_URL: rpcUrl,
      BITSTABLE_RPC_COOKIE: cookie,
      ...env,
    },
  );
  children.push(c);
  const [, openUrl] = await c.waitFor(/Open: (http:\/\/\S+#token=[A-Za-z0-9_-]+)/);
  const [, account] = await c.waitFor(/Account: (bsa1\S+)/);
  const browser = await launchBrowser();
  browsers.push(browser);
  const base = openUrl!.slice(0, openUrl!.indexOf('/#'));
  return { app: new BitStableApp(browser.page, base), openUrl: openUrl!, account: account! };
}

beforeAll(async () => {
  await ensureRendererBuilt();
  const node = startScript('protocol.ts', ['--port', '0', '--data-dir', tmp('protocol')], {
    BITSTABLE_PASSPHRASE: PASSPHRASE,
  });
  children.push(node);
  const [, rpcUrl, cookie] = await node.waitFor(/Bitcoin RPC: (\S+) cookie=(\S+)/);
  const [, gateway] = await node.waitFor(/Gateway: (http:\/\/\S+)/);
  gatewayUrl = gateway!;
  // Two exchanges that send no timestamps, so they stay fresh however long the test runs.
  exchanges = await Promise.all(
    (['binance', 'kraken'] as const).map((k) => FakeExchange.start(k, Date.now())),
  );
  for (const e of exchanges) e.price = '45000.00';
  const oracle = {
    sources: Object.fromEntries(
      exchanges.map((e) => [e.kind, { enabled: true, baseUrl: e.baseUrl }]),
    ),
    threshold: 2,
  };
  [alice, bob] = await Promise.all([
    person('alice', gateway!, rpcUrl!, cookie!),
    person('bob', gateway!, rpcUrl!, cookie!, { BITSTABLE_ORACLE: JSON.stringify(oracle) }),
  ]);
}, 240_000);

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') {
    const name = ctx.task.name.slice(0, 30).replace(/[^a-z0-9]+/gi, '-');
    await alice?.app.shot(`failed-parties-alice-${name}`).catch(() => undefined);
    await bob?.app.shot(`failed-parties-bob-${name}`).catch(() => undefined);
  }
});

afterAll(async () => {
  await Promise.allSettled(browsers.map((b) => b.close()));
  await Promise.allSettled(children.map((c) => c.stop()));
  await Promise.allSettled(exchanges.map((e) => e.close()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}, 120_000);

describe('two wallets, one protocol node, in two browsers', () => {
  const ids: { alice?: number; bob?: number } = {};

  it('each opens a vault on their own owner key and mints', async () => {
    await alice.app.open(alice.openUrl);
    await bob.app.open(bob.openUrl);
    await (await alice.app.regtest().show()).setPrice('45000');

    const create = alice.app.create();
    ids.alice = await create.createVault({
      label: 'Alice',
      withReturnAddress: true,
      shot: '30-parties-alice-create',
    });
    await create.fundAndConfirm('0.5');
    await create.goToVault();
    const aliceVault = await alice.app.vault(ids.alice).show();
    await aliceVault.waitForState('active');
    await aliceVault.changeDebt('mint', '10000');
    await alice.app.waitForBalance(1_000_000);

    const bobCreate = bob.app.create();
    ids.bob = await bobCreate.createVault({ label: 'Bob', withReturnAddress: true });
    await bobCreate.fundAndConfirm('2');
    await bobCreate.goToVault();
    const bobVault = await bob.app.vault(ids.bob).show();
    await bobVault.waitForState('active');
    await bobVault.changeDebt('mint', '12000');
    await bob.app.waitForBalance(1_200_000);
    // Each dashboard lists only its own vault.
    await (await bob.app.dashboard().show()).waitForState(ids.bob, 'active');
    expect(await bob.app.dashboard().row(ids.alice).count()).toBe(0);
  });

  it("Bob's wallet checks the node's price against its own exchanges; Alice's says it has none", async () => {
    await bob.app.dashboard().show();
    const own = bob.app.page.locator('[data-testid="price-own-check"][data-state="agrees"]');
    await own.waitFor({ timeout: 30_000 });
    expect(await own.innerText()).toContain('within 0.00 %');
    await bob.app.shot('38-parties-bob-price-check');
    await alice.app.dashboard().show();
    await alice.app.page
      .locator('[data-testid="price-own-check"][data-state="not-checked"]')
      .waitFor({ timeout: 30_000 });
  });

  it('Alice sends Bob 2,000 bsUSD; Bob sees it arrive', async () => {
    const bobMoney = await bob.app.money().show();
    expect(await bobMoney.accountId()).toBe(bob.account);
    const money = await alice.app.money().show();
    const done = await money.send(
      bob.account,
      '2000',
      'for the bike',
      '31-parties-alice-send-review',
    );
    expect(done).toContain('2,000.00 bsUSD');
    await alice.app.waitForBalance(800_000);
    await alice.app.shot('32-parties-alice-sent');
    // Bob's page updates from the pushed transfer event.
    await bob.app.waitForBalance(1_400_000);
    await bob.app.page
      .locator('[data-testid="statement-line"][data-kind="transfer"]')
      .filter({ hasText: 'for the bike' })
      .waitFor({ timeout: 30_000 });
    await bob.app.shot('33-parties-bob-received');
  });

  it("the price falls; Bob takes Alice's auction with his own bsUSD; Alice's vault is Liquidated", async () => {
    await (await bob.app.regtest().show()).setPrice('28000');
    // The node's price fell; the exchanges Bob asks did not: his dashboard warns.
    await bob.app.dashboard().show();
    const differs = bob.app.page.locator('[data-testid="price-own-check"][data-state="differs"]');
    await differs.waitFor({ timeout: 30_000 });
    expect(await differs.innerText()).toMatch(/37\.78 % away from your wallet's own, \$45000\.00/);
    await bob.app.shot('39-parties-bob-price-differs');
    const auctions = await bob.app.auctions().show();
    await auctions.row(ids.alice!).waitFor({ timeout: 60_000 });
    await bob.app.shot('34-parties-bob-auction');
    const result = await auctions.takeCovering(ids.alice!, '35-parties-bob-take-review');
    expect(result).toContain('11,300.00 bsUSD'); // the tab: 10,000.00 × 1.13
    await bob.app.waitForBalance(1_400_000 - 1_130_000);
    await (await bob.app.regtest().show()).mine(1);
    const vault = await alice.app.vault(ids.alice!).show();
    await vault.waitForState('liquidated');
    await alice.app.shot('36-parties-alice-liquidated');
    await alice.app.waitForBalance(800_000); // Alice keeps what she minted and did not send
  });

  it("Alice's settings name the protocol node and her pinned keys; her recovery kit comes from her wallet", async () => {
    const settings = await alice.app.settings().show();
    const page = alice.app.page;
    expect(await page.locator('[data-testid="protocol-node-url"]').innerText()).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+$/,
    );
    const descriptor = await settings.descriptor();
    // The kit is on the owner key of Alice's wallet (as its wallet API reports it).
    const base = alice.openUrl.slice(0, alice.openUrl.indexOf('/#'));
    const token = alice.openUrl.slice(alice.openUrl.indexOf('token=') + 6);
    const res = await fetch(`${base}/rpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'status.get', params: {} }),
    });
    const { result } = (await res.json()) as { result: { owner: { key: string } } };
    expect(descriptor).toContain(result.owner.key);
    expect(await page.locator('[data-testid="settings-keys"]').innerText()).toContain(
      result.owner.key.slice(0, 30),
    );
    await alice.app.shot('37-parties-alice-settings');

    // Settings → Protocol node: test an address; the fingerprints match what she pinned.
    await page.locator('[data-testid="choose-remote"]').check();
    await page.locator('[data-testid="protocol-node-url-field"]').fill(gatewayUrl);
    await page.locator('[data-testid="protocol-node-test"]').click();
    const tested = page.locator('[data-testid="protocol-node-tested"]');
    await tested.waitFor();
    expect(await tested.innerText()).toContain(
      await page.locator('[data-testid="protocol-key-fingerprint"]').innerText(),
    );
    await tested.scrollIntoViewIfNeeded();
    await alice.app.shot('44-parties-alice-test-node');
  });
});
