/**
 * Redemptions (SPEC §8.5; issue "The peg and the price" item 3): any bsUSD holder gives bsUSD
 * and gets bitcoin at the oracle price, less a fee, from the lowest-ratio vaults first. This is
 * the peg's floor: when bsUSD trades under a dollar, redeeming it is a profit.
 *
 * `redeem` is one SQLite transaction: the vaults are found lowest ratio first by the health
 * pass's index (two range scans, one per open state, merged — never a scan of all vaults), each
 * one's accrued fee is booked, the plan is made (core/redemptions/plan.ts), one `redemption`
 * ledger entry moves the bsUSD (the holder's to the vaults' debts, the fee to surplus), each
 * vault's debt falls, and what each vault owes the redeemer is written as a payout. From that
 * moment the payout holds the vault's coins (REDEMPTION_OWED for its mints and spends).
 *
 * Paying is then the vault's `redemption` spend, protocol + guardian (the guardian's file flow
 * off regtest): made at once, and again at every sync while a payout is owed and no spend of it
 * is in flight — a spend that fails, a crash, a dropped transaction leave the payout owed and
 * the next sync pays it. The payout is `paid` when its transaction confirms; it cannot be paid
 * twice, as at most one spend of the vault is ever in flight and a confirmed one marks it paid.
 * (The PSBT needs the coins' previous transactions from the node, which cannot be awaited inside
 * a SQLite transaction: so the obligation is stored with the debt change, and the spend drafted
 * right after it.)
 */
import type { NetworkInfo, VaultParams } from '../config/networks';
import { BitStableError } from '../errors';
import type { EventBus } from '../events/bus';
import { holderAccount, vaultAccount } from '../ledger/bsusd';
import { cents, type Cents, type Sats } from '../money';
import { requireLiquidationPrice, type PriceFeed } from '../oracle/feed';
import { dustThreshold, feeFor, outputScript, vsize } from '../psbt/fees';

/** The largest standard output script (P2WSH, P2TR): payouts are sized as one. */
const LARGEST_OUTPUT_SCRIPT = new Uint8Array(34);
import type { SignContext } from '../signers/types';
import type { SpendService } from '../spends/service';
import type { Store } from '../store/ports';
import type { CandidateRow, RedemptionRow } from '../store/redemptions';
import { storedPrices } from '../vaults/debt';
import { accrueVault, artAfter, drip } from '../vaults/fee-book';
import { nextStateOutsideHealthPass } from '../vaults/state';
import type { VaultService } from '../vaults/vault-service';
import {
  planRedemption,
  type RedemptionCandidate,
  type RedemptionPlan,
  type RedemptionRules,
} from './plan';

/** At most this many vaults pay one redemption (one transaction each). */
export const MAX_VAULTS_PER_REDEMPTION = 10;

export interface RedemptionDeskDeps {
  store: Store;
  network: NetworkInfo;
  params: VaultParams;
  bus: EventBus;
  price: PriceFeed;
  vaults: VaultService;
  spends: SpendService;
  clock?: () => number;
  /** The node's fee rate as last seen (sat/kvB), for quotes and the smallest payout. */
  feeRateSatPerKvB: () => number;
  /** A payout that could not be made now (it is retried at the next sync). */
  onError?: (err: unknown, ids: Record<string, number>) => void;
}

export interface RedemptionQuote {
  priceCents: Cents;
  feeBps: number;
  /** What the vaults' debts fall by. */
  redeemedCents: Cents;
  feeCents: Cents;
  /** What leaves your account: redeemed + fee. */
  paidCents: Cents;
  /** Bitcoin the vaults pay, before each payout's transaction fee (paid out of it). */
  sats: Sats;
  /** The transaction fees at today's rate, one transaction per vault (an estimate). */
  networkFeeSats: Sats;
  /** How many vaults pay, lowest ratio first. */
  vaults: number;
  /** Part of what was offered that no vault can take now (it stays in your account). */
  unfilledCents: Cents;
}

export interface RedemptionPayoutView {
  payoutId: number;
  vaultId: number;
  debtCents: Cents;
  sats: Sats;
  state: 'owed' | 'paid';
  txid: string | null;
}

