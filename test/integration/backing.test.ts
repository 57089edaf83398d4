/**
 * Backing that holds (SPEC §5, §6, §8.2–8.4), on a real regtest node: each case an outside
 * review reproduced — operations on one vault racing each other in one JSON-RPC batch, a price
 * drop while the owner reads the device, exits with debt, settlements that could never be built,
 * auctions that never ended, background failures nobody saw — now refused or handled, with the
 * ledger invariant and "no debt on an empty vault" checked after each.
 */
import { Transaction } from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiService, type ApiService } from '../../core/api/dispatcher';
import { startGateway, type Gateway } from '../../core/gateway/server';
import { newToken, type TokenEntry } from '../../core/gateway/tokens';
import { healthReport } from '../../core/gateway/health';
import { outputScript } from '../../core/psbt/fees';
import type { Cents } from '../../core/money';
import { protocolSurplusAddress } from '../../core/liquidation/settlement-state';
import type { SignContext, Signer } from '../../core/signers/types';
import { collateralRatioBps } from '../../core/vaults/health';
import { codeOf } from '../helpers/errors';
import { snapshotOf, tablesOf } from '../helpers/backend';
import {
  expectLedgerBalanced,
  faucet,
  mine,
  receivedAt,
  setPrice,
  useBitStableNode,
  badDebtBooked,
} from '../helpers/app';

/** Moves the node's clock forward (drafts expire, auction prices fall). */
let skewMs = 0;
const t = useBitStableNode({ clock: () => Date.now() + skewMs });
const RETURN = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';
const admin: TokenEntry = { label: 'admin', roles: ['admin'], token: newToken() };
let api: ApiService;
let gw: Gateway;

beforeAll(async () => {
  const { app } = t();
  api = createApiService({ core: app });
  gw = await startGateway({ api, core: app, tokens: [admin], port: 0 });
});
afterAll(async () => {
  await gw?.close();
  api?.close();
});

type RpcAnswer = { id: number; result?: unknown; error?: { data: { code: string } } };

/** One JSON-RPC batch over HTTP: the gateway runs its calls concurrently. */
async function batch(calls: [string, unknown][]): Promise<RpcAnswer[]> {
  const res = await fetch(`${gw.url}/rpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${admin.token}` },
    body: JSON.stringify(
      calls.map(([method, params], i) => ({ jsonrpc: '2.0', id: i + 1, method, params })),
    ),
  });
  const answers = (await res.json()) as RpcAnswer[];
  return answers.sort((a, b) => a.id - b.id);
}
const outcome = (a: RpcAnswer) => a.error?.data.code ?? 'ok';

/** A funded, Active vault (coins of `amounts`) with a return address and `debtCents` minted. */
async function fundedVault(amounts: number[], debtCents = 0) {
  const { app } = t();
  const vault = await app.vaults.createVault({ keySetId: app.keySetId, returnAddress: RETURN });
  for (const a of amounts) await faucet(app, vault.address, a);
  await mine(app);
  if (debtCents) await app.operations.mint(vault.id, debtCents);
  return await app.vaults.getVault(vault.id);
}

/** One coin per amount in one transaction (fast for a hundred coins). */
async function fundMany(address: string, count: number, each: number): Promise<void> {
  const { app } = t();
  const rpc = app.regtest!.rpc;
  // Core refuses one address twice in createrawtransaction: build the outputs here.
  const tx = new Transaction();
  tx.version = 2;
  const script = outputScript(address, app.network);
  for (let i = 0; i < count; i++) tx.addOutput(script, BigInt(each));
  const funded = await rpc.call<{ hex: string }>('fundrawtransaction', [tx.toHex()], {
    wallet: 'miner',
  });
  const signed = await rpc.call<{ hex: string }>('signrawtransactionwithwallet', [funded.hex], {
    wallet: 'miner',
  });
  await rpc.call('sendrawtransaction', [signed.hex]);
}

/** SPEC §5: no vault holds debt without collateral, and the ledger balances. */
async function expectBacked(): Promise<void> {
  const { app } = t();
  await expectLedgerBalanced(app);
  const unbacked = await tablesOf(app).column(
    "SELECT id FROM vaults WHERE debt_cents > 0 AND collateral_sats = 0 AND state IN ('closed', 'liquidated', 'active', 'warning')",
  );
  expect(unbacked).toEqual([]);
}

