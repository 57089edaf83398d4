/**
 * The delayed price in a browser (issue "The peg and the price"): a local regtest host whose
 * oracle delays the price liquidations use by 8 s (BITSTABLE_ORACLE). After a fall the price card
 * shows the current price, the older one liquidations still use, and when the new one takes
 * effect — then the delayed price catches up. Screenshots: test-artifacts/e2e/50-….
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rpcCall, until } from '../helpers/rpc';
import { launchBrowser, type Browser } from './fixtures/browser';
import { startHeadless, type Headless } from './fixtures/headless';
import { BitStableApp } from './pages/app';

const DELAY_MS = 8_000;
let host: Headless | undefined;
let browser: Browser | undefined;
let app: BitStableApp;
const call = (method: string, params: unknown = {}) =>
  rpcCall(host!.url, host!.token, method, params);
type Price = {
  priceCents: number;
  delay: { liquidationPriceCents: number | null; next: { priceCents: number } | null };
};

beforeAll(async () => {
  host = await startHeadless({
    env: { BITSTABLE_ORACLE: JSON.stringify({ priceDelayMs: DELAY_MS, intervalMs: 1_000 }) },
  });
  browser = await launchBrowser();
  app = new BitStableApp(browser.page, host.url);
}, 240_000);

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail')
    await app?.shot('failed-delayed-price').catch(() => undefined);
});

afterAll(async () => {
  await Promise.allSettled([browser?.close(), host?.stop()]);
});

describe('the delayed price, in the browser', () => {
  it('after a fall the card shows the current price beside the older one liquidations use, and when the new one takes effect', async () => {
    await call('regtest.setPrice', { priceCents: 5_000_000 });
    await until(
      'the delayed price to reach $50,000',
      () => call('price.get') as Promise<Price>,
      (p) => p.delay.liquidationPriceCents === 5_000_000,
    );
    await call('regtest.setPrice', { priceCents: 4_500_000 });
    const price = (await call('price.get')) as Price;
    expect(price.priceCents).toBe(4_500_000);
    expect(price.delay.liquidationPriceCents).toBe(5_000_000);
    expect(price.delay.next?.priceCents).toBe(4_500_000);

    await app.open(host!.openUrl);
    const card = app.page.locator('[data-testid="price-card"]');
    await expect
      .poll(() => card.locator('[data-testid="price-value"]').getAttribute('data-cents'))
      .toBe('4500000');
    const delayed = card.locator('[data-testid="price-delayed"]');
    await expect.poll(() => delayed.innerText()).toMatch(/Liquidations use\s*\$50,000\.00/);
    await expect.poll(() => delayed.innerText()).toMatch(/the higher of now and 8 s ago/);
    await expect
      .poll(() => delayed.innerText())
      .toMatch(/If the price stays, liquidations act on \$45,000\.00 in \d+ s/);
    await app.shot('50-delayed-price-waiting');

    // A delay later the liquidations' price has caught up and nothing is waiting.
    await expect
      .poll(() => delayed.innerText(), { timeout: 30_000 })
      .toMatch(/Liquidations use\s*\$45,000\.00/);
    expect(await card.locator('[data-testid="price-delayed-next"]').count()).toBe(0);
    await app.shot('51-delayed-price-caught-up');
  });
});
