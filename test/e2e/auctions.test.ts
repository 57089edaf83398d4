/**
 * Auctions beside the market, and what a liquidation did (issue 15 items 3 and 11), in Chromium
 * on local regtest. Three vaults fall into auctions at two prices; the auctions page is a table
 * with each price against the oracle's market price (a premium here: every fall starts above
 * it), sorted by that by default and by any column on a click; a wrong-network address or a bad
 * amount in the take dialog is refused under its field before the review; a review above the
 * market says so. After the take settles, the ended auction has its dates and average price, and
 * the liquidated vault's page shows the whole outcome with the settlement's numbers; a vault still
 * at auction shows how far it got. Screenshots: test-artifacts/e2e/67-… to 70-….
 */
import { describe, expect, it } from 'vitest';
import { openActiveVault, until } from '../helpers/rpc';
import { useE2eSession } from './fixtures/session';

const session = useE2eSession('auctions');
const call = (method: string, params?: unknown) => session().call(method, params);
const app = () => session().app;
const T = (id: string) => `[data-testid="${id}"]`;
/** A mainnet address (BIP173's example): well formed, of the wrong network here. */
const MAINNET = 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4';

/** Waits until the vault is in `state`. */
const stateOf = (vaultId: number, state: string) =>
  until(
    `vault #${vaultId} ${state}`,
    () => call('vaults.get', { vaultId }),
    (v) => v.state === state,
  );