/** The owner key, slowed down like a person reading the Ledger: resolves when `release` is called. */
function slowOwner(): { release: () => void; restore: () => void; signing: Promise<void> } {
  const { app } = t();
  const owner = app.signers.owner;
  let release!: () => void;
  let started!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const signing = new Promise<void>((r) => (started = r));
  (app.signers as { owner: Signer }).owner = {
    role: owner.role,
    kind: owner.kind,
    fingerprint: () => owner.fingerprint(),
    accountKey: () => owner.accountKey(),
    signPsbt: async (psbt: string, ctx: SignContext) => {
      started();
      await gate;
      return owner.signPsbt(psbt, ctx);
    },
  };
  return { release, restore: () => ((app.signers as { owner: Signer }).owner = owner), signing };
}

describe('one change at a time per vault', () => {
  it('1. a close reviewed at debt 0 and a mint in the same JSON-RPC batch: one of them, never both', async () => {
    const { app } = t();
    await setPrice(app, 10_000_000);
    for (const order of ['close-first', 'mint-first'] as const) {
      const vault = await fundedVault([5_000_000]);
      const dest = await app.regtest!.miner.newAddress();
      const review = await app.operations.previewClose(vault.id, dest);
      const close: [string, unknown] = [
        'vaults.close',
        { vaultId: vault.id, spendId: review.spendId },
      ];
      const mint: [string, unknown] = ['vaults.mint', { vaultId: vault.id, amountCents: 333_332 }];
      const answers = await batch(order === 'close-first' ? [close, mint] : [mint, close]);
      const [closed, minted] = order === 'close-first' ? answers : answers.reverse();
      const outcomes = [outcome(closed!), outcome(minted!)];
      // Exactly one wins; the loser says why in a code the UI can act on.
      expect(
        outcomes.filter((o) => o === 'ok'),
        order,
      ).toHaveLength(1);
      expect(['DRAFT_CHANGED', 'SPEND_IN_FLIGHT']).toContain(outcomes.find((o) => o !== 'ok'));
      await mine(app);
      const after = await app.vaults.getVault(vault.id);
      if (outcome(closed!) === 'ok') expect(after).toMatchObject({ state: 'closed', debtCents: 0 });
      else expect(after).toMatchObject({ state: 'active', debtCents: 333_332 });
      await expectBacked();
    }
  });

  it('2. a withdrawal and a mint that each keep 150 % but not together, in one batch: the vault stays at or above 150 %', async () => {
    const { app } = t();
    await setPrice(app, 10_000_000); // $100,000
    const vault = await fundedVault([10_000_000], 300_000); // $10,000 against $3,000: 333 %
    const dest = await app.regtest!.miner.newAddress();
    // Alone, each leaves ≥ 150 %: withdraw 5,000,000 sats (→ $5,000 against $3,000: 166 %), or
    // mint 3,000 (→ $10,000 against $6,000: 166 %). Together: $5,000 against $6,000.
    const review = await app.operations.previewWithdraw(vault.id, 5_000_000, dest);
    const answers = await batch([
      ['vaults.withdraw', { vaultId: vault.id, spendId: review.spendId }],
      ['vaults.mint', { vaultId: vault.id, amountCents: 300_000 }],
    ]);
    expect(answers.map(outcome).filter((o) => o === 'ok')).toHaveLength(1);
    await mine(app);
    const after = await app.vaults.getVault(vault.id);
    const ratio = collateralRatioBps(after.collateralSats, after.debtCents, 10_000_000 as Cents);
    expect(ratio!).toBeGreaterThanOrEqual(15_000);
    await expectBacked();
  });

  it('3. a price drop while the owner reads the device: the co-signer decides at signing time and refuses; the auction sells only what the vault holds', async () => {
    const { app } = t();
    await setPrice(app, 10_000_000);
    const vault = await fundedVault([10_000_000], 450_000); // $10,000 against $4,500: 222 %
    const dest = await app.regtest!.miner.newAddress();
    // Withdrawing 3,000,000 sats leaves 7,000,000: $7,000 against $4,500 = 155 % at $100,000.
    const review = await app.operations.previewWithdraw(vault.id, 3_000_000, dest);
    const slow = slowOwner();
    try {
      const signing = app.spends.sign(review.spendId, 'withdraw');
      await slow.signing;
      // While the owner reads the screen, the price falls 35 %: the vault (all its coins) is at
      // 144 % and liquidated; the withdrawal would leave it at 101 %.
      await setPrice(app, 6_500_000);
      expect((await app.vaults.getVault(vault.id)).state).toBe('liquidating');
      // Takes wait while the withdrawal holds the coins.
      const auction = (await app.liquidation.listAuctions({ live: true })).find(
        (a) => a.vaultId === vault.id,
      )!;
      expect(auction.coinsHeld).toBe(true);
      await fundedVault([100_000_000], 2_000_000); // bsUSD for the taker
      expect(
        await codeOf(
          async () =>
            await app.liquidation.take({
              auctionId: auction.id,
              maxSats: 1_000_000,
              maxPriceCents: 100_000_000,
              btcAddress: dest,
            }),
        ),
      ).toBe('SPEND_IN_FLIGHT');
      slow.release();
      // Refused before the protocol key is even asked, in a code the UI can act on.
      expect(await codeOf(() => signing)).toBe('VAULT_LIQUIDATING');
      expect((await app.spends.store.get(review.spendId))!.state).toBe('abandoned');
      // Nothing left: the coins are the vault's, the lot is at most what it holds.
      await app.sync();
      const lot = await app.liquidation.getAuction(auction.id);
      expect(lot.coinsHeld).toBe(false);
      expect(lot.lotSats).toBeGreaterThan(0);
      expect(lot.lotSats).toBeLessThanOrEqual((await app.vaults.getVault(vault.id)).collateralSats);
      const taker = await app.regtest!.miner.newAddress();
      const take = await app.liquidation.take({
        auctionId: auction.id,
        maxSats: 100_000_000,
        maxPriceCents: 100_000_000,
        btcAddress: taker,
      });
      expect(take.auction.state).toBe('settling');
      await app.sync();
      await mine(app);
      expect((await app.vaults.getVault(vault.id)).state).toBe('liquidated');
      expect(await receivedAt(app, taker)).toBe(take.sats);
      expect(await receivedAt(app, dest)).toBe(0);
    } finally {
      slow.restore();
    }
    await expectBacked();
  });

  it('3. a price drop while the protocol key signs: its signature is discarded in the transaction that would have recorded it', async () => {
    const { app } = t();
    await setPrice(app, 10_000_000);
    const vault = await fundedVault([10_000_000], 450_000);
    const dest = await app.regtest!.miner.newAddress();
    const review = await app.operations.previewWithdraw(vault.id, 3_000_000, dest);
    const protocol = app.signers.protocol;
    let signatures = 0;
    (app.signers as { protocol: unknown }).protocol = {
      accountKey: () => protocol.accountKey(),
      approveAndSign: async (...args: Parameters<typeof protocol.approveAndSign>) => {
        const signed = await protocol.approveAndSign(...args);
        signatures++;
        // The price falls after the key signed, before the signature is recorded.
        await setPrice(app, 6_500_000);
        return signed;
      },
    };
    try {
      const before = await receivedAt(app, dest);
      expect(await codeOf(() => app.spends.sign(review.spendId, 'withdraw'))).toBe(
        'SIGNER_REFUSED',
      );
      expect(signatures).toBe(1);
      expect(await app.spends.store.get(review.spendId)).toMatchObject({
        state: 'abandoned',
        tx_hex: null,
      });
      await mine(app);
      expect(await receivedAt(app, dest)).toBe(before);
      expect(await app.vaults.getVault(vault.id)).toMatchObject({
        state: 'liquidating',
        collateralSats: 10_000_000,
      });
    } finally {
      (app.signers as { protocol: unknown }).protocol = protocol;
    }
    await expectBacked();
  });

  it('what you review is what you sign: the signed transaction is the reviewed PSBT; a changed vault or an expired review is refused', async () => {
    const { app } = t();
    await setPrice(app, 10_000_000);
    const vault = await fundedVault([4_000_000]);
    const dest = await app.regtest!.miner.newAddress();
    const review = await app.operations.previewWithdraw(vault.id, 1_000_000, dest);
    // A second review replaces the first; the first can no longer be signed.
    const again = await app.operations.previewWithdraw(vault.id, 1_500_000, dest);
    expect(await codeOf(() => app.spends.sign(review.spendId, 'withdraw'))).toBe(
      'SPEND_STATE_CHANGED',
    );
    // A deposit arrives between the review and the signature: review again.
    await faucet(app, vault.address, 500_000);
    await mine(app);
    const before = await snapshotOf(app);
    expect(await codeOf(() => app.spends.sign(again.spendId, 'withdraw'))).toBe('DRAFT_CHANGED');
    expect(await snapshotOf(app)).toBe(before);
    // Signed as reviewed: the very transaction of the PSBT shown.
    const third = await app.operations.previewWithdraw(vault.id, 1_500_000, dest);
    const signed = await app.spends.sign(third.spendId, 'withdraw');
    expect(signed.txid).toBe(
      (await import('../../core/signers/guardian-file')).unsignedTxIdOf(third.psbtBase64),
    );
    await mine(app);
    // A review nobody signs expires after 15 minutes and frees the vault.
    const stale = await app.operations.previewClose(vault.id, dest);
    expect(await codeOf(async () => await app.operations.mint(vault.id, 100_000))).toBe(
      'SPEND_IN_FLIGHT',
    );
    skewMs += 16 * 60_000;
    try {
      expect(await codeOf(() => app.spends.sign(stale.spendId, 'close'))).toBe('DRAFT_EXPIRED');
      expect((await app.spends.store.get(stale.spendId))!.state).toBe('expired');
      await setPrice(app, 10_000_000);
      expect((await app.operations.mint(vault.id, 100_000)).debtCents).toBe(100_000);
    } finally {
      skewMs -= 16 * 60_000;
    }
    await expectBacked();
  });

  it('4. an emergency exit is refused while the vault has debt, and a close with debt too', async () => {
    const { app } = t();
    await setPrice(app, 10_000_000);
    const vault = await fundedVault([5_000_000], 100_000);
    const dest = await app.regtest!.miner.newAddress();
    const before = await snapshotOf(app);
    expect(await codeOf(() => app.operations.previewEmergencyExit(vault.id, dest))).toBe(
      'DEBT_OUTSTANDING',
    );
    expect(await codeOf(() => app.operations.previewClose(vault.id, dest))).toBe(
      'DEBT_OUTSTANDING',
    );
    expect(await snapshotOf(app)).toBe(before);
  });

  it('mint needs a return address first', async () => {
    const { app } = t();
    await setPrice(app, 10_000_000);
    const vault = await app.vaults.createVault({ keySetId: app.keySetId });
    await faucet(app, vault.address, 2_000_000);
    await mine(app);
    const before = await snapshotOf(app);
    expect(await codeOf(async () => await app.operations.mint(vault.id, 100_000))).toBe(
      'RETURN_ADDRESS_MISSING',
    );
    expect(await snapshotOf(app)).toBe(before);
    await app.vaults.setReturnAddress(vault.id, RETURN);
    expect((await app.operations.mint(vault.id, 100_000)).debtCents).toBe(100_000);
  });
});

