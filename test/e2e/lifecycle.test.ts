/**
 * The whole lifecycle in a real browser against the headless host and a real regtest bitcoind:
 * open a vault, fund it from the faucet, mine, see it Active, mint; repay and close another
 * vault; drop the simulated price into Warning and then into liquidation; take the auction with
 * a second vault's bsUSD; see the first vault Liquidated. Screenshots of every page go to
 * test-artifacts/e2e/.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type Browser } from './fixtures/browser';
import { startHeadless, type Headless } from './fixtures/headless';
import { randomBytes } from 'node:crypto';
import { accountKey, signLogin } from '../../core/accounts/login';
import { BitStableApp } from './pages/app';

/** One JSON-RPC call over the gateway's POST /rpc. */
async function rpcOver(url: string, token: string | null, method: string, params: unknown = {}) {
  const res = await fetch(`${url}/rpc`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(body.error.message);
  return body.result as Record<string, unknown>;
}

/** A second person: a fresh account key, signed in by challenge and signature. */
async function signInOver(url: string): Promise<{ id: string; token: string }> {
  const secret = randomBytes(32);
  const { id } = accountKey(secret);
  const { challenge, nodeId } = (await rpcOver(url, null, 'auth.challenge')) as {
    challenge: string;
    nodeId: string;
  };
  const { token } = (await rpcOver(url, null, 'auth.signIn', {
    accountId: id,
    challenge,
    origin: new URL(url).origin,
    signature: signLogin(secret, nodeId, challenge, new URL(url).origin),
  })) as { token: string };
  return { id, token };
}

let host: Headless | undefined;
let browser: Browser | undefined;
let app: BitStableApp;

beforeAll(async () => {
  host = await startHeadless();
  browser = await launchBrowser();
  app = new BitStableApp(browser.page, host.url);
});

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail' && browser) {
    await app
      .shot(`failed-${ctx.task.name.slice(0, 40).replace(/[^a-z0-9]+/gi, '-')}`)
      .catch(() => undefined);
  }
});

afterAll(async () => {
  // Both always stop, even when a test failed or the other one throws.
  await Promise.allSettled([browser?.close(), host?.stop()]);
});