export interface RedemptionView {
  id: number;
  accountId: string;
  btcAddress: string;
  redeemedCents: Cents;
  feeCents: Cents;
  priceCents: Cents;
  sats: Sats;
  createdAt: number;
  payouts: RedemptionPayoutView[];
}

export class RedemptionDesk {
  private readonly store: Store;
  private readonly now: () => number;
  private paying: Promise<void> = Promise.resolve();

  constructor(private readonly deps: RedemptionDeskDeps) {
    this.store = deps.store;
    this.now = deps.clock ?? Date.now;
  }

  private rules(): RedemptionRules {
    const p = this.deps.params;
    return {
      feeBps: p.redemptionFeeBps,
      debtFloorCents: p.debtFloorCents,
      liquidationRatioBps: p.liquidationRatioBps,
      // A payout must pay its own transaction's fee and still be more than dust — with room
      // for the fee rate to double before it is sent.
      minSats: (dustThreshold(LARGEST_OUTPUT_SCRIPT) + 2 * this.payoutFee()) as Sats,
      maxVaults: MAX_VAULTS_PER_REDEMPTION,
    };
  }

  /** The fee of one payout transaction (two 2-of-3 inputs, two outputs) at the last known rate. */
  private payoutFee(): Sats {
    return feeFor(
      vsize(2, [LARGEST_OUTPUT_SCRIPT, LARGEST_OUTPUT_SCRIPT]),
      this.deps.feeRateSatPerKvB(),
    );
  }

  /**
   * The vaults a redemption may take from, lowest ratio first: the health pass's index keys
   * (threshold prices of the normalized debt) read highest first, one range scan per open state,
   * merged; vaults whose coins a spend or an owed payout holds are passed over.
   */
  private async *candidates(ts: number): AsyncGenerator<RedemptionCandidate> {
    const redemptions = this.store.redemptions;
    const stream = async function* (state: string, network: string) {
      let key = Number.MAX_SAFE_INTEGER;
      let after = 0;
      for (;;) {
        const rows = await redemptions.candidatesPage(state, network, key, after);
        if (rows.length === 0) return;
        for (const r of rows) yield r;
        const last = rows[rows.length - 1]!;
        key = last.liquidation_price_cents;
        after = last.id;
      }
    };
    // The ORDER BY above is (key DESC, id ASC), so the resume condition must match it.
    const a = stream('active', this.deps.network.name);
    const w = stream('warning', this.deps.network.name);
    let x = await a.next();
    let y = await w.next();
    const store = this.deps.spends.store;
    // A redemption looks at a bounded number of vaults: a crowd of vaults at their debt floor
    // (which the planner passes over) must not make it a scan.
    let looked = 0;
    while ((!x.done || !y.done) && looked < MAX_VAULTS_PER_REDEMPTION * 4) {
      looked++;
      let pick: CandidateRow;
      if (
        y.done ||
        (!x.done && x.value.liquidation_price_cents > y.value.liquidation_price_cents)
      ) {
        pick = x.value as CandidateRow;
        x = await a.next();
      } else {
        pick = y.value as CandidateRow;
        y = await w.next();
      }
      if ((await store.openFor(pick.id)) || (await store.liveSignedExits(pick.id)).length > 0)
        continue;
      if (await redemptions.isOwed(pick.id)) continue;
      const debt = await accrueVault(this.store, pick.id, ts);
      yield { vaultId: pick.id, collateralSats: pick.collateral_sats as Sats, debtCents: debt };
    }
  }

  private requireAmount(value: unknown): Cents {
    const amount = cents(value);
    if (amount === 0) throw new BitStableError('INVALID_AMOUNT', 'Redeem more than 0 bsUSD.', {});
    return amount;
  }

  private quoteOf(plan: RedemptionPlan, offered: number, price: Cents) {
    return {
      priceCents: price,
      feeBps: this.deps.params.redemptionFeeBps,
      redeemedCents: plan.redeemedCents,
      feeCents: plan.feeCents,
      paidCents: plan.paidCents,
      sats: plan.sats,
      networkFeeSats: (this.payoutFee() * plan.slices.length) as Sats,
      vaults: plan.slices.length,
      unfilledCents: (offered - plan.paidCents) as Cents,
    };
  }