describe('every auction ends', () => {
  /** Liquidates `vaultId` by setting the price to `to`; returns its live auction. */
  async function liquidate(vaultId: number, to: number) {
    const { app } = t();
    await setPrice(app, to);
    expect((await app.vaults.getVault(vaultId)).state).toBe('liquidating');
    return (await app.liquidation.listAuctions({ live: true })).find((a) => a.vaultId === vaultId)!;
  }
  /** bsUSD for the takers. */
  async function bank(cents: number) {
    const { app } = t();
    await setPrice(app, 10_000_000);
    await fundedVault([200_000_000], cents);
  }

  for (const [coins, each, feeRate] of [
    [100, 100_000, 2_000],
    [5, 200_000, 40_000],
  ] as const) {
    it(`6. a vault of ${coins} coins settles at ${feeRate / 1000} sat/vB: the fee reserve is sized from the real transaction`, async () => {
      const { app } = t();
      await bank(5_000_000);
      const vault = await app.vaults.createVault({ keySetId: app.keySetId, returnAddress: RETURN });
      await fundMany(vault.address, coins, each);
      await mine(app);
      const total = coins * each;
      expect((await app.vaults.getVault(vault.id)).collateralSats).toBe(total);
      // $ at 100,000 / BTC; debt leaves 166 %.
      await app.operations.mint(vault.id, Math.floor((total * 1000) / 1.66 / 1e6) * 100);
      const rate = app.chain.feeRateSatPerKvB.bind(app.chain);
      app.chain.feeRateSatPerKvB = async () => feeRate;
      try {
        const auction = await liquidate(vault.id, 8_500_000);
        await app.liquidation.tick();
        const taker = await app.regtest!.miner.newAddress();
        const take = await app.liquidation.take({
          auctionId: auction.id,
          maxSats: total,
          maxPriceCents: 100_000_000,
          btcAddress: taker,
        });
        expect(take.auction.state).toBe('settling');
        await app.sync();
        const settlement = (await tablesOf(app).value(
          "SELECT plan FROM spends WHERE vault_id = ? AND kind = 'settlement' AND state = 'broadcast'",
          vault.id,
        )) as string;
        expect(JSON.parse(settlement).inputs).toHaveLength(coins);
        await mine(app);
        expect((await app.vaults.getVault(vault.id)).state).toBe('liquidated');
        expect(await receivedAt(app, taker)).toBe(take.sats);
      } finally {
        app.chain.feeRateSatPerKvB = rate;
      }
      await expectBacked();
    });
  }

  it('6. thirty small takes to thirty addresses at 20 sat/vB: every taker is paid', async () => {
    const { app } = t();
    await bank(5_000_000);
    const vault = await fundedVault([2_000_000], 120_000); // $2,000 against $1,200
    const rate = app.chain.feeRateSatPerKvB.bind(app.chain);
    app.chain.feeRateSatPerKvB = async () => 20_000;
    try {
      const auction = await liquidate(vault.id, 8_500_000);
      await app.liquidation.tick();
      const takers: { address: string; sats: number }[] = [];
      for (let i = 0; i < 30; i++) {
        const address = await app.regtest!.miner.newAddress();
        const r = await app.liquidation.take({
          auctionId: auction.id,
          maxSats: i === 29 ? 2_000_000 : 1_000,
          maxPriceCents: 100_000_000,
          btcAddress: address,
        });
        takers.push({ address, sats: r.sats });
        if (r.auction.state !== 'running') break;
      }
      expect((await app.liquidation.getAuction(auction.id)).state).toBe('settling');
      await app.sync();
      await mine(app);
      expect((await app.vaults.getVault(vault.id)).state).toBe('liquidated');
      for (const tk of takers) expect(await receivedAt(app, tk.address)).toBe(tk.sats);
    } finally {
      app.chain.feeRateSatPerKvB = rate;
    }
    await expectBacked();
  });

  it('7. a take may not leave a remainder under the minimum: take all instead', async () => {
    const { app } = t();
    await bank(5_000_000);
    const vault = await fundedVault([1_000_000], 60_000); // $1,000 against $600
    // At $60,000 the lot is worth less than the tab: the lot, not the tab, limits the takes.
    const auction = await liquidate(vault.id, 6_000_000);
    const lot = auction.lotSats;
    const before = await snapshotOf(app);
    const taker = await app.regtest!.miner.newAddress();
    expect(
      await codeOf(
        async () =>
          await app.liquidation.take({
            auctionId: auction.id,
            maxSats: lot - 5_000, // would leave 5,000 sats: under the 10,000-sat minimum
            maxPriceCents: 100_000_000,
            btcAddress: taker,
          }),
      ),
    ).toBe('TAKE_LEAVES_DUST');
    expect(await snapshotOf(app)).toBe(before);
    const all = await app.liquidation.take({
      auctionId: auction.id,
      maxSats: lot,
      maxPriceCents: 100_000_000,
      btcAddress: taker,
    });
    expect(all.auction.state).toBe('settling');
    await app.sync();
    await mine(app);
    await expectBacked();
  });

  it('7. a lot too small to sell is booked as deficit at once, and the dust goes to the protocol, not the owner', async () => {
    const { app } = t();
    await setPrice(app, 1_000_000_000); // $10,000,000 / BTC: 900 sats are $90
    const vault = await fundedVault([900], 5_000); // $90 against $50: 180 %
    const deficitBefore = await badDebtBooked(app);
    await setPrice(app, 700_000_000); // $63 against $50: 126 %
    const auction = (await app.liquidation.listAuctions()).find((a) => a.vaultId === vault.id)!;
    expect(auction).toMatchObject({ state: 'settling', deficitCents: 5_000 });
    expect((await app.vaults.getVault(vault.id)).debtCents).toBe(0);
    expect((await badDebtBooked(app)) - deficitBefore).toBe(5_000);
    await app.sync();
    await mine(app);
    const ended = await app.liquidation.getAuction(auction.id);
    expect(ended.state).toBe('settled');
    const surplus = protocolSurplusAddress(
      (await app.vaults.keySet(vault.keySetId)).protocol,
      app.network,
    );
    const plan = (await tablesOf(app).value(
      "SELECT plan FROM spends WHERE vault_id = ? AND kind = 'settlement'",
      vault.id,
    )) as string | undefined;
    if (plan)
      expect(JSON.parse(plan).outputs.map((o: { address: string }) => o.address)).toEqual([
        surplus,
      ]);
    await expectBacked();
  });
});

