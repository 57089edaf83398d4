/**
 * Curing an auction (SPEC §8.2, issue "The peg and the price" item 6), on a real regtest chain:
 * before the first take, a vault brought back to 160 % — by a deposit, a repay, or the price
 * itself — ends its auction without penalty; after a take it cannot.
 */
import { describe, expect, it } from 'vitest';
import { logicalHash } from '../../core/db/snapshot';
import { codeOf } from '../helpers/errors';
import { expectLedgerBalanced, faucet, mine, setPrice, useBitStableNode } from '../helpers/app';

const t = useBitStableNode();
const RETURN = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';

/** A 0.1 BTC vault with 2,500 bsUSD of debt (180 % at $45,000), pushed into an auction at $35,000 (140 %). */
async function liquidatingVault() {
  const { app } = t();
  await setPrice(app, 4_500_000);
  const vault = await app.vaults.createVault({ keySetId: app.keySetId, returnAddress: RETURN });
  await faucet(app, vault.address, 10_000_000);
  await mine(app);
  await app.operations.mint(vault.id, 250_000);
  await setPrice(app, 3_500_000);
  expect((await app.vaults.getVault(vault.id)).state).toBe('liquidating');
  const auction = (await app.liquidation.listAuctions({ live: true })).find(
    (a) => a.vaultId === vault.id,
  )!;
  return { app, vault, auction };
}

describe('an auction is cured before its first take, on a real regtest chain', () => {
  it('a deposit that brings the vault to 160 % cures it at the next tick: no penalty, the vault is Active again', async () => {
    const { app, vault, auction } = await liquidatingVault();
    const surplus = (await app.store.ledger.checkInvariant()).surplusCents;
    await faucet(app, vault.address, 10_000_000); // 0.2 BTC: 280 % at $35,000
    await mine(app);
    await app.liquidation.tick();
    expect(await app.liquidation.getAuction(auction.id)).toMatchObject({
      state: 'settled',
      coveredCents: 0,
      deficitCents: 0,
      settlementTxid: null,
    });
    expect((await app.liquidation.getAuction(auction.id)).curedAt).not.toBeNull();
    expect(await app.vaults.getVault(vault.id)).toMatchObject({
      state: 'active',
      debtCents: 250_000,
    });
    expect((await app.store.ledger.checkInvariant()).surplusCents).toBe(surplus); // no penalty
    await expectLedgerBalanced(app);
    // It can be minted against again, and liquidated again later.
    await app.operations.mint(vault.id, 10_000);
    await setPrice(app, 1_500_000);
    expect((await app.vaults.getVault(vault.id)).state).toBe('liquidating');

    // The second auction is bought whole and settled: the settlement is that auction's alone;
    // the cured one still shows none.
    const bank = await app.vaults.createVault({ keySetId: app.keySetId, returnAddress: RETURN });
    await faucet(app, bank.address, 100_000_000);
    await mine(app);
    await app.operations.mint(bank.id, 500_000);
    const [second, cured] = await app.liquidation.listAuctions({ vaultId: vault.id });
    expect(cured!.id).toBe(auction.id);
    await app.liquidation.take({
      auctionId: second!.id,
      maxSats: 20_000_000,
      maxPriceCents: 10_000_000,
      btcAddress: await app.regtest!.miner.newAddress(),
    });
    await app.sync();
    await mine(app);
    const [settled, stillCured] = await app.liquidation.listAuctions({ vaultId: vault.id });
    expect(settled).toMatchObject({
      id: second!.id,
      state: 'settled',
      settlementState: 'confirmed',
    });
    expect(settled!.rest).toMatchObject({ address: RETURN, to: 'owner' });
    expect(stillCured).toMatchObject({
      id: auction.id,
      settlementTxid: null,
      settlementState: null,
      settledAt: null,
      rest: null,
      settlementFeeSats: null,
    });
    await expectLedgerBalanced(app);
  });

  it('a repay too small to cure is refused with the amount that would; that amount cures it at once', async () => {
    const { app, vault, auction } = await liquidatingVault();
    const before = logicalHash(app.db);
    let refusal: unknown;
    try {
      await app.operations.repay(vault.id, 10_000);
    } catch (err) {
      refusal = err;
    }
    // 0.1 BTC × $35,000 / 1.6 = 2,187.50 of debt at most: 312.50 of the 2,500.00 must go.
    expect(refusal).toMatchObject({ code: 'VAULT_LIQUIDATING', data: { cureRepayCents: 31_250 } });
    expect((refusal as Error).message).toMatch(
      /repaying at least 312\.50 bsUSD brings it back to 160 % at \$35000\.00/,
    );
    const need = 31_250;
    expect(logicalHash(app.db)).toBe(before);
    const balance = await app.operations.balanceCents();
    const repaid = await app.operations.repay(vault.id, need);
    expect(repaid).toMatchObject({ state: 'active', debtCents: 218_750 });
    expect(await app.operations.balanceCents()).toBe(balance - need);
    expect((await app.liquidation.getAuction(auction.id)).curedAt).not.toBeNull();
    await expectLedgerBalanced(app);
  });

  it('the price coming back cures it; after a take nothing cures it', async () => {
    const { app, vault, auction } = await liquidatingVault();
    await setPrice(app, 4_500_000); // 180 % again
    await app.liquidation.tick();
    expect((await app.liquidation.getAuction(auction.id)).curedAt).not.toBeNull();
    expect((await app.vaults.getVault(vault.id)).state).toBe('active');

    // A second vault's auction with a take stays an auction when the price returns.
    const second = await liquidatingVault();
    await second.app.liquidation.take({
      auctionId: second.auction.id,
      maxSats: 500_000,
      maxPriceCents: 10_000_000,
      btcAddress: RETURN,
    });
    await setPrice(app, 4_500_000);
    await app.liquidation.tick();
    expect((await app.liquidation.getAuction(second.auction.id)).curedAt).toBeNull();
    expect(await codeOf(async () => await app.operations.repay(second.vault.id, 100_000))).toBe(
      'VAULT_LIQUIDATING',
    );
    await expectLedgerBalanced(app);
  });

  it('a curing repay and a take at the same time: exactly one wins, and the books and the lot agree', async () => {
    for (const takeFirst of [true, false]) {
      const { app, vault, auction } = await liquidatingVault();
      const take = async () =>
        await app.liquidation.take({
          auctionId: auction.id,
          maxSats: 500_000,
          maxPriceCents: 10_000_000,
          btcAddress: RETURN,
        });
      const repay = async () => await app.operations.repay(vault.id, 31_250);
      const [a, b] = await Promise.allSettled(takeFirst ? [take(), repay()] : [repay(), take()]);
      // The first call wins; the second is refused with a typed code, never both applied.
      expect(a!.status).toBe('fulfilled');
      expect(b!.status).toBe('rejected');
      expect((b as PromiseRejectedResult).reason.code).toBe(
        takeFirst ? 'VAULT_LIQUIDATING' : 'AUCTION_CLOSED',
      );
      const after = await app.liquidation.getAuction(auction.id);
      if (takeFirst) {
        expect(after.curedAt).toBeNull();
        expect(after.soldSats).toBeGreaterThan(0);
      } else {
        expect(after).toMatchObject({ soldSats: 0, coveredCents: 0 });
        expect(after.curedAt).not.toBeNull();
      }
      await expectLedgerBalanced(app);
    }
  });
});
