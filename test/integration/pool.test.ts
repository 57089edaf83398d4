/**
 * The stability pool on a real regtest chain (SPEC §8.5; issue "The peg and the price" item 4):
 * two depositors' bsUSD takes an auction nobody bid on, at its floor; their shares of the lot
 * add up, each paid with their own deposit, and the settlement pays each their bitcoin on chain.
 * Deposits and withdrawals refuse bad input with nothing changed.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { accountKey } from '../../core/accounts/login';
import { logicalHash } from '../../core/db/snapshot';
import { codeOf } from '../helpers/errors';
import { expectLedgerBalanced, faucet, mine, setPrice, useBitStableNode } from '../helpers/app';

const RETURN = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';
let offsetMs = 0;
const t = useBitStableNode({ clock: () => Date.now() + offsetMs });
const carol = accountKey(randomBytes(32)).id;

/** A funded bank vault mints `cents` of bsUSD to the node's account, which hands `share` to `to`. */
async function bsusdFor(to: string, share: number, cents = 1_000_000) {
  const { app } = t();
  const bank = await app.vaults.createVault({ keySetId: app.keySetId, returnAddress: RETURN });
  await faucet(app, bank.address, 100_000_000);
  await mine(app);
  await app.operations.mint(bank.id, cents);
  await app.operations.transfer(app.localAccountId, to, share, null);
}

