/**
 * The peg's books on a real regtest chain (SPEC §8.5; issue "The peg and the price" items 1, 2
 * and 5): a year of stability fee in simulated time, to the cent, in the debt, the surplus and
 * the API; repay covers it; surplus covers a deficit; the debt ceilings and the system ratio
 * refuse a mint with the reason and change nothing.
 */
import { describe, expect, it } from 'vitest';
import { createApiService } from '../../core/api/dispatcher';
import { startGateway } from '../../core/gateway/server';
import { newToken, type TokenEntry } from '../../core/gateway/tokens';
import type { Result } from '../../core/api/contract';
import { logicalHash } from '../../core/db/snapshot';
import type { Bps, Cents } from '../../core/money';
import { codeOf } from '../helpers/errors';
import {
  badDebtBooked,
  expectLedgerBalanced,
  faucet,
  mine,
  setPrice,
  useBitStableNode,
} from '../helpers/app';

const RETURN = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';
const YEAR_MS = 31_536_000_000;

type TestApp = ReturnType<ReturnType<typeof useBitStableNode>>['app'];

async function fundedVault(app: TestApp, sats: number) {
  const vault = await app.vaults.createVault({ keySetId: app.keySetId, returnAddress: RETURN });
  await faucet(app, vault.address, sats);
  await mine(app);
  return vault;
}

/** A method through the API, as the UI calls it (the node's own account). */
async function call<M extends 'vaults.get' | 'books.get'>(
  app: TestApp,
  method: M,
  params: unknown,
): Promise<Result<M>> {
  const api = createApiService({ core: app });
  try {
    const out = await api.dispatch(method, params, { roles: ['admin'] });
    if (!out.ok) throw new Error(`${method}: ${out.error.code} ${out.error.message}`);
    return out.result as Result<M>;
  } finally {
    api.close();
  }
}

const errorOf = async (fn: () => unknown) => {
  try {
    await fn();
  } catch (err) {
    return err as { code: string; data: Record<string, unknown> };
  }
  throw new Error('expected a refusal');
};

describe('a year of stability fee at 2 %, in simulated time', () => {
  // The node's clock stands still unless the test moves it; the oracle keeps real time.
  let now = Date.now();
  const t = useBitStableNode({
    clock: () => now,
    params: { stabilityFeeBps: 200 as Bps },
  });

  it('2,500.00 bsUSD for a year is 2,550.00: in the vault, in surplus and in the API, to the cent; repay covers it', async () => {
    const { app } = t();
    await setPrice(app, 4_500_000);
    const vault = await fundedVault(app, 20_000_000); // 0.2 BTC = $9,000
    await app.operations.mint(vault.id, 250_000);
    const surplus0 = (await app.store.ledger.checkInvariant()).surplusCents;

    now += YEAR_MS / 2;
    // Half a year: the API shows what accrued, though nothing is booked yet.
    // 2,500.00 × (1.02^½ − 1) = 24.8757… → 24.88.
    expect(await call(app, 'vaults.get', { vaultId: vault.id })).toMatchObject({
      debtCents: 252_488,
      feesCents: 2_488,
      feePerYearCents: 5_050, // 2 % of 2,524.88, rounded up
    });
    expect((await app.vaults.getVault(vault.id)).debtCents).toBe(250_000);
    expect((await call(app, 'books.get', {})).feesAccruedCents).toBe(2_488);

    now += YEAR_MS / 2;
    expect(await app.sweepFees()).toEqual({ vaults: 1, cents: 5_000 });
    expect(await app.vaults.getVault(vault.id)).toMatchObject({
      debtCents: 255_000,
      feesCents: 5_000,
    });
    expect((await app.store.ledger.checkInvariant()).surplusCents - surplus0).toBe(5_000);
    const books = await call(app, 'books.get', {});
    expect(books).toMatchObject({
      stabilityFeeBps: 200,
      feesBookedCents: 5_000,
      feesAccruedCents: 0,
      totalDebtCents: 255_000,
      totalCollateralSats: 20_000_000,
      systemRatioBps: 35_294, // $9,000 / $2,550.00, rounded down
    });
    expect(books.rate.startsWith('1.0199999999999999999')).toBe(true);
    expect(books.history[0]).toMatchObject({ kind: 'stability_fee', surplusChangeCents: 5_000 });
    await expectLedgerBalanced(app);

    // Repaying what was minted leaves the fee owed; bsUSD from a second vault covers it all.
    expect(await codeOf(async () => await app.operations.repay(vault.id, 255_001))).toBe(
      'INVALID_AMOUNT',
    );
    const other = await fundedVault(app, 20_000_000);
    await app.operations.mint(other.id, 10_000);
    await app.operations.repay(vault.id, 255_000);
    expect(await app.vaults.getVault(vault.id)).toMatchObject({ debtCents: 0, debtArt: 0 });
    now += YEAR_MS;
    expect((await app.vaults.getVault(vault.id)).debtCents).toBe(0); // no debt, no fee
    await expectLedgerBalanced(app);
  });

  it('surplus covers deficit first: a lot too small to sell books bad debt that the fee surplus pays', async () => {
    const { app } = t();
    const surplus0 = (await app.store.ledger.checkInvariant()).surplusCents;
    expect(surplus0).toBeGreaterThanOrEqual(5_000);
    const bad0 = await badDebtBooked(app);
    await setPrice(app, 1_000_000_000); // $10,000,000 / BTC: 900 sats are $90
    const vault = await fundedVault(app, 900);
    await app.operations.mint(vault.id, 5_000); // $50: 180 %
    await setPrice(app, 700_000_000); // $63 against $50: liquidated, and nothing to sell
    expect((await badDebtBooked(app)) - bad0).toBe(5_000);
    const after = await app.store.ledger.checkInvariant();
    expect(after).toMatchObject({ ok: true, deficitCents: 0, surplusCents: surplus0 - 5_000 });
    const books = await call(app, 'books.get', {});
    expect(books.history.slice(0, 2)).toMatchObject([
      { kind: 'netting', surplusChangeCents: -5_000, deficitChangeCents: -5_000 },
      { kind: 'bad_debt', surplusChangeCents: 0, deficitChangeCents: 5_000, vaultId: vault.id },
    ]);
  });
});

