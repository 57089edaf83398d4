/**
 * One person plays both sides in local mode (SPEC §9, issue 12): on a real regtest node, the
 * window (a call without an account of its own) adds a "Liquidator" playground account, pays it
 * bsUSD, switches to it, cannot touch "your" vault as the liquidator but takes its auction with
 * the liquidator's own bsUSD; switching back shows your own again. A remote session cannot add or
 * switch; the switch survives a restart; a call in flight keeps the account it started with.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiService, type ApiService, type CallContext } from '../../core/api/dispatcher';
import { accountKey } from '../../core/accounts/login';
import { randomBytes } from 'node:crypto';
import { logicalHash } from '../../core/db/snapshot';
import { faucet, mine, receivedAt, setPrice, useBitStableNode } from '../helpers/app';

const t = useBitStableNode();
let api: ApiService;
const window_: CallContext = { roles: ['admin'] };
const remoteId = accountKey(randomBytes(32)).id;
const remote: CallContext = { roles: ['owner', 'liquidator'], account: remoteId };

beforeAll(async () => {
  await t().app.accounts.register(remoteId, 'someone remote');
  api = createApiService({ core: t().app });
});
afterAll(() => api?.close());

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- replies are JSON; the assertions check them
async function call<T = any>(ctx: CallContext, method: string, params: unknown = {}): Promise<T> {
  const out = await api.dispatch(method, params, ctx);
  if (!out.ok) throw Object.assign(new Error(out.error.message), { code: out.error.code });
  return out.result as T;
}
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (err: { code?: string }) => err.code,
  );

describe('playground accounts in local mode', () => {
  it('you mint and pay the liquidator; switched to it, it takes your auction with its own bsUSD', async () => {
    const { app } = t();
    await setPrice(app, 4_500_000);
    const [you] = await call(window_, 'playground.accounts');
    expect(you).toMatchObject({ own: true, active: true, accountId: app.localAccountId });

    // A remote session neither lists, adds nor switches: it plays its own account.
    const before = logicalHash(app.db);
    for (const [method, params] of [
      ['playground.accounts', {}],
      ['playground.addAccount', { label: 'mine now' }],
      ['playground.switch', { accountId: app.localAccountId }],
    ] as const) {
      expect(await codeOf(call(remote, method, params)), method).toBe('FORBIDDEN');
    }
    expect(await codeOf(call(window_, 'playground.addAccount', { label: '  ' }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(await codeOf(call(window_, 'playground.switch', { accountId: remoteId }))).toBe(
      'ACCOUNT_NOT_FOUND',
    );
    expect(logicalHash(app.db)).toBe(before);

    const liquidator = await call(window_, 'playground.addAccount', { label: 'Liquidator' });
    expect(liquidator).toMatchObject({ label: 'Liquidator', own: false, active: false });

    // You: a vault at 225 %, 10,000 bsUSD minted, 12,000 more from a second vault to pay with.
    const returnAddress = (await call(window_, 'regtest.newAddress')).address as string;
    const vault = await call(window_, 'vaults.create', { returnAddress });
    const spare = await call(window_, 'vaults.create', { returnAddress });
    await faucet(app, vault.address, 50_000_000);
    await faucet(app, spare.address, 200_000_000);
    await mine(app);
    await call(window_, 'vaults.mint', { vaultId: vault.id, amountCents: 1_000_000 });
    await call(window_, 'vaults.mint', { vaultId: spare.id, amountCents: 1_200_000 });

    // A payment started before the switch keeps the account it started with.
    const [paid] = await Promise.all([
      call(window_, 'bsusd.transfer', { to: liquidator.accountId, amountCents: 1_500_000 }),
      call(window_, 'playground.switch', { accountId: liquidator.accountId }),
    ]);
    expect(paid.balanceCents).toBe(2_200_000 - 1_500_000);
    const status = await call(window_, 'status.get');
    expect(status.accountId).toBe(liquidator.accountId);
    expect((await call(window_, 'balance.get')).bsusdCents).toBe(1_500_000);

    // As the liquidator: none of your vaults listed, and yours is another account's to change
    // (the window is also the operator, who may read every vault but change none).
    expect((await call(window_, 'vaults.list')).items).toEqual([]);
    expect(
      await codeOf(call(window_, 'vaults.mint', { vaultId: vault.id, amountCents: 100 })),
    ).toBe('FORBIDDEN');

    // A price the oracle would throw out is refused with its range, and nothing moves.
    const priceBefore = (await call(window_, 'price.get')).priceCents;
    const wild = await call(window_, 'regtest.setPrice', { priceCents: 9_999_999_999_900 }).catch(
      (e: { code?: string; message?: string }) => e,
    );
    expect(wild).toMatchObject({ code: 'INVALID_AMOUNT' });
    expect((wild as Error).message).toMatch(/between \$100\.00 and \$100,000,000\.00/);
    expect((await call(window_, 'price.get')).priceCents).toBe(priceBefore);

    // The price falls; the liquidator takes your auction and pays with its own bsUSD.
    await call(window_, 'regtest.setPrice', { priceCents: 2_800_000 });
    const { auctions } = await call(window_, 'auctions.list', { live: true });
    const auction = auctions.find((a: { vaultId: number }) => a.vaultId === vault.id);
    expect(auction).toBeDefined();
    const payout = (await call(window_, 'regtest.newAddress')).address as string;
    const take = await call(window_, 'auctions.take', {
      auctionId: auction.id,
      maxSats: 50_000_000,
      maxPriceCents: 10_000_000,
      btcAddress: payout,
    });
    expect(take.costCents).toBe(auction.tabCents);
    expect((await call(window_, 'balance.get')).bsusdCents).toBe(1_500_000 - auction.tabCents);
    await mine(app);
    await mine(app);
    expect(await receivedAt(app, payout)).toBe(take.sats);

    // Back to you: your vaults and your balance, untouched by the take.
    const list = await call(window_, 'playground.switch', { accountId: app.localAccountId });
    expect(list.map((a: { active: boolean }) => a.active)).toEqual([true, false]);
    expect((await call(window_, 'balance.get')).bsusdCents).toBe(700_000);
    expect((await call(window_, 'vaults.get', { vaultId: vault.id })).state).toBe('liquidated');
    expect((await app.store.ledger.checkInvariant()).ok).toBe(true);
  });

  it('the account the window acts as is kept across a restart', async () => {
    const { app } = t();
    const [, liquidator] = await call(window_, 'playground.accounts');
    await call(window_, 'playground.switch', { accountId: liquidator.accountId });
    const { PlaygroundAccounts } = await import('../../core/accounts/playground');
    const again = await PlaygroundAccounts.open({
      store: app.store,
      accounts: app.accounts,
      keyStore: t().keyStore,
      network: app.network,
      ownId: app.localAccountId,
    });
    expect(again.active).toBe(liquidator.accountId);
    expect((await again.list()).map((a) => a.label)).toEqual(['You (this computer)', 'Liquidator']);
    expect(await t().keyStore.has(`playground-account.regtest.${liquidator.accountId}`)).toBe(true);
    await call(window_, 'playground.switch', { accountId: app.localAccountId });
  });
});
