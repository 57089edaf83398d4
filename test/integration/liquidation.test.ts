import { codeOf } from '../helpers/errors';
import { describe, expect, it } from 'vitest';
import type { Result } from '../../core/api/contract';
import { createApiService } from '../../core/api/dispatcher';
import { logicalHash } from '../../core/db/snapshot';
import {
  expectLedgerBalanced,
  faucet,
  mine,
  receivedAt,
  setPrice,
  useBitStableNode,
} from '../helpers/app';

let offsetMs = 0;
const t = useBitStableNode({ clock: () => Date.now() + offsetMs });

/** A 0.1 BTC vault with 2,500 bsUSD of debt, auctioned at $35,000, whose auction has reached its floor. */
async function auctionAtItsFloor() {
  const { app } = t();
  await setPrice(app, 4_500_000);
  const vault = await app.vaults.createVault({
    keySetId: app.keySetId,
    returnAddress: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
  });
  await faucet(app, vault.address, 10_000_000);
  await mine(app);
  await app.operations.mint(vault.id, 250_000);
  await setPrice(app, 3_500_000);
  const auction = (await app.liquidation.listAuctions({ live: true })).find(
    (a) => a.vaultId === vault.id,
  )!;
  offsetMs += app.params.auctionDurationSeconds * 1000 + 1;
  return { app, vault, auction };
}

