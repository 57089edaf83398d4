import { describe, expect, it } from 'vitest';
import { liquidationPrice } from '../../core/vaults/health';
import type { Bps } from '../../core/money';
import { recoveryKit } from '../../core/vaults/operations';
import {
  expectLedgerBalanced,
  faucet,
  mine,
  receivedAt,
  setPrice,
  useBitStableNode,
} from '../helpers/app';

const t = useBitStableNode();

describe("the seed's vault lifecycle on regtest, owner signing with the software key", () => {
  it('create, deposit 0.1 BTC, mint 4,500.00, add 0.05 BTC, repay, close — collateral arrives less the fee', async () => {
    const { app } = t();
    const ops = app.operations;
    await setPrice(app, 10_000_000); // 100,000.00 USD

    const vault = await app.vaults.createVault({
      keySetId: app.keySetId,
      plannedDepositSats: 10_000_000,
      returnAddress: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
    });
    expect(vault.state).toBe('pending');
    await expectLedgerBalanced(app);

    await faucet(app, vault.address, 10_000_000);
    await mine(app);
    expect(await app.vaults.getVault(vault.id)).toMatchObject({
      state: 'active',
      collateralSats: 10_000_000,
    });

    const minted = await ops.mint(vault.id, 450_000);
    expect(minted).toMatchObject({ debtCents: 450_000, state: 'active' });
    // The liquidation price: 4,500.00 × 1.5 / 0.1 BTC. (The stored key of the health pass's index
    // carries a cent of debt's margin: see core/vaults/health.ts.)
    expect(liquidationPrice(minted.collateralSats, minted.debtCents, 15_000 as Bps)).toBe(
      6_750_000,
    );
    expect(minted.liquidationPriceCents).toBe(6_750_015);
    expect(await ops.balanceCents()).toBe(450_000);
    await expectLedgerBalanced(app);
    expect(await app.store.ledger.checkInvariant()).toMatchObject({
      holdersCents: 450_000,
      vaultDebtsCents: 450_000,
    });

    const deposit = await ops.depositAddress(vault.id, 5_000_000);
    expect(deposit.uri).toBe(`bitcoin:${vault.address}?amount=0.05000000`);
    await faucet(app, deposit.address, 5_000_000);
    await mine(app);
    const bigger = await app.vaults.getVault(vault.id);
    expect(bigger.collateralSats).toBe(15_000_000);
    expect(liquidationPrice(bigger.collateralSats, bigger.debtCents, 15_000 as Bps)).toBe(
      4_500_000,
    );
    await expectLedgerBalanced(app);

    await ops.repay(vault.id, 450_000);
    expect(await app.vaults.getVault(vault.id)).toMatchObject({
      debtCents: 0,
      liquidationPriceCents: null,
    });
    expect(await ops.balanceCents()).toBe(0);
    await expectLedgerBalanced(app);

    const destination = await app.regtest!.miner.newAddress();
    const closing = await ops.close(vault.id, destination);
    expect(closing.plan.outputs).toEqual([
      { address: destination, amountSats: 15_000_000 - closing.plan.feeSats },
    ]);
    expect(closing.plan.feeSats).toBeGreaterThan(0);
    expect(closing.plan.feeSats).toBeLessThan(2_000);
    // Broadcast but unconfirmed: still Active (not Pending), with its coins on their way out.
    expect(await app.vaults.getVault(vault.id)).toMatchObject({
      state: 'active',
      collateralSats: 0,
    });
    await mine(app);
    expect(await app.vaults.getVault(vault.id)).toMatchObject({
      state: 'closed',
      collateralSats: 0,
    });
    expect(await receivedAt(app, destination)).toBe(15_000_000 - closing.plan.feeSats);
    const confs = await app.chain.confirmations(closing.txid);
    expect(confs).toBeGreaterThanOrEqual(1);
    await expectLedgerBalanced(app);
  });
});

describe('the recovery kit', () => {
  it("rebuilds every vault address in Bitcoin Core from the kit's descriptor alone", async () => {
    const { app } = t();
    const created = [
      await app.vaults.createVault({
        keySetId: app.keySetId,
        returnAddress: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
      }),
      await app.vaults.createVault({
        keySetId: app.keySetId,
        returnAddress: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
      }),
    ];
    const [set] = (await recoveryKit(app.vaults, app.keySetId, app.network)).keySets;
    expect(set!.descriptor).toMatch(/^wsh\(sortedmulti\(2,.*\/0\/\*.*\)\)#[a-z0-9]{8}$/);
    const derived = await app.regtest!.rpc.call<string[]>('deriveaddresses', [
      set!.descriptor,
      [0, set!.scanTo],
    ]);
    for (const v of await app.vaults.listVaults()) expect(derived[v.index]).toBe(v.address);
    for (const v of set!.vaults) expect(derived[v.index]).toBe(v.address);
    expect(set!.vaults.map((v) => v.index)).toEqual(
      expect.arrayContaining(created.map((v) => v.index)),
    );
    expect(JSON.stringify(set)).not.toMatch(/tprv|xprv/);
  });
});

describe('spends across a reorg', () => {
  it('a close that a reorg undoes reopens the vault, and closes it again when it re-confirms', async () => {
    const { app } = t();
    const vault = await app.vaults.createVault({
      keySetId: app.keySetId,
      returnAddress: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
    });
    await faucet(app, vault.address, 3_000_000);
    await mine(app);
    const destination = await app.regtest!.miner.newAddress();
    await app.operations.close(vault.id, destination);
    const [block] = await mine(app);
    expect((await app.vaults.getVault(vault.id)).state).toBe('closed');

    await app.regtest!.rpc.call('invalidateblock', [block]);
    await app.regtest!.miner.settle();
    await app.sync();
    expect((await app.vaults.getVault(vault.id)).state).toBe('active');

    await app.regtest!.rpc.call('reconsiderblock', [block]);
    await app.regtest!.miner.settle();
    await app.sync();
    expect((await app.vaults.getVault(vault.id)).state).toBe('closed');
    await expectLedgerBalanced(app);
  });
});
