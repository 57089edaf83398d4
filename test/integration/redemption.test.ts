/**
 * Redemptions on a real regtest chain (SPEC §8.5; issue "The peg and the price" item 3): bsUSD
 * for bitcoin from the two lowest-ratio vaults, paid on chain by protocol + guardian spends; the
 * debts fall by exactly what was redeemed, the fee goes to surplus, the owners are told with the
 * numbers; a payout whose signing fails is owed, holds the vault, and is paid once at the next
 * sync; redemptions racing mints and each other in one JSON-RPC batch.
 */
import { describe, expect, it } from 'vitest';
import type { Result } from '../../core/api/contract';
import { createApiService } from '../../core/api/dispatcher';
import { startGateway } from '../../core/gateway/server';
import { newToken, type TokenEntry } from '../../core/gateway/tokens';
import type { Signer } from '../../core/signers/types';
import { codeOf } from '../helpers/errors';
import { expectLedgerBalanced, faucet, mine, setPrice, useBitStableNode } from '../helpers/app';

const RETURN = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';
type TestApp = ReturnType<ReturnType<typeof useBitStableNode>>['app'];

async function vaultWith(app: TestApp, sats: number, debtCents: number) {
  const v = await app.vaults.createVault({ keySetId: app.keySetId, returnAddress: RETURN });
  await faucet(app, v.address, sats);
  await mine(app);
  await app.operations.mint(v.id, debtCents);
  return v.id;
}

/** What a transaction pays `address`, in sats. */
async function paidTo(app: TestApp, txid: string, address: string): Promise<number> {
  const tx = await app.regtest!.rpc.call<{
    vout: { value: number; scriptPubKey: { address?: string } }[];
  }>('getrawtransaction', [txid, true]);
  return tx.vout
    .filter((o) => o.scriptPubKey.address === address)
    .reduce((s, o) => s + Math.round(o.value * 1e8), 0);
}

/** Fails the guardian's first `failures` signatures (a guardian that is away), then signs. */
let guardianFailures = 0;
function flakyGuardian(real: Signer): Signer {
  return new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === 'signPsbt') {
        return async (...args: Parameters<Signer['signPsbt']>) => {
          if (guardianFailures > 0) {
            guardianFailures--;
            throw Object.assign(new Error('the guardian is away'), { code: 'DEVICE_TIMEOUT' });
          }
          return target.signPsbt(...args);
        };
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
}