describe('liquidation of an unhealthy vault, settled on a real regtest chain', () => {
  it('1 BTC with 25,000.00 debt at 45,000 → 35,000 (140 %) → auction → taker covers the 28,250.00 tab → settled → Liquidated', async () => {
    const { app } = t();
    await setPrice(app, 4_500_000);

    const returnAddress = await app.regtest!.miner.newAddress();
    const vault = await app.vaults.createVault({ keySetId: app.keySetId, returnAddress });
    const bidder = await app.vaults.createVault({
      keySetId: app.keySetId,
      returnAddress: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
    });
    await faucet(app, vault.address, 100_000_000);
    await faucet(app, bidder.address, 200_000_000);
    await mine(app);
    await app.operations.mint(vault.id, 2_500_000);
    await app.operations.mint(bidder.id, 3_000_000); // the liquidator's bsUSD, minted from their own vault
    expect(await app.operations.balanceCents()).toBe(5_500_000);

    // The price falls: 140 % at a fresh price → Liquidating, with an auction.
    await setPrice(app, 3_500_000);
    expect((await app.vaults.getVault(vault.id)).state).toBe('liquidating');
    expect((await app.vaults.getVault(bidder.id)).state).toBe('active'); // 2 BTC against 30,000: 233 %
    const [auction] = await app.liquidation.listAuctions({ live: true });
    expect(auction).toMatchObject({
      vaultId: vault.id,
      tabCents: 2_825_000,
      topPriceCents: 3_850_000,
      floorPriceCents: 1_925_000,
      state: 'running',
    });
    expect(auction!.lotSats).toBeLessThan(100_000_000);
    expect(auction!.timeLeftMs).toBeGreaterThan(0);

    // The taker asks for the whole lot; the take buys only what the tab needs at the current price.
    const takerAddress = await app.regtest!.miner.newAddress();
    const take = await app.liquidation.take({
      auctionId: auction!.id,
      maxSats: 100_000_000,
      maxPriceCents: 3_850_000,
      btcAddress: takerAddress,
    });
    expect(take.costCents).toBe(2_825_000);
    expect(take.sats).toBe(Math.ceil((2_825_000 * 1e8) / take.priceCents));
    expect(take.sats).toBeLessThan(auction!.lotSats);
    expect(take.auction.state).toBe('settling');
    expect((await app.vaults.getVault(vault.id)).debtCents).toBe(0);
    expect(await app.operations.balanceCents()).toBe(5_500_000 - 2_825_000);
    expect(await app.store.ledger.checkInvariant()).toMatchObject({
      ok: true,
      surplusCents: 325_000,
      deficitCents: 0,
    });

    // Settlement: one transaction, protocol + guardian, paying the taker and the owner's rest.
    await app.sync();
    const settlement = app.db
      .prepare("SELECT * FROM spends WHERE vault_id = ? AND kind = 'settlement'")
      .all(vault.id) as { txid: string; plan: string; state: string }[];
    expect(settlement).toHaveLength(1);
    expect(settlement[0]!.state).toBe('broadcast');
    const plan = JSON.parse(settlement[0]!.plan) as { feeSats: number };
    await mine(app);
    expect((await app.vaults.getVault(vault.id)).state).toBe('liquidated');
    expect((await app.liquidation.getAuction(auction!.id)).state).toBe('settled');
    expect(await receivedAt(app, takerAddress)).toBe(take.sats);
    expect(await receivedAt(app, returnAddress)).toBe(100_000_000 - take.sats - plan.feeSats);
    // What the vault's page shows of it: the same numbers, as the chain has them.
    const outcome = (await app.liquidation.listAuctions({ vaultId: vault.id }))[0]!;
    expect(outcome).toMatchObject({
      id: auction!.id,
      startPriceCents: 3_500_000,
      debtCents: 2_500_000,
      coveredCents: 2_825_000,
      soldSats: take.sats,
      settlementTxid: settlement[0]!.txid,
      settlementState: 'confirmed',
      settlementFeeSats: plan.feeSats,
      rest: { sats: await receivedAt(app, returnAddress), address: returnAddress, to: 'owner' },
    });
    expect(outcome.endedAt).toBeGreaterThanOrEqual(outcome.startedAt);
    expect(outcome.settledAt).toBeGreaterThanOrEqual(outcome.endedAt!);
    expect(await app.liquidation.listAuctions({ vaultId: bidder.id })).toEqual([]);
    // Its history (the CSV export), newest first: the settlement took the collateral, the
    // auction's payment the debt (its penalty went to the surplus, not to the vault).
    const api = createApiService({ core: app });
    const activity = await api.dispatch(
      'vaults.activity',
      { vaultId: vault.id },
      { roles: ['admin'] },
    );
    api.close();
    expect(
      activity.ok &&
        (activity.result as Result<'vaults.activity'>).items.map((i) => [
          i.kind,
          i.collateralChangeSats,
          i.collateralAfterSats,
          i.debtChangeCents,
          i.debtAfterCents,
          i.feeSats,
          i.txid,
        ]),
    ).toEqual([
      ['settlement', -100_000_000, 0, 0, 0, plan.feeSats, settlement[0]!.txid],
      ['liquidation', 0, 100_000_000, -2_500_000, 0, null, null],
      ['mint', 0, 100_000_000, 2_500_000, 2_500_000, null, null],
      ['deposit', 100_000_000, 100_000_000, 0, 0, null, expect.stringMatching(/^[0-9a-f]{64}$/)],
    ]);
    expect(await app.operations.balanceCents()).toBe(2_675_000);
    await expectLedgerBalanced(app);
    expect((await app.store.ledger.checkInvariant()).surplusCents).toBe(325_000);
  });

  it('partial takes add up, a price above the limit or a balance too small is refused, and nothing changes', async () => {
    const { app } = t();
    await setPrice(app, 4_500_000);
    const vault = await app.vaults.createVault({
      keySetId: app.keySetId,
      returnAddress: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
    });
    await faucet(app, vault.address, 50_000_000);
    await mine(app);
    await app.operations.mint(vault.id, 1_250_000); // 180 %
    await setPrice(app, 3_500_000); // 140 %
    const auction = (await app.liquidation.listAuctions({ live: true })).find(
      (a) => a.vaultId === vault.id,
    )!;
    expect(auction.tabCents).toBe(1_412_500);
    const address = await app.regtest!.miner.newAddress();

    const before = logicalHash(app.db);
    expect(
      await codeOf(
        async () =>
          await app.liquidation.take({
            auctionId: auction.id,
            maxSats: 1_000_000,
            maxPriceCents: 1_000_000,
            btcAddress: address,
          }),
      ),
    ).toBe('AUCTION_PRICE_ABOVE_MAX');
    expect(
      await codeOf(
        async () =>
          await app.liquidation.take({
            auctionId: 999,
            maxSats: 1_000_000,
            maxPriceCents: 9_000_000,
            btcAddress: address,
          }),
      ),
    ).toBe('AUCTION_NOT_FOUND');
    expect(
      await codeOf(
        async () =>
          await app.liquidation.take({
            auctionId: auction.id,
            maxSats: 1_000_000,
            maxPriceCents: 9_000_000,
            btcAddress: 'nope',
          }),
      ),
    ).toBe('INVALID_ADDRESS');
    expect(
      await codeOf(
        async () =>
          await app.liquidation.take({
            auctionId: auction.id,
            maxSats: -1,
            maxPriceCents: 9_000_000,
            btcAddress: address,
          }),
      ),
    ).toBe('INVALID_AMOUNT');
    expect(
      await codeOf(
        async () =>
          await app.liquidation.take({
            auctionId: auction.id,
            maxSats: 1_000_000,
            maxPriceCents: 9_000_000,
            btcAddress: address,
            taker: 'nobody',
          }),
      ),
    ).toBe('INSUFFICIENT_BALANCE');
    expect(logicalHash(app.db)).toBe(before);

    const first = await app.liquidation.take({
      auctionId: auction.id,
      maxSats: 10_000_000,
      maxPriceCents: 9_000_000,
      btcAddress: address,
    });
    expect(first.sats).toBe(10_000_000);
    expect(first.auction.state).toBe('running');
    const second = await app.liquidation.take({
      auctionId: auction.id,
      maxSats: 50_000_000,
      maxPriceCents: 9_000_000,
      btcAddress: address,
    });
    expect(first.costCents + second.costCents).toBe(1_412_500);
    expect(second.auction).toMatchObject({
      state: 'settling',
      coveredCents: 1_412_500,
      soldSats: first.sats + second.sats,
    });
    await expectLedgerBalanced(app);
    await app.sync();
    await mine(app);
    expect((await app.vaults.getVault(vault.id)).state).toBe('liquidated');
  });

  it('an auction that reaches its floor resets from the fresh oracle price', async () => {
    const { app, auction } = await auctionAtItsFloor();
    expect((await app.liquidation.getAuction(auction.id)).priceCents).toBe(auction.floorPriceCents);
    await app.liquidation.tick();
    const reset = await app.liquidation.getAuction(auction.id);
    expect(reset.resets).toBe(1);
    expect(reset.topPriceCents).toBe(3_850_000);
    expect(reset.timeLeftMs).toBeGreaterThan(0);
  });

  it('a take at an auction whose reset is due waits for a fresh price instead of selling on at the floor', async () => {
    const { app, auction } = await auctionAtItsFloor();
    // Every source fails: the reset the floor calls for cannot happen.
    app.simulated!.setFailure(new Error('every exchange is down'));
    await app.oracle.runRound();
    await app.healthPasses;
    const take = async () =>
      await app.liquidation.take({
        auctionId: auction.id,
        maxSats: 1_000_000,
        maxPriceCents: 10_000_000,
        btcAddress: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
      });
    const before = logicalHash(app.db);
    expect(await codeOf(take)).toBe('PRICE_UNAVAILABLE');
    expect(logicalHash(app.db)).toBe(before);
    // The price returns: the take resets the auction from it and buys at the new top.
    app.simulated!.setFailure(null);
    await app.oracle.runRound();
    await app.healthPasses;
    const done = await take();
    expect(done.priceCents).toBeGreaterThan(auction.floorPriceCents);
    expect((await app.liquidation.getAuction(auction.id)).resets).toBe(1);
  });
});