  /** What redeeming `amountCents` would do now; changes nothing. */
  async quote(amountCents: unknown): Promise<RedemptionQuote> {
    const offered = this.requireAmount(amountCents);
    const price = requireLiquidationPrice(this.deps.price.current());
    // Planned inside a transaction that is rolled back: the fee bookings it reads through stay out.
    let quote: RedemptionQuote | null = null;
    try {
      await this.store.transaction(async () => {
        const plan = await planRedemption(
          this.candidates(this.now()),
          offered,
          price,
          this.rules(),
        );
        quote = this.quoteOf(plan, offered, price);
        throw ROLLBACK;
      });
    } catch (err) {
      if (err !== ROLLBACK) throw err;
    }
    return quote!;
  }

  /**
   * Redeems up to `amountCents` of `account`'s bsUSD for bitcoin sent to `btcAddress`: one
   * transaction books it all (see the file's comment); then each vault's payout is sent. With
   * `minSats`, refused (and nothing changed) if the vaults would pay less than that in all.
   */
  async redeem(
    account: string,
    amountCents: unknown,
    btcAddress: unknown,
    minSats?: number,
  ): Promise<RedemptionView> {
    const offered = this.requireAmount(amountCents);
    if (typeof btcAddress !== 'string' || btcAddress.length === 0 || btcAddress.length > 100)
      throw new BitStableError('INVALID_ADDRESS', 'Give a Bitcoin address to be paid at.', {});
    outputScript(btcAddress, this.deps.network);
    const price = requireLiquidationPrice(this.deps.price.current());
    const ts = this.now();
    const rules = this.rules();
    const { id, vaults } = await this.store.transaction(async () => {
      await this.store.ledger.ensureHolder(account);
      const plan = await planRedemption(this.candidates(ts), offered, price, rules);
      if (plan.slices.length === 0) {
        throw new BitStableError(
          'NOTHING_TO_REDEEM',
          'No vault can be redeemed from now (each open vault is held by a transaction, at its debt floor, or has too little debt for a payout above dust).',
          { offeredCents: offered },
        );
      }
      if (minSats !== undefined && plan.sats < minSats) {
        throw new BitStableError(
          'NOTHING_TO_REDEEM',
          `At $${(price / 100).toFixed(2)} the vaults would pay ${plan.sats} sats, less than the ${minSats} you asked for at least; nothing was redeemed.`,
          { offeredCents: offered, sats: plan.sats, minSats },
        );
      }
      const redemptionId = await this.store.redemptions.insertRedemption(
        account,
        btcAddress,
        plan.redeemedCents,
        plan.feeCents,
        price,
        plan.sats,
        ts,
      );
      const postings: [string, number][] = [[holderAccount(account), -plan.paidCents]];
      for (const s of plan.slices) postings.push([vaultAccount(s.vaultId), s.debtCents]);
      if (plan.feeCents > 0) postings.push(['surplus', plan.feeCents]);
      await this.store.ledger.post('redemption', null, postings, `redemption ${redemptionId}`, ts);
      const { rate } = await drip(this.store, this.deps.network.name, ts);
      for (const s of plan.slices) {
        const v = await this.deps.vaults.getVault(s.vaultId);
        const debt = (v.debtCents - s.debtCents) as Cents;
        const art = artAfter(v.debtArt, -s.debtCents, debt, rate);
        // The owed bitcoin is the redeemer's from now on: the vault's health is without it.
        const collateral = (v.collateralSats - s.sats) as Sats;
        const prices = storedPrices(collateral, art, this.deps.params);
        const state = nextStateOutsideHealthPass(
          v.state,
          { collateralSats: collateral, debtCents: debt, freshPriceCents: price },
          this.deps.params,
        );
        await this.store.redemptions.setRedeemedVault(
          v.id,
          collateral,
          debt,
          art,
          state,
          prices.liquidation,
          prices.warning,
          ts,
        );
        await this.store.redemptions.insertOwedPayout(redemptionId, s.vaultId, s.debtCents, s.sats);
        // What the owner is told: how much of their debt was redeemed, for how much bitcoin.
        await this.store.ops.journal(
          'vault.redeemed',
          v.id,
          // As a mint's or repay's: the amount, and the debt after.
          {
            redemptionId,
            amountCents: s.debtCents,
            sats: s.sats,
            priceCents: price,
            debtCents: debt,
          },
          ts,
        );
      }
      return { id: redemptionId, vaults: plan.slices.map((s) => s.vaultId) };
    });
    for (const vaultId of vaults) await this.emitVault(vaultId);
    await this.payOwed();
    return await this.get(id);
  }