describe('redemptions, on a real regtest chain', () => {
  const t = useBitStableNode();

  it('4,000.00 bsUSD from the two lowest-ratio vaults: paid on chain, their debts fall by exactly what was redeemed, the fee to surplus, the owners told', async () => {
    const { app } = t();
    await setPrice(app, 4_500_000);
    const safe = await vaultWith(app, 20_000_000, 200_000); // 450 %
    const lowest = await vaultWith(app, 10_000_000, 280_000); // 160.7 %
    const second = await vaultWith(app, 10_000_000, 270_000); // 166.7 %
    const surplus0 = (await app.store.ledger.checkInvariant()).surplusCents;
    const balance0 = await app.operations.balanceCents();
    const to = await app.regtest!.miner.newAddress();

    // 4,000.00 redeems 3,980.09 of debt (+ 19.91 fee = 4,000.00): all 2,800.00 of the lowest
    // vault, 1,180.09 of the next; at $45,000 that is 6,222,222 + 2,622,422 sats.
    const quote = await app.redemptions.quote(400_000);
    expect(quote).toMatchObject({
      redeemedCents: 398_009,
      feeCents: 1_991,
      paidCents: 400_000,
      sats: 8_844_644,
      vaults: 2,
      unfilledCents: 0,
    });
    const r = await app.redemptions.redeem(app.localAccountId, 400_000, to);
    expect(r.payouts.map((p) => [p.vaultId, p.debtCents, p.sats])).toEqual([
      [lowest, 280_000, 6_222_222],
      [second, 118_009, 2_622_422],
    ]);
    expect((await app.vaults.getVault(lowest)).debtCents).toBe(0);
    expect((await app.vaults.getVault(second)).debtCents).toBe(151_991);
    expect((await app.vaults.getVault(safe)).debtCents).toBe(200_000);
    expect(await app.operations.balanceCents()).toBe(balance0 - 400_000);
    expect((await app.store.ledger.checkInvariant()).surplusCents - surplus0).toBe(1_991);
    await expectLedgerBalanced(app);

    await mine(app);
    const paid = await app.redemptions.get(r.id);
    expect(paid.payouts.every((p) => p.state === 'paid' && p.txid)).toBe(true);
    for (const p of paid.payouts) {
      const spend = app.db
        .prepare(
          "SELECT plan FROM spends WHERE txid = ? AND kind = 'redemption' AND state = 'confirmed'",
        )
        .pluck()
        .get(p.txid) as string;
      const fee = (JSON.parse(spend) as { feeSats: number }).feeSats;
      // The redeemer gets what the vault owes less that transaction's fee; the rest stays.
      expect(await paidTo(app, p.txid!, to)).toBe(p.sats - fee);
      expect(fee).toBeGreaterThan(0);
      expect(fee).toBeLessThan(2_000);
    }
    expect((await app.vaults.getVault(lowest)).collateralSats).toBe(10_000_000 - 6_222_222);
    expect((await app.vaults.getVault(second)).collateralSats).toBe(10_000_000 - 2_622_422);
    // The owner of each vault is told, with the numbers.
    const api = createApiService({ core: app });
    const seen = await api.dispatch('vaults.get', { vaultId: lowest }, { roles: ['admin'] });
    // Its history (the CSV export): the redemption by its kind, with the bitcoin it took and the
    // payout's txid, ending at what the vault holds now.
    const activity = await api.dispatch(
      'vaults.activity',
      { vaultId: lowest },
      { roles: ['admin'] },
    );
    api.close();
    type Rows = Result<'vaults.activity'>;
    expect(
      activity.ok &&
        (activity.result as Rows).items.map((i) => [
          i.kind,
          i.collateralChangeSats,
          i.collateralAfterSats,
          i.debtChangeCents,
          i.txid,
        ]),
    ).toEqual([
      [
        'redemption',
        -6_222_222,
        3_777_778,
        -280_000,
        paid.payouts.find((p) => p.vaultId === lowest)!.txid,
      ],
      ['mint', 0, 10_000_000, 280_000, null],
      ['deposit', 10_000_000, 10_000_000, 0, expect.stringMatching(/^[0-9a-f]{64}$/)],
    ]);
    expect(seen.ok && (seen.result as { redemptions: unknown[] }).redemptions[0]).toMatchObject({
      redemptionId: r.id,
      debtCents: 280_000,
      sats: 6_222_222,
      priceCents: 4_500_000,
      state: 'paid',
    });
    await expectLedgerBalanced(app);
  });

  it('refuses with a typed error and changes nothing: no amount, a bad address, more than you hold, or less bitcoin than asked for', async () => {
    const { app } = t();
    const before = await app.store.ledger.checkInvariant();
    const to = await app.regtest!.miner.newAddress();
    expect(await codeOf(() => app.redemptions.redeem(app.localAccountId, 0, to))).toBe(
      'INVALID_AMOUNT',
    );
    expect(
      await codeOf(() => app.redemptions.redeem(app.localAccountId, 10_000, 'bc1qnotanaddress')),
    ).toBe('INVALID_ADDRESS');
    const all = await app.operations.balanceCents();
    expect(
      await codeOf(() => app.redemptions.redeem(app.localAccountId, all + 1_000_000, to)),
    ).toBe('INSUFFICIENT_BALANCE');
    expect(
      await codeOf(() => app.redemptions.redeem(app.localAccountId, 10_000, to, 100_000_000)),
    ).toBe('NOTHING_TO_REDEEM');
    expect(await app.store.ledger.checkInvariant()).toEqual(before);
  });
});