describe('a person in a browser, on local regtest', () => {
  const ids: { alice?: number; bob?: number; carol?: number } = {};

  it('opens the app from the printed link; the token leaves the address bar', async () => {
    const dashboard = await app.open(host!.openUrl);
    expect(app.page.url()).not.toContain('token=');
    await dashboard.page.locator('[data-testid="empty-state"]').waitFor();
    await app.shot('01-dashboard-empty');
  });

  it('opens a vault, funds it from the faucet, mines, sees it Active, and mints 25,000 bsUSD', async () => {
    const create = app.create();
    ids.alice = await create.createVault({
      label: 'Alice',
      plannedBtc: '1',
      withReturnAddress: true,
      shot: '02-create',
    });
    await create.fundAndConfirm('1');
    await app.shot('03-create-funded');
    await create.goToVault();
    const vault = await app.vault(ids.alice).show();
    await vault.waitForState('active');
    // Past the edge: the form says so, with the numbers, before any review.
    await app.page.locator('[data-testid="op-tab-mint"]').click();
    await app.page.locator('[data-testid="mint-amount"]').fill('40000');
    await expect
      .poll(() => app.page.locator('[data-testid="mint-problem"]').innerText())
      .toMatch(
        /under 150\.00 %: it would be liquidated at once\. Mint at most .* to stay at 200\.00 %/,
      );
    expect(await app.page.locator('[data-testid="mint-review"]').isDisabled()).toBe(true);
    // Safe max mints to the target ratio (200 % unless changed).
    await app.page.locator('[data-testid="mint-safe-max"]').click();
    expect(await app.page.locator('[data-testid="mint-ratio-after"]').innerText()).toMatch(
      /^200\.\d\d %$/,
    );
    expect(await app.page.locator('[data-testid="mint-review"]').isDisabled()).toBe(false);
    await app.shot('04a-mint-safe-max');
    await vault.changeDebt('mint', '25000', '04-mint-review');
    expect(await vault.debtText()).toContain('25,000.00 bsUSD');
    // The operation tabs follow the arrow keys, focus with them.
    await app.page.locator('[data-testid="op-tab-mint"]').focus();
    await app.page.keyboard.press('ArrowRight');
    expect(
      await app.page.locator('[data-testid="op-tab-repay"]').getAttribute('aria-selected'),
    ).toBe('true');
    expect(await app.page.evaluate(() => document.activeElement?.id)).toBe('tab-repay');
    await app.waitForBalance(2_500_000);
    await app.shot('05-vault-active');
  });

  it('a second vault mints the bsUSD a liquidator will pay with', async () => {
    const create = app.create();
    ids.bob = await create.createVault({ label: 'Bob (liquidator)', withReturnAddress: true });
    await create.fundAndConfirm('2');
    await create.goToVault();
    const vault = app.vault(ids.bob);
    await vault.waitForState('active');
    await vault.changeDebt('mint', '30000');
    await app.waitForBalance(5_500_000);
  });

  it('a third vault is repaid and closed', async () => {
    const create = app.create();
    ids.carol = await create.createVault({ label: 'Carol', withReturnAddress: true });
    await create.fundAndConfirm('0.5');
    await create.goToVault();
    const vault = app.vault(ids.carol);
    await vault.changeDebt('mint', '100');
    await app.waitForBalance(5_510_000);
    await vault.changeDebt('repay', null);
    await app.waitForBalance(5_500_000);
    await vault.close('06-close-review', { keepResult: true });
    // The vault closes while its result is still open: the Close tab and its result stay.
    await rpcOver(host!.url, host!.token, 'regtest.mine', { blocks: 1 });
    await vault.waitForState('closed');
    const closeResult = app.page.locator('[data-testid="close-dialog"] [data-testid="op-result"]');
    expect(await closeResult.isVisible()).toBe(true);
    expect(await vault.selectedTab()).toBe('close');
    await app.shot('08a-close-result-held');
    // Once the result is closed, the closed vault's page offers nothing more.
    await closeResult.locator('[data-testid="op-done"]').click();
    await app.page.locator('[data-testid="operations"]').waitFor({ state: 'detached' });
    await app.page
      .getByText('This vault is closed; there is nothing more to do with it.')
      .waitFor();
    const regtest = await app.regtest().show();
    await regtest.mine(1);
    await app.shot('07-regtest');
    await app.vault(ids.carol).show();
    await app.vault(ids.carol).waitForState('closed');
    // A closed vault's address is not offered for deposits any more.
    await app.page.locator('[data-testid="address-retired"]').waitFor();
    expect(await app.page.locator('.page-head').getByRole('button', { name: 'Copy' }).count()).toBe(
      0,
    );
    await app.shot('08-vault-closed');
  });

  it('the price falls to 39,000: the first vault is in Warning (156 %)', async () => {
    const regtest = await app.regtest().show();
    await regtest.setPrice('39000');
    const dashboard = await app.dashboard().show();
    await dashboard.waitForState(ids.alice!, 'warning');
    await dashboard.waitForState(ids.bob!, 'active');
    await dashboard.waitForState(ids.carol!, 'closed');
    await app.shot('09-dashboard-warning');
    await app.vault(ids.alice!).show();
    // Drawn first from the cached Active vault, the page moves to Repay once it reads Warning.
    await expect
      .poll(() => app.page.locator('[data-testid="op-tab-repay"]').getAttribute('aria-selected'))
      .toBe('true');
    await app.shot('10-vault-warning');
    // What if BTC halved: the gauge follows the slider, and the liquidation price is named.
    const gauge = app.page.locator('[data-testid="ratio-gauge"]');
    const nowBps = Number(await gauge.getAttribute('data-bps'));
    await app.page.locator('[data-testid="whatif-slider"]').fill('50');
    await expect
      .poll(async () => Number(await gauge.getAttribute('data-bps')))
      .toBeLessThanOrEqual(Math.ceil(nowBps / 2));
    const ratioText = await app.page.locator('[data-testid="whatif-ratio"]').innerText();
    expect(await gauge.locator('svg').getAttribute('aria-label')).toBe(
      `Ratio if BTC were $19,500.00: ${ratioText}`,
    );
    expect(await app.page.locator('[data-testid="whatif-liquidation"]').innerText()).toMatch(
      /^Liquidated under \$37,500\.00 \(-3\.8 % from now\), the mark on the slider\.$/,
    );
    await app.shot('10a-vault-what-if');
    await app.page.getByRole('button', { name: 'Reset to the current price' }).click();
    await expect.poll(async () => Number(await gauge.getAttribute('data-bps'))).toBe(nowBps);
  });

  it('the price falls to 35,000: the first vault is liquidated in an auction; the second takes it and the settlement confirms', async () => {
    // A withdrawal under review when the vault goes to auction: the review and its tab stay.
    const alice = await app.vault(ids.alice!).show();
    await app.page.locator('[data-testid="op-tab-withdraw"]').click();
    await app.page.locator('[data-testid="withdraw-amount"]').fill('0.001');
    await app.page.locator('[data-testid="withdraw-use-wallet"]').click();
    await app.page.waitForFunction(() =>
      (
        document.querySelector<HTMLInputElement>('[data-testid="withdraw-destination"]')?.value ??
        ''
      ).startsWith('bcrt1'),
    );
    await app.page.locator('[data-testid="withdraw-review"]').click();
    const review = app.page.locator('[data-testid="withdraw-dialog"]');
    await review.locator('[data-testid="review-outputs"]').waitFor({ timeout: 60_000 });
    await rpcOver(host!.url, host!.token, 'regtest.setPrice', { priceCents: 3_500_000 });
    await alice.waitForState('liquidating');
    expect(await review.locator('[data-testid="review-outputs"]').isVisible()).toBe(true);
    expect(await alice.selectedTab()).toBe('withdraw');
    await app.shot('10b-withdraw-review-held');
    // Cancelled, the review lets the tab go, with no other click: a vault at auction opens on Repay.
    await review.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => alice.selectedTab()).toBe('repay');
    expect(await app.page.locator('[data-testid="op-tab-withdraw"]').isDisabled()).toBe(true);

    const dashboard = await app.dashboard().show();
    await dashboard.waitForState(ids.alice!, 'liquidating');

    const auctions = await app.auctions().show();
    await auctions.row(ids.alice!).waitFor();
    await app.shot('11-auction-live');
    const result = await auctions.takeCovering(ids.alice!, '12-take-review');
    expect(result).toContain('28,250.00 bsUSD'); // the tab: 25,000.00 × 1.13
    await app.waitForBalance(5_500_000 - 2_825_000);
    await app.page.locator('[data-testid^="ended-auction-"]').first().waitFor();
    await app.shot('13-auction-taken');

    await (await app.regtest().show()).mine(1);
    const vault = await app.vault(ids.alice!).show();
    await vault.waitForState('liquidated');
    expect(await vault.debtText()).toContain('0.00 bsUSD');
    await app.shot('14-vault-liquidated');
    await (await app.dashboard().show()).waitForState(ids.alice!, 'liquidated');
    await app.shot('15-dashboard-final');
  });

  it('sends bsUSD to another account from Send & receive; the statement shows it, and the receiver holds it', async () => {
    // The receiver: another person's account, signed in at this node with its own key.
    const bob = await signInOver(host!.url);
    const money = await app.money().show();
    expect(await money.accountId()).toMatch(/^bsa1/);
    await app.shot('16-money');
    const done = await money.send(bob.id, '1000', 'for the bike', '17-send-review');
    expect(done).toContain('1,000.00 bsUSD');
    await app.waitForBalance(5_500_000 - 2_825_000 - 100_000);
    await app.page.locator('[data-testid="statement-line"][data-kind="transfer"]').waitFor();
    expect((await money.statementKinds())[0]).toBe('transfer');
    await app.shot('18-money-sent');
    expect(await rpcOver(host!.url, bob.token, 'balance.get')).toEqual({ bsusdCents: 100_000 });
  });

  it('plays another side: adds a Liquidator playground account, pays it, switches to it and back', async () => {
    const regtest = await app.regtest().show();
    const page = app.page;
    await page.locator('[data-testid="playground-label"]').fill('Liquidator');
    await page.locator('[data-testid="playground-add"]').click();
    const row = page
      .locator('[data-testid="playground-account"]')
      .filter({ hasText: 'Liquidator' });
    await row.waitFor();
    const liquidator = (await row.getAttribute('data-account'))!;
    const mine = 5_500_000 - 2_825_000 - 100_000;
    const money = await app.money().show();
    await money.send(liquidator, '500', 'to play the liquidator');
    await app.waitForBalance(mine - 50_000);
    await regtest.show();
    await row.locator('[data-testid="playground-switch"]').click();
    await page
      .locator('[data-testid="playground-account"][data-active="true"]')
      .filter({ hasText: 'Liquidator' })
      .waitFor();
    // The whole window is the liquidator's now: its balance, its (no) vaults.
    await app.waitForBalance(50_000);
    await app.shot('19-playground-liquidator');
    await (await app.dashboard().show()).page.locator('[data-testid="empty-state"]').waitFor();
    await regtest.show();
    await page
      .locator('[data-testid="playground-account"]')
      .filter({ hasText: 'You' })
      .locator('[data-testid="playground-switch"]')
      .click();
    await app.waitForBalance(mine - 50_000);
  });

  it('settings show the node, the oracle, the keys and the recovery kit', async () => {
    const settings = await app.settings().show();
    expect(await settings.descriptor()).toMatch(/^wsh\(sortedmulti\(2,/);
    await app.shot('19-settings');
  });
});
