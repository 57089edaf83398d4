/**
 * Finding one vault among 10,000 (issue 15 item 10), in Chromium on local regtest: the list
 * hides the empty Pending vaults by default and says how many; the search finds a vault by
 * number, by a part of its address and by the txid of its deposit in one step; the state filter
 * shows its counts; the pager is above and below the list and goes to a page by number.
 * Screenshots: test-artifacts/e2e/64-… to 66-….
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createVaults, rpcCall, until } from '../helpers/rpc';
import { launchBrowser, type Browser } from './fixtures/browser';
import { startHeadless, type Headless } from './fixtures/headless';
import { BitStableApp } from './pages/app';

let host: Headless | undefined;
let browser: Browser | undefined;
let app: BitStableApp;
const call = (method: string, params: unknown = {}) =>
  rpcCall(host!.url, host!.token, method, params);
const T = (id: string) => `[data-testid="${id}"]`;

beforeAll(async () => {
  host = await startHeadless();
  browser = await launchBrowser();
  app = new BitStableApp(browser.page, host.url);
}, 240_000);

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail')
    await app?.shot('failed-vault-list').catch(() => undefined);
});

afterAll(async () => {
  await Promise.allSettled([browser?.close(), host?.stop()]);
});

describe('the vault list at 10,000 vaults, in the browser', () => {
  it('hides the empty ones, finds one by number, address or txid in one step, and pages from both ends', async () => {
    const ids = await createVaults(host!.url, host!.token, 10_000, 'bulk');
    // Two of them funded: the rest are Pending with nothing sent.
    const funded = [ids[2_999]!, ids[7_999]!];
    const deposits: Record<number, string> = {};
    for (const id of funded) {
      const { address } = await call('vaults.get', { vaultId: id });
      deposits[id] = (await call('regtest.faucet', { address, amountSats: 1_000_000 })).txid;
    }
    await call('regtest.mine', { blocks: 1 });
    await until(
      'the two funded vaults active',
      () => call('vaults.list', { state: 'active' }),
      (l) => l.total === 2,
    );

    await app.open(host!.openUrl);
    const table = app.page.locator(T('vault-table'));
    await table.waitFor();
    const rows = table.locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    await expect
      .poll(() => app.page.locator(T('hide-empty-pending')).locator('..').innerText())
      .toMatch(/9,998 hidden/);
    const filter = app.page.locator(T('state-filter'));
    expect(await filter.locator('option[value="pending"]').innerText()).toBe('Pending (9998)');
    expect(await filter.locator('option[value=""]').innerText()).toBe('All states (10000)');
    await app.shot('64-vault-list-hidden');

    // By number, one step: type and press Enter.
    const search = app.page.locator(T('vault-search'));
    const target = ids[536]!;
    await search.fill(`#${target}`);
    await search.press('Enter');
    await expect.poll(() => rows.count()).toBe(1);
    await app.page.locator(T(`vault-row-${target}`)).waitFor();
    await app.shot('65-vault-list-search');
    // By a part of its address, and by the whole txid of a deposit.
    const { address } = await call('vaults.get', { vaultId: target });
    await search.fill(address.slice(-14));
    await search.press('Enter');
    await app.page.locator(T(`vault-row-${target}`)).waitFor();
    await expect.poll(() => rows.count()).toBe(1);
    await search.fill(deposits[funded[1]!]!);
    await search.press('Enter');
    await app.page.locator(T(`vault-row-${funded[1]}`)).waitFor();
    await expect.poll(() => rows.count()).toBe(1);
    await search.fill('no such vault');
    await search.press('Enter');
    await expect
      .poll(() => app.page.locator(T('search-empty')).innerText())
      .toMatch(/No vault matches “no such vault”/);
    await search.fill('');
    await search.press('Enter');

    // All 10,000: pager above and below; go to page 100 from the top one.
    await app.page.locator(T('hide-empty-pending')).uncheck();
    await expect
      .poll(() => app.page.locator(T('pager-top')).innerText())
      .toMatch(/1–50 of 10,000[\s\S]*Page 1 of 200/);
    expect(await app.page.locator(T('pager-bottom')).count()).toBe(1);
    const goTo = app.page.locator(T('go-to-top'));
    await goTo.fill('201');
    await expect
      .poll(() => app.page.locator(T('pager-top')).innerText())
      .toMatch(/A page from 1 to 200\./);
    await goTo.fill('100');
    await goTo.press('Enter');
    await expect
      .poll(() => app.page.locator(T('pager-top')).innerText())
      .toMatch(/4,951–5,000 of 10,000[\s\S]*Page 100 of 200/);
    // Newest first: page 100 starts 4,950 vaults below the newest.
    const newest = Math.max(...ids);
    await app.page.locator(T(`vault-row-${newest - 4_950}`)).waitFor();
    await app.shot('66-vault-list-go-to');
  });
});