  /**
   * Sends every owed payout that has no spend in flight (one at a time; safe to call at any
   * time). A payout that cannot be sent now is reported and retried at the next call.
   */
  payOwed(): Promise<void> {
    const run = async () => {
      const owed = await this.store.redemptions.owedToSend();
      for (const p of owed) {
        if (await this.deps.spends.store.openFor(p.vault_id)) continue; // in flight: the tracker moves it
        const vault = await this.deps.vaults.getVault(p.vault_id);
        const keys = await this.deps.vaults.keySet(vault.keySetId);
        const context: SignContext = {
          keys: { owner: keys.owner, protocol: keys.protocol, guardian: keys.guardian },
          purpose: `Redemption payout #${p.id} from vault #${vault.id}`,
          vaultId: vault.id,
        };
        try {
          await this.deps.spends.payRedemption(
            vault,
            { id: p.id, address: p.btc_address, sats: p.sats as Sats },
            context,
          );
        } catch (err) {
          // Never thrown on: the redemption is booked and the payout stays owed; the failure is
          // logged, counted and shown (/health), and the next sync tries again.
          this.deps.onError?.(err, { payoutId: p.id, vaultId: p.vault_id });
        }
      }
    };
    const next = this.paying.then(run, run);
    this.paying = next.catch(() => undefined);
    return next;
  }

  /** One redemption with its payouts (REDEMPTION_NOT_FOUND when there is none). */
  async get(id: number): Promise<RedemptionView> {
    const r = await this.store.redemptions.get(id);
    if (!r) throw new BitStableError('INVALID_ARGUMENT', `There is no redemption #${id}.`, { id });
    return await this.view(r);
  }

  /** An account's redemptions, newest first. */
  async list(account: string, limit = 50): Promise<RedemptionView[]> {
    const rows = await this.store.redemptions.listFor(account, limit);
    const views: RedemptionView[] = [];
    for (const r of rows) views.push(await this.view(r));
    return views;
  }

  /** What redemptions took from a vault, newest first (its owner is told with the numbers). */
  async forVault(vaultId: number, limit = 5) {
    return (await this.store.redemptions.forVault(vaultId, limit)).map((p) => ({
      redemptionId: p.redemption_id,
      at: p.created_at,
      debtCents: p.debt_cents as Cents,
      sats: p.sats as Sats,
      priceCents: p.price_cents as Cents,
      state: p.state,
      txid: p.txid,
    }));
  }

  private async view(r: RedemptionRow): Promise<RedemptionView> {
    const payouts = await this.store.redemptions.payoutsOf(r.id);
    return {
      id: r.id,
      accountId: r.account_id,
      btcAddress: r.btc_address,
      redeemedCents: r.redeemed_cents as Cents,
      feeCents: r.fee_cents as Cents,
      priceCents: r.price_cents as Cents,
      sats: r.sats as Sats,
      createdAt: r.created_at,
      payouts: payouts.map((p) => ({
        payoutId: p.id,
        vaultId: p.vault_id,
        debtCents: p.debt_cents as Cents,
        sats: p.sats as Sats,
        state: p.state,
        txid: p.txid,
      })),
    };
  }

  private async emitVault(vaultId: number): Promise<void> {
    const v = await this.deps.vaults.getVault(vaultId);
    this.deps.bus.emit('vault.changed', {
      vaultId: v.id,
      state: v.state,
      collateralSats: v.collateralSats,
      debtCents: v.debtCents,
    });
  }
}

const ROLLBACK = new Error('quote: roll back');
