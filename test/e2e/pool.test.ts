/**
 * The stability pool in a browser (issue "The peg and the price", item 4): on local regtest with
 * 10-second auctions (BITSTABLE_AUCTION_SECONDS), you deposit bsUSD into the pool from its page;
 * a vault falls into an auction nobody takes; at its floor the pool takes it; the page shows the
 * pool's share of the auction and what it bought you. Screenshots: 60-… and 61-….
 */
import { describe, expect, it } from 'vitest';
import { openActiveVault, until } from '../helpers/rpc';
import { useE2eSession } from './fixtures/session';

const session = useE2eSession('pool', { BITSTABLE_AUCTION_SECONDS: '10' });

describe('the stability pool, in the browser', () => {
  it('a deposit from the page takes an auction nobody bid on, at its floor; the page shows the share and the gain', async () => {
    const { app, call, host } = session();
    await call('regtest.setPrice', { priceCents: 4_500_000 });
    const returnAddress = (await call('regtest.newAddress')).address as string;
    const bank = await openActiveVault(call, [100_000_000], { returnAddress });
    await call('vaults.mint', { vaultId: bank.id, amountCents: 500_000 });
    const weak = await openActiveVault(call, [10_000_000], { returnAddress });
    await call('vaults.mint', { vaultId: weak.id, amountCents: 250_000 });

    await app.open(host.openUrl);
    await app.go('#/pool');
    await app.page.locator('[data-testid="pool-amount"]').fill('4000');
    await app.page.getByRole('button', { name: 'New regtest address' }).click();
    await expect
      .poll(() => app.page.locator('[data-testid="pool-address"]').inputValue())
      .toMatch(/^bcrt1/);
    await app.page.locator('[data-testid="pool-deposit"]').click();
    await expect
      .poll(() => app.page.locator('[data-testid="pool-mine"]').innerText())
      .toMatch(/4,000\.00 bsUSD/);
    await app.shot('60-pool-deposit');

    // The weak vault falls to 140 %: an auction nobody takes; at its floor the pool does.
    await call('regtest.setPrice', { priceCents: 3_500_000 });
    const auction = await until(
      'the auction',
      () => call('auctions.list', {}),
      (list) => list.auctions.some((a: { vaultId: number }) => a.vaultId === weak.id),
    );
    const id = auction.auctions.find((a: { vaultId: number }) => a.vaultId === weak.id)
      .id as number;
    await new Promise((r) => setTimeout(r, 10_500));
    await call('regtest.mine', { blocks: 1 }); // the sync that follows runs the auction's tick
    await until(
      'the pool to take it',
      () => call('pool.get'),
      (p) => p.auctions.some((a: { auctionId: number }) => a.auctionId === id),
      30_000,
    );
    await app.page.reload();
    const row = app.page.locator('[data-testid="pool-auctions"] tbody tr').first();
    await expect.poll(() => row.innerText()).toMatch(new RegExp(`#${id} · vault #${weak.id}`));
    await expect
      .poll(() => app.page.locator('[data-testid="pool-gains"]').innerText())
      .toMatch(/0\.0\d+ BTC[\s\S]*Worth [\d,.]+ bsUSD now, for [\d,.]+ bsUSD spent: \+/);
    await app.shot('61-pool-took-an-auction');
  });
});