describe('a redemption payout whose signing fails', () => {
  const t = useBitStableNode();

  it('is owed and holds the vault (no mint, no withdrawal); the next sync pays it, once', async () => {
    const { app } = t();
    await setPrice(app, 4_500_000);
    const v = await vaultWith(app, 10_000_000, 280_000);
    const to = await app.regtest!.miner.newAddress();
    const signers = app.signers as { guardian: Signer };
    signers.guardian = flakyGuardian(signers.guardian);
    guardianFailures = 1;
    const r = await app.redemptions.redeem(app.localAccountId, 100_000, to);
    expect(r.payouts).toMatchObject([{ vaultId: v, state: 'owed', txid: null }]);
    expect((app.background.counts()['redemption-payout'] ?? 0) > 0).toBe(true);
    // The coins are the redeemer's now: not the vault's collateral (its health is without them),
    // and the owner can neither mint nor withdraw meanwhile.
    expect((await app.vaults.getVault(v)).collateralSats).toBe(10_000_000 - r.payouts[0]!.sats);
    await app.vaults.syncDeposits();
    expect((await app.vaults.getVault(v)).collateralSats).toBe(10_000_000 - r.payouts[0]!.sats);
    expect(await codeOf(async () => await app.operations.mint(v, 10_000))).toBe('REDEMPTION_OWED');
    expect(await codeOf(() => app.operations.previewWithdraw(v, 100_000, RETURN))).toBe(
      'REDEMPTION_OWED',
    );
    await app.sync(); // pays it
    await mine(app);
    const done = await app.redemptions.get(r.id);
    expect(done.payouts[0]).toMatchObject({ state: 'paid' });
    expect((await app.vaults.getVault(v)).collateralSats).toBe(10_000_000 - r.payouts[0]!.sats);
    const spends = app.db
      .prepare(
        "SELECT state, COUNT(*) AS n FROM spends WHERE vault_id = ? AND kind = 'redemption' GROUP BY state ORDER BY state",
      )
      .all(v);
    expect(spends).toEqual([
      { state: 'abandoned', n: 1 },
      { state: 'confirmed', n: 1 },
    ]);
    await app.sync();
    await mine(app);
    expect(
      app.db
        .prepare(
          "SELECT COUNT(*) FROM spends WHERE vault_id = ? AND kind = 'redemption' AND state <> 'abandoned'",
        )
        .pluck()
        .get(v),
    ).toBe(1);
    await app.operations.mint(v, 10_000); // held no more
    await expectLedgerBalanced(app);
  });
});

describe('redemptions racing other operations in one JSON-RPC batch', () => {
  const t = useBitStableNode();

  it('two redemptions and a mint on the lowest vault at once: no vault pays twice, every refusal is typed, the books balance', async () => {
    const { app } = t();
    await setPrice(app, 4_500_000);
    const a = await vaultWith(app, 10_000_000, 280_000);
    const b = await vaultWith(app, 10_000_000, 270_000);
    const c = await vaultWith(app, 20_000_000, 250_000);
    const to = await app.regtest!.miner.newAddress();
    const admin: TokenEntry = { label: 'admin', roles: ['admin'], token: newToken() };
    const api = createApiService({ core: app });
    const gw = await startGateway({ api, core: app, tokens: [admin], port: 0 });
    try {
      const calls: [string, unknown][] = [
        ['bsusd.redeem', { amountCents: 150_000, btcAddress: to }],
        ['vaults.mint', { vaultId: a, amountCents: 10_000 }],
        ['bsusd.redeem', { amountCents: 150_000, btcAddress: to }],
      ];
      const res = await fetch(`${gw.url}/rpc`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${admin.token}` },
        body: JSON.stringify(
          calls.map(([method, params], i) => ({ jsonrpc: '2.0', id: i + 1, method, params })),
        ),
      });
      const answers = (await res.json()) as {
        id: number;
        result?: { payouts?: { vaultId: number }[] };
        error?: { data: { code: string } };
      }[];
      for (const x of answers) {
        if (x.error) expect(['REDEMPTION_OWED', 'SPEND_IN_FLIGHT']).toContain(x.error.data.code);
      }
      const redeemed = answers
        .filter((x) => x.result?.payouts)
        .flatMap((x) => x.result!.payouts!.map((p) => p.vaultId));
      expect(redeemed.length).toBeGreaterThanOrEqual(2);
      expect(new Set(redeemed).size).toBe(redeemed.length); // no vault in two redemptions at once
      expect(redeemed.every((id) => [a, b, c].includes(id))).toBe(true);
      await mine(app);
      expect(
        app.db
          .prepare("SELECT COUNT(*) FROM redemption_payouts WHERE state = 'owed'")
          .pluck()
          .get(),
      ).toBe(0);
      await expectLedgerBalanced(app);
    } finally {
      await gw.close();
      api.close();
    }
  });
});
