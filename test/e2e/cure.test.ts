/**
 * Curing an auction in a browser (issue "The peg and the price", item 6): on local regtest a
 * vault falls into an auction; its page says a repay or deposit back to 160 % ends it without
 * penalty; a repay too small is refused with the amount that would cure it; that amount cures
 * it and the vault is Active again. Screenshots: test-artifacts/e2e/52-… to 54-….
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openActiveVault, rpcCall, until } from '../helpers/rpc';
import { launchBrowser, type Browser } from './fixtures/browser';
import { startHeadless, type Headless } from './fixtures/headless';
import { BitStableApp, VaultPage } from './pages/app';

let host: Headless | undefined;
let browser: Browser | undefined;
let app: BitStableApp;
const call = (method: string, params: unknown = {}) =>
  rpcCall(host!.url, host!.token, method, params);

beforeAll(async () => {
  host = await startHeadless();
  browser = await launchBrowser();
  app = new BitStableApp(browser.page, host.url);
}, 240_000);

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') await app?.shot('failed-cure').catch(() => undefined);
});

afterAll(async () => {
  await Promise.allSettled([browser?.close(), host?.stop()]);
});

describe('curing an auction, in the browser', () => {
  it('a repay too small is refused with the amount that cures; that amount ends the auction without penalty', async () => {
    await call('regtest.setPrice', { priceCents: 4_500_000 });
    const returnAddress = (await call('regtest.newAddress')).address as string;
    const vault = await openActiveVault(call, [10_000_000], { returnAddress });
    await call('vaults.mint', { vaultId: vault.id, amountCents: 250_000 });
    await call('regtest.setPrice', { priceCents: 3_500_000 }); // 140 %: liquidated
    await until(
      'the vault in an auction',
      () => call('vaults.get', { vaultId: vault.id }),
      (v) => v.state === 'liquidating',
    );

    await app.open(host!.openUrl);
    const page = await new VaultPage(app, vault.id).show();
    await page.waitForState('liquidating');
    await expect
      .poll(() => app.page.locator('.banner.danger').innerText())
      .toMatch(
        /Until someone buys from it, bringing the vault back to 160\.00 % .* ends the auction without penalty/,
      );
    await app.shot('52-cure-liquidating');

    // Too little: the refusal names the amount that would cure it, and nothing changes.
    await app.page.locator('[data-testid="op-tab-repay"]').click();
    await app.page.locator('[data-testid="repay-amount"]').fill('100');
    await app.page.locator('[data-testid="repay-review"]').click();
    const dialog = app.page.locator('[data-testid="repay-dialog"]');
    await dialog.locator('[data-testid="repay-confirm"]').click();
    const refusal = dialog.locator('[data-testid="error"]');
    await expect.poll(() => refusal.innerText()).toMatch(/repaying at least 312\.50 bsUSD/);
    expect(await refusal.getAttribute('data-code')).toBe('VAULT_LIQUIDATING');
    await app.shot('53-cure-too-little');
    expect((await call('vaults.get', { vaultId: vault.id })).debtCents).toBe(250_000);
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    // The amount it named: the vault is Active again, the auction ended as cured.
    await page.changeDebt('repay', '312.50');
    await page.waitForState('active');
    const { auctions } = (await call('auctions.list', {})) as {
      auctions: { vaultId: number; curedAt: number | null }[];
    };
    const ended = auctions.find((a) => a.vaultId === vault.id);
    expect(ended?.curedAt).not.toBeNull();
    await app.go('#/auctions');
    await app.page.locator('[data-testid="auction-cured"]').first().waitFor({ timeout: 30_000 });
    await app.shot('54-cure-ended');
  });
});