describe('debt ceilings and the system collateral ratio', () => {
  const t = useBitStableNode({
    params: {
      vaultDebtCeilingCents: 300_000 as Cents,
      debtCeilingCents: 500_000 as Cents,
      systemRatioFloorBps: 20_000 as Bps,
    },
  });

  it('a mint past the vault ceiling, the global ceiling or the system floor is refused with the room left, and changes nothing', async () => {
    const { app } = t();
    await setPrice(app, 4_500_000);
    const a = await fundedVault(app, 20_000_000); // $9,000
    const before = logicalHash(app.db);
    const overVault = await errorOf(async () => await app.operations.mint(a.id, 300_001));
    expect(overVault).toMatchObject({
      code: 'DEBT_CEILING',
      data: { scope: 'vault', ceilingCents: 300_000, roomCents: 300_000 },
    });
    expect(logicalHash(app.db)).toBe(before);

    await app.operations.mint(a.id, 300_000); // 300 %: within both ceilings and the floor
    const b = await fundedVault(app, 20_000_000);
    const beforeB = logicalHash(app.db);
    expect(await errorOf(async () => await app.operations.mint(b.id, 200_001))).toMatchObject({
      code: 'DEBT_CEILING',
      data: { scope: 'system', roomCents: 200_000 },
    });
    expect(logicalHash(app.db)).toBe(beforeB);
    await app.operations.mint(b.id, 200_000);

    // Price down to $27,000: a is at 180 %, b at 270 %, the system at 216 %, the ceiling reached.
    await setPrice(app, 2_700_000);
    expect(await call(app, 'books.get', {})).toMatchObject({
      totalDebtCents: 500_000,
      totalCollateralSats: 40_000_000,
      systemRatioBps: 21_600,
      debtRoomCents: 0,
      systemRatioFloorBps: 20_000,
    });
    // b repaid: only a backs bsUSD now, at 180 %. A fresh vault c (0.1 BTC, $2,700) may mint
    // 1,000.00 ($8,100 / $4,000 = 202 %) but not 1,100.00 (197 %), though c alone would be at 245 %.
    await app.operations.repay(b.id, 200_000);
    const c = await fundedVault(app, 10_000_000);
    const beforeC = logicalHash(app.db);
    expect(await errorOf(async () => await app.operations.mint(c.id, 110_000))).toMatchObject({
      code: 'SYSTEM_RATIO_TOO_LOW',
      data: { floorBps: 20_000, systemRatioBps: 19_756 },
    });
    expect(logicalHash(app.db)).toBe(beforeC);
    await app.operations.mint(c.id, 100_000);
    expect((await call(app, 'books.get', {})).systemRatioBps).toBe(20_250);
    await expectLedgerBalanced(app);
  });

  it('two mints that each fit under the global ceiling, sent together in one JSON-RPC batch: exactly one is made, the other is refused, the books balance', async () => {
    const { app } = t();
    await setPrice(app, 4_500_000);
    const room = (await call(app, 'books.get', {})).debtRoomCents;
    expect(room).toBeGreaterThan(10_000);
    const x = await fundedVault(app, 20_000_000);
    const y = await fundedVault(app, 20_000_000);
    const admin: TokenEntry = { label: 'admin', roles: ['admin'], token: newToken() };
    const api = createApiService({ core: app });
    const gw = await startGateway({ api, core: app, tokens: [admin], port: 0 });
    try {
      for (const order of [
        [x, y],
        [y, x],
      ]) {
        const left = (await call(app, 'books.get', {})).debtRoomCents;
        const amount = Math.floor(left / 2) + 5_000; // each fits alone; both do not
        const res = await fetch(`${gw.url}/rpc`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${admin.token}` },
          body: JSON.stringify(
            order.map((v, i) => ({
              jsonrpc: '2.0',
              id: i + 1,
              method: 'vaults.mint',
              params: { vaultId: v.id, amountCents: amount },
            })),
          ),
        });
        const answers = (await res.json()) as { error?: { data: { code: string } } }[];
        const codes = answers.map((a) => a.error?.data.code ?? 'ok').sort();
        expect(codes).toEqual(['DEBT_CEILING', 'ok']);
        expect((await call(app, 'books.get', {})).debtRoomCents).toBe(left - amount);
        await expectLedgerBalanced(app);
        // Make room again for the other order.
        const minted = (await app.vaults.getVault(x.id)).debtCents > 0 ? x : y;
        await app.operations.repay(minted.id, amount);
      }
    } finally {
      await gw.close();
      api.close();
    }
  });
});