describe('coins after the end, and failures that are loud', () => {
  it('9. coins sent to a Closed vault are swept back by the owner', async () => {
    const { app } = t();
    const vault = await fundedVault([2_000_000]);
    const dest = await app.regtest!.miner.newAddress();
    await app.operations.close(vault.id, dest);
    await mine(app);
    expect((await app.vaults.getVault(vault.id)).state).toBe('closed');
    await faucet(app, vault.address, 300_000);
    await mine(app);
    expect(await app.vaults.getVault(vault.id)).toMatchObject({
      state: 'closed',
      collateralSats: 300_000,
    });
    const back = await app.regtest!.miner.newAddress();
    const r = await app.operations.sweep(vault.id, back);
    await mine(app);
    expect(await receivedAt(app, back)).toBe(300_000 - r.plan.feeSats);
    expect(await app.vaults.getVault(vault.id)).toMatchObject({
      state: 'closed',
      collateralSats: 0,
    });
  });

  it('8. a settlement that fails is logged, counted, shown on the auction and in /health', async () => {
    const { app } = t();
    await setPrice(app, 10_000_000);
    await fundedVault([200_000_000], 5_000_000);
    const vault = await fundedVault([1_000_000], 60_000);
    await setPrice(app, 8_500_000);
    const auction = (await app.liquidation.listAuctions({ live: true })).find(
      (a) => a.vaultId === vault.id,
    )!;
    await app.liquidation.take({
      auctionId: auction.id,
      maxSats: auction.lotSats,
      maxPriceCents: 100_000_000,
      btcAddress: await app.regtest!.miner.newAddress(),
    });
    const guardian = app.signers.guardian;
    (app.signers as { guardian: Signer }).guardian = {
      ...guardian,
      role: guardian.role,
      kind: guardian.kind,
      fingerprint: () => guardian.fingerprint(),
      accountKey: () => guardian.accountKey(),
      signPsbt: async () => {
        throw new Error('the guardian service is down');
      },
    };
    try {
      await app.sync();
      const failing = await app.liquidation.getAuction(auction.id);
      expect(failing.settlementError).toMatchObject({ code: 'INTERNAL', count: 1 });
      expect(failing.settlementError!.message).toContain('guardian service is down');
      expect(app.background.current().map((f) => f.task)).toContain('settlement');
      expect(app.background.counts().settlement).toBeGreaterThanOrEqual(1);
      const health = await healthReport(app);
      expect(health.parts.settlements).toMatchObject({ status: 'degraded' });
      expect(health.parts.background).toMatchObject({ status: 'degraded' });
    } finally {
      (app.signers as { guardian: Signer }).guardian = guardian;
    }
    await app.sync();
    expect((await app.liquidation.getAuction(auction.id)).settlementError).toBeNull();
    await mine(app);
    expect((await app.liquidation.getAuction(auction.id)).state).toBe('settled');
    await expectBacked();
  });
});