describe('auctions against the market, and a liquidation told in full, in the browser', () => {
  it('a sortable table with premiums, a take checked under its fields, and the outcome on the vault page', async () => {
    await call('regtest.setPrice', { priceCents: 4_500_000 });
    const returnAddress = (await call('regtest.newAddress')).address as string;
    // 0.1 BTC each at $45,000: 173 %, 158 % and 153 %.
    const vaults: number[] = [];
    for (const debt of [260_000, 285_000, 295_000]) {
      const v = await openActiveVault(call, [10_000_000], { returnAddress });
      await call('vaults.mint', { vaultId: v.id, amountCents: debt });
      vaults.push(v.id);
    }
    const [first, second, third] = vaults as [number, number, number];
    // $42,000: the second and third fall under 150 % and go to auction together.
    await call('regtest.setPrice', { priceCents: 4_200_000 });
    await stateOf(second, 'liquidating');
    await stateOf(third, 'liquidating');
    // $38,000: the first follows, its fall starting from a lower top.
    await call('regtest.setPrice', { priceCents: 3_800_000 });
    await stateOf(first, 'liquidating');

    await app().open(session().host.openUrl);
    await app().nav('auctions');
    const table = app().page.locator(T('live-auctions'));
    const rows = table.locator('tbody tr');
    await expect.poll(() => rows.count(), { timeout: 30_000 }).toBe(3);
    await expect
      .poll(() => app().page.locator(T('auction-market')).innerText())
      .toContain('$38,000.00');
    const read = () =>
      rows.evaluateAll((trs) =>
        trs.map((tr) => ({
          vault: Number(tr.getAttribute('data-vault-id')),
          premiumBps: Number(tr.getAttribute('data-premium-bps')),
          tabCents: Number(tr.getAttribute('data-tab-cents')),
          priceCents: Number(tr.querySelector('[data-cents]')!.getAttribute('data-cents')),
          premium: tr.querySelector('[data-testid="auction-premium"]')!.textContent ?? '',
        })),
      );
    // Each price beside the market's: every fall starts above it, so each is a premium; the
    // newest auction (the lowest top) is the cheapest, and first.
    const shown = await read();
    for (const r of shown) {
      expect(r.premiumBps).toBe(Math.round(((r.priceCents - 3_800_000) * 10_000) / 3_800_000));
      expect(r.premiumBps).toBeGreaterThan(0);
      expect(r.premium).toMatch(/^\d+\.\d % above market$/);
    }
    expect(shown.map((r) => r.vault)[0]).toBe(first);
    const premiums = shown.map((r) => r.premiumBps);
    expect(premiums).toEqual([...premiums].sort((x, y) => x - y));
    await app().shot('67-auctions-table');

    // By tab, up and then down.
    await app().page.locator(T('auction-sort-tab')).click();
    await expect.poll(async () => (await read()).map((r) => r.vault)).toEqual(vaults);
    expect(
      await app()
        .page.locator('th', { has: app().page.locator(T('auction-sort-tab')) })
        .getAttribute('aria-sort'),
    ).toBe('ascending');
    await app().page.locator(T('auction-sort-tab')).click();
    await expect
      .poll(async () => (await read()).map((r) => r.vault))
      .toEqual([...vaults].reverse());

    // The take: refused under each field before any review.
    const dialog = await app().auctions().openTake(first);
    const review = dialog.locator(T('take-review'));
    await dialog.locator(T('take-address')).fill(MAINNET);
    await expect
      .poll(() => dialog.locator(T('take-address-problem')).innerText())
      .toMatch(/mainnet|network/i);
    expect(await review.isDisabled()).toBe(true);
    await dialog.locator(T('take-amount')).fill('0.123456789');
    await expect
      .poll(() => dialog.locator(T('take-amount-problem')).innerText())
      .toContain('at most 8 decimals');
    await app().shot('68-take-refused-under-fields');
    await dialog.locator(T('take-amount')).fill('1');
    await dialog.locator(T('take-use-wallet')).click();
    await expect.poll(() => dialog.locator(T('take-address')).inputValue()).toMatch(/^bcrt1/);
    expect(await dialog.locator(T('take-address-problem')).count()).toBe(0);
    await review.click();
    await dialog.locator(T('take-premium-warning')).waitFor();
    expect(await dialog.locator(T('take-review-summary')).innerText()).toMatch(/above market/);
    await dialog.locator(T('take-confirm')).click();
    await app().page.locator(T('take-result')).waitFor({ timeout: 60_000 });
    await expect.poll(() => rows.count()).toBe(2);

    // Settled on chain: a block carries the settlement, the next confirms it.
    const auctionOf = async (vaultId: number) =>
      (await call('auctions.list', { vaultId })).auctions[0];
    for (let i = 0; i < 6 && (await auctionOf(first)).state !== 'settled'; i++)
      await call('regtest.mine', { blocks: 1 });
    const settled = await until(
      'the auction settled',
      () => auctionOf(first),
      (x) => x.state === 'settled',
    );
    expect(settled.rest).toMatchObject({ address: returnAddress, to: 'owner' });

    const ended = app().page.locator(T(`ended-auction-${settled.id}`));
    await expect.poll(() => ended.getAttribute('data-state'), { timeout: 30_000 }).toBe('settled');
    expect(await ended.locator(T('ended-at')).innerText()).not.toBe('—');
    const average = Math.floor((settled.coveredCents * 100_000_000) / settled.soldSats);
    expect(await ended.locator(T('ended-average-price')).innerText()).toBe(
      `$${(average / 100).toLocaleString('en-US', { minimumFractionDigits: 2 })}`,
    );
    await app().shot('69-auction-ended');

    // The liquidated vault's page: the whole outcome, the chain's numbers.
    await app().vault(first).show();
    const outcome = app().page.locator(T('liquidation-outcome'));
    await outcome.waitFor();
    await expect
      .poll(() => outcome.locator(T('outcome-settlement-tx')).innerText(), { timeout: 30_000 })
      .toMatch(/confirmed/);
    expect(
      Number(
        await outcome
          .locator('[data-testid="outcome-raised"] [data-cents]')
          .getAttribute('data-cents'),
      ),
    ).toBe(settled.tabCents);
    expect(
      Number(
        await outcome.locator('[data-testid="outcome-sold"] [data-sats]').getAttribute('data-sats'),
      ),
    ).toBe(settled.soldSats);
    expect(Number(await outcome.locator(T('outcome-returned')).getAttribute('data-sats'))).toBe(
      10_000_000 - settled.soldSats - settled.settlementFeeSats,
    );
    expect(await outcome.locator(T('outcome-penalty')).innerText()).toMatch(/13(\.00)? %/);
    expect(await outcome.locator(T('outcome-settlement-tx')).innerText()).toContain(
      settled.settlementTxid.slice(0, 10),
    );
    await app().shot('70-vault-liquidation-outcome');

    // A vault still at auction says how far it got.
    await app().vault(second).show();
    await expect
      .poll(() => app().page.locator(T('liquidation-outcome')).innerText())
      .toMatch(/the auction so far[\s\S]*nothing yet/i);
  });
});
