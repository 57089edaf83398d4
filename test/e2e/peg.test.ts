/**
 * The peg's books in a browser (issue "The peg and the price", items 1, 2 and 5): a local
 * regtest host with a steep stability fee (100 % a year, BITSTABLE_STABILITY_FEE_BPS) so that it
 * accrues visibly in seconds. The vault page shows the fee accrued so far and a year of it at
 * today's debt; the dashboard's books show the system ratio, the debt against its ceiling, the
 * fee, surplus and deficit, and the entries that moved them. Screenshots: 55-… and 56-….
 */
import { describe, expect, it } from 'vitest';
import { openActiveVault, until } from '../helpers/rpc';
import { useE2eSession } from './fixtures/session';
import { VaultPage } from './pages/app';

const session = useE2eSession('peg', { BITSTABLE_STABILITY_FEE_BPS: '10000' });

describe('the stability fee and the protocol books, in the browser', () => {
  it('the vault shows its fee so far and a year of it; the dashboard shows ratio, ceiling, fee, surplus and their history', async () => {
    const { app, call, host } = session();
    await call('regtest.setPrice', { priceCents: 4_500_000 });
    const returnAddress = (await call('regtest.newAddress')).address as string;
    const vault = await openActiveVault(call, [20_000_000], { returnAddress });
    await call('vaults.mint', { vaultId: vault.id, amountCents: 250_000 });
    // A cent of fee within a second or two (100 % a year on 2,500.00 is ~0.008 cents a second).
    const accrued = await until(
      'the fee to accrue',
      () => call('vaults.get', { vaultId: vault.id }),
      (v) => v.feesCents > 0,
    );
    expect(accrued.debtCents).toBe(250_000 + accrued.feesCents);

    await app.open(host.openUrl);
    const page = await new VaultPage(app, vault.id).show();
    const fee = app.page.locator('[data-testid="vault-fee"]');
    await expect.poll(() => fee.innerText()).toMatch(/Stability fee\s*[\d.]+ bsUSD so far/);
    // A year at today's debt, at 100 %: the debt itself, rounded up.
    await expect
      .poll(() => fee.innerText())
      .toMatch(/2,500\.\d\d bsUSD a year at today's debt \(100\.00 %\)/);
    expect(await page.debtText()).toMatch(/2,500\.\d\d/);
    await app.shot('55-vault-stability-fee');

    // Another mint books what accrued: the books' history shows the fee going into surplus.
    await call('vaults.mint', { vaultId: vault.id, amountCents: 10_000 });
    const books = await call('books.get');
    expect(books.history[0]).toMatchObject({ kind: 'stability_fee', vaultId: vault.id });
    expect(books.surplusCents).toBeGreaterThan(0);

    await app.go('#/');
    const card = app.page.locator('[data-testid="books-card"]');
    await expect
      .poll(() => card.locator('[data-testid="system-ratio"]').innerText())
      .toMatch(
        /System collateral ratio\s*3\d\d\.\d\d %/, // $9,000 against ~2,600 bsUSD
      );
    await expect
      .poll(() => card.locator('[data-testid="debt-ceiling"]').innerText())
      .toMatch(/2,60\d\.\d\d bsUSD \/ 100,000,000\.00 bsUSD/);
    await expect
      .poll(() => card.locator('[data-testid="stability-fee"]').innerText())
      .toMatch(/100\.00 % a year/);
    await expect
      .poll(() => card.locator('[data-testid="books-history"]').innerText())
      .toMatch(/Stability fee · vault #\d+\s*\+[\d.]+ bsUSD/);
    await app.shot('56-protocol-books');
  });
});