describe('the stability pool, on a real regtest chain', () => {
  it('an auction nobody bids on is taken by the pool at its floor: the shares add up, each paid with its own deposit and on chain to its own address', async () => {
    const { app } = t();
    await setPrice(app, 4_500_000);
    const me = app.localAccountId;
    await app.accounts.register(carol, 'carol');
    await bsusdFor(carol, 100_000);
    const mine1 = await app.regtest!.miner.newAddress();
    const carols = await app.regtest!.miner.newAddress();
    await app.pool.deposit(me, 300_000, mine1);
    expect(await app.pool.deposit(carol, 100_000, carols)).toMatchObject({
      totalCents: 400_000,
      depositors: 2,
      depositCents: 100_000,
    });

    // A vault falls into an auction nobody takes.
    const v = await app.vaults.createVault({ keySetId: app.keySetId, returnAddress: RETURN });
    await faucet(app, v.address, 10_000_000);
    await mine(app);
    await app.operations.mint(v.id, 250_000);
    await setPrice(app, 3_500_000); // 140 %
    const auction = (await app.liquidation.listAuctions({ live: true })).find(
      (a) => a.vaultId === v.id,
    )!;
    expect(auction).toMatchObject({ tabCents: 282_500, floorPriceCents: 1_925_000 });
    const before = await app.store.ledger.checkInvariant();
    offsetMs += app.params.auctionDurationSeconds * 1000 + 1; // at its floor
    await app.liquidation.tick();

    const takes = app.db
      .prepare(
        'SELECT taker, btc_address, sats, paid_cents, price_cents FROM auction_takes WHERE liquidation_id = ? AND via_pool = 1 ORDER BY taker',
      )
      .all(auction.id) as {
      taker: string;
      btc_address: string;
      sats: number;
      paid_cents: number;
      price_cents: number;
    }[];
    expect(takes).toHaveLength(2);
    const mineTake = takes.find((x) => x.taker === me)!;
    const carolTake = takes.find((x) => x.taker === carol)!;
    // At the floor price, each in proportion to their deposit (3:1), within a sat of rounding.
    expect(takes.every((x) => x.price_cents === 1_925_000)).toBe(true);
    expect(Math.abs(mineTake.sats - 3 * carolTake.sats)).toBeLessThanOrEqual(3);
    for (const x of takes) expect(x.paid_cents).toBe(Math.ceil((x.sats * 1_925_000) / 1e8));
    const ended = await app.liquidation.getAuction(auction.id);
    expect(ended.soldSats).toBe(mineTake.sats + carolTake.sats);
    expect(ended.coveredCents).toBe(mineTake.paid_cents + carolTake.paid_cents);
    expect(ended.state).not.toBe('running');
    // Each paid from their own deposit; what the tab was not covered by is bad debt.
    expect((await app.pool.position(me)).depositCents).toBe(300_000 - mineTake.paid_cents);
    expect(await app.pool.position(carol)).toMatchObject({
      depositCents: 100_000 - carolTake.paid_cents,
      spentCents: carolTake.paid_cents,
      gainedSats: carolTake.sats,
      auctions: [{ auctionId: auction.id, poolSats: ended.soldSats, yourSats: carolTake.sats }],
    });
    expect((await app.store.ledger.checkInvariant()).holdersCents).toBe(
      before.holdersCents - ended.coveredCents,
    );
    await expectLedgerBalanced(app);

    // The settlement pays each depositor's address its share on chain.
    await app.sync();
    await mine(app);
    const settled = await app.liquidation.getAuction(auction.id);
    expect(settled.state).toBe('settled');
    const tx = await app.regtest!.rpc.call<{
      vout: { value: number; scriptPubKey: { address?: string } }[];
    }>('getrawtransaction', [settled.settlementTxid, true]);
    const paid = (a: string) =>
      tx.vout
        .filter((o) => o.scriptPubKey.address === a)
        .reduce((s, o) => s + Math.round(o.value * 1e8), 0);
    expect(paid(mine1)).toBe(mineTake.sats);
    expect(paid(carols)).toBe(carolTake.sats);
    await expectLedgerBalanced(app);
  });

  it('deposits and withdrawals: more than held, no address the first time, or nothing in the pool is refused and changes nothing; all comes back out', async () => {
    const { app } = t();
    const stranger = accountKey(randomBytes(32)).id;
    await app.accounts.register(stranger, 'stranger');
    const before = logicalHash(app.db);
    expect(await codeOf(async () => await app.pool.deposit(stranger, 100))).toBe('INVALID_ADDRESS');
    expect(await codeOf(async () => await app.pool.deposit(stranger, 100, RETURN))).toBe(
      'INSUFFICIENT_BALANCE',
    );
    expect(await codeOf(async () => await app.pool.withdraw(stranger, 'all'))).toBe(
      'INVALID_AMOUNT',
    );
    expect(await codeOf(async () => await app.pool.withdraw(carol, 10_000_000))).toBe(
      'INSUFFICIENT_BALANCE',
    );
    expect(await codeOf(async () => await app.pool.deposit(carol, 0, RETURN))).toBe(
      'INVALID_AMOUNT',
    );
    expect(logicalHash(app.db)).toBe(before);
    const left = (await app.pool.position(carol)).depositCents;
    const held = await app.operations.balanceCents(carol);
    expect((await app.pool.withdraw(carol, 'all')).depositCents).toBe(0);
    expect(await app.operations.balanceCents(carol)).toBe(held + left);
    await expectLedgerBalanced(app);
  });

  it('deposits and withdrawals racing the tick that takes an auction at its floor: each pays only from what they held when the take ran, and every cent adds up', async () => {
    const { app } = t();
    await setPrice(app, 3_500_000);
    const me = app.localAccountId;
    const dave = accountKey(randomBytes(32)).id;
    await app.accounts.register(dave, 'dave');
    await bsusdFor(dave, 200_000);
    const start = {
      [me]: (await app.pool.deposit(me, 200_000, await app.regtest!.miner.newAddress()))
        .depositCents,
      [dave]: (await app.pool.deposit(dave, 150_000, await app.regtest!.miner.newAddress()))
        .depositCents,
    };

    const v = await app.vaults.createVault({ keySetId: app.keySetId, returnAddress: RETURN });
    await faucet(app, v.address, 10_000_000);
    await mine(app);
    await app.operations.mint(v.id, 200_000);
    await setPrice(app, 2_800_000); // 140 %
    const auction = (await app.liquidation.listAuctions({ live: true })).find(
      (a) => a.vaultId === v.id,
    )!;
    offsetMs += app.params.auctionDurationSeconds * 1000 + 1; // at its floor

    // While the tick runs, each turn moves bsUSD in or out of the pool; some moves land before
    // the take, some after.
    const moved = { [me]: 0, [dave]: 0 };
    const atTake = { [me]: 0, [dave]: 0 };
    let ticking = true;
    let tookAt = -1;
    const mover = async () => {
      for (let turn = 0; ticking || turn < tookAt + 5; turn++) {
        // Microtask turns first (the tick's own awaits are as short), then event-loop turns.
        await (turn < 20 ? Promise.resolve() : new Promise((r) => setImmediate(r)));
        const taken = (await app.liquidation.getAuction(auction.id)).coveredCents > 0;
        if (taken && tookAt < 0) {
          tookAt = turn;
          Object.assign(atTake, {
            [me]: start[me]! + moved[me]!,
            [dave]: start[dave]! + moved[dave]!,
          });
        }
        const who = turn % 2 ? me : dave;
        const amount = turn % 3 === 0 ? 2_000 : -1_500;
        try {
          if (amount > 0) await app.pool.deposit(who, amount);
          else await app.pool.withdraw(who, -amount);
          moved[who]! += amount;
        } catch (err) {
          expect((err as { code?: string }).code).toBe('INSUFFICIENT_BALANCE');
        }
      }
    };
    await Promise.all([app.liquidation.tick().finally(() => (ticking = false)), mover()]);
    expect(tookAt, 'moves landed before the take, and after it').toBeGreaterThan(0);

    const paid = app.db
      .prepare(
        'SELECT taker, SUM(paid_cents) AS cents FROM auction_takes WHERE liquidation_id = ? AND via_pool = 1 GROUP BY taker',
      )
      .all(auction.id) as { taker: string; cents: number }[];
    const paidBy = Object.fromEntries(paid.map((x) => [x.taker, x.cents]));
    for (const who of [me, dave]) {
      expect(paidBy[who], who).toBeGreaterThan(0);
      expect(paidBy[who]!, who).toBeLessThanOrEqual(atTake[who]!);
      expect((await app.pool.position(who)).depositCents, who).toBe(
        start[who]! + moved[who]! - paidBy[who]!,
      );
    }
    expect((await app.liquidation.getAuction(auction.id)).coveredCents).toBe(
      paidBy[me]! + paidBy[dave]!,
    );
    await expectLedgerBalanced(app);
  });

  it('a take that lands after the tick listed the auctions and before its pool take: the pool buys only what is left, and the settlement pays every taker', async () => {
    const { app } = t();
    await setPrice(app, 4_500_000);
    const me = app.localAccountId;
    const bank = await app.vaults.createVault({ keySetId: app.keySetId, returnAddress: RETURN });
    await faucet(app, bank.address, 100_000_000);
    await mine(app);
    await app.operations.mint(bank.id, 1_000_000);
    await app.pool.deposit(me, 400_000, await app.regtest!.miner.newAddress());

    const v = await app.vaults.createVault({ keySetId: app.keySetId, returnAddress: RETURN });
    await faucet(app, v.address, 10_000_000);
    await mine(app);
    await app.operations.mint(v.id, 250_000);
    await setPrice(app, 3_500_000); // 140 %
    const auction = (await app.liquidation.listAuctions({ live: true })).find(
      (a) => a.vaultId === v.id,
    )!;
    offsetMs += app.params.auctionDurationSeconds * 1000 + 1; // at its floor

    // The interleaving, made certain: the tick lists the running auctions, then, before its
    // first transaction, a liquidator's take goes through; then the tick goes on.
    const store = app.store;
    const transaction = store.transaction;
    const taker = await app.regtest!.miner.newAddress();
    let took = 0;
    store.transaction = async <T>(fn: () => Promise<T>): Promise<T> => {
      store.transaction = transaction;
      const take = await app.liquidation.take({
        auctionId: auction.id,
        maxSats: 4_000_000,
        maxPriceCents: 100_000_000,
        btcAddress: taker,
      });
      took = take.sats;
      return transaction(fn);
    };
    try {
      await app.liquidation.tick();
    } finally {
      store.transaction = transaction;
    }
    expect(took).toBe(4_000_000);

    // The pool takes the rest at the floor once the fall, restarted by the take, reaches it.
    offsetMs += app.params.auctionDurationSeconds * 1000 + 1;
    await app.liquidation.tick();
    const ended = await app.liquidation.getAuction(auction.id);
    const sold = app.db
      .prepare('SELECT SUM(sats) FROM auction_takes WHERE liquidation_id = ?')
      .pluck()
      .get(auction.id) as number;
    expect(ended.soldSats).toBe(sold);
    expect(sold).toBeGreaterThan(took);
    expect(ended.soldSats).toBeLessThanOrEqual(ended.lotSats);
    expect(ended.lotSats).toBeLessThan(10_000_000);
    await expectLedgerBalanced(app);

    await app.sync();
    await mine(app);
    const settled = await app.liquidation.getAuction(auction.id);
    expect(settled.settlementError).toBeNull();
    expect(settled.state).toBe('settled');
    const tx = await app.regtest!.rpc.call<{
      vout: { value: number; scriptPubKey: { address?: string } }[];
    }>('getrawtransaction', [settled.settlementTxid, true]);
    const toTaker = tx.vout.find((o) => o.scriptPubKey.address === taker);
    expect(Math.round(toTaker!.value * 1e8)).toBe(took);
  });
});
