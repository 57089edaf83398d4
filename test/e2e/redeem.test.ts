/**
 * Redeeming bsUSD in a browser (issue "The peg and the price", item 3): on local regtest two
 * vaults owe bsUSD; the Redeem page quotes 1,000.00 bsUSD (price, fee, what the vaults pay) and
 * redeems it from the lower-ratio vault; the payout is mined, and that vault's owner sees on its
 * page how much of its debt was redeemed for how much bitcoin. Screenshots: 57-… to 59-….
 */
import { describe, expect, it } from 'vitest';
import { openActiveVault, until } from '../helpers/rpc';
import { useE2eSession } from './fixtures/session';
import { VaultPage } from './pages/app';

const session = useE2eSession('redeem');

describe('redeeming bsUSD, in the browser', () => {
  it('quotes, redeems from the lowest-ratio vault, and tells that vault’s owner', async () => {
    const { app, call, host } = session();
    await call('regtest.setPrice', { priceCents: 4_500_000 });
    const returnAddress = (await call('regtest.newAddress')).address as string;
    const low = await openActiveVault(call, [10_000_000], { returnAddress });
    const high = await openActiveVault(call, [20_000_000], { returnAddress });
    await call('vaults.mint', { vaultId: low.id, amountCents: 280_000 }); // 160.7 %
    await call('vaults.mint', { vaultId: high.id, amountCents: 200_000 }); // 450 %

    await app.open(host.openUrl);
    await app.go('#/redeem');
    await app.page.locator('[data-testid="redeem-amount"]').fill('1000');
    await app.page.getByRole('button', { name: 'New regtest address' }).click();
    await expect
      .poll(() => app.page.locator('[data-testid="redeem-address"]').inputValue())
      .toMatch(/^bcrt1/);
    const quote = app.page.locator('[data-testid="redeem-quote"]');
    // 1,000.00 redeems 995.02 of debt (+ 4.98 fee); at $45,000 that is 0.02211155 BTC.
    await expect.poll(() => quote.innerText()).toMatch(/995\.02 bsUSD from 1 vault/);
    await expect.poll(() => quote.innerText()).toMatch(/4\.98 bsUSD/);
    await expect.poll(() => quote.innerText()).toMatch(/0\.02211155/);
    await app.shot('57-redeem-quote');

    await app.page.locator('[data-testid="redeem-confirm"]').click();
    const done = app.page.locator('[data-testid="redeem-done"]');
    await expect
      .poll(() => done.innerText(), { timeout: 30_000 })
      .toMatch(/Redeemed 995\.02 bsUSD/);
    await expect
      .poll(() => done.innerText())
      .toMatch(new RegExp(`Vault #${low.id}: 995\\.02 bsUSD`));
    await app.shot('58-redeem-done');

    await call('regtest.mine', { blocks: 1 });
    await until(
      'the payout to confirm',
      () => call('vaults.get', { vaultId: low.id }),
      (v) => v.redemptions[0]?.state === 'paid',
    );
    expect((await call('vaults.get', { vaultId: low.id })).debtCents).toBe(280_000 - 99_502);
    expect((await call('vaults.get', { vaultId: high.id })).debtCents).toBe(200_000);
    await new VaultPage(app, low.id).show();
    const banner = app.page.locator('[data-testid="vault-redeemed"]');
    await expect
      .poll(() => banner.innerText())
      .toMatch(
        /995\.02 bsUSD of this vault's debt was redeemed for 0\.02211155\s*BTC at \$45,000\.00 per BTC — paid/,
      );
    await app.shot('59-vault-redeemed');
  });
});
