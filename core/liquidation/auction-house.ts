/**
 * Liquidations (SPEC §8): the health pass on each accepted price, Dutch auctions with partial
 * takes paid in bsUSD, and one settlement transaction per auction signed by the protocol and
 * guardian keys.
 *
 * Crash safety: auction state and takes are SQLite transactions; the settlement is a `spends`
 * row written before signing and again (with the complete transaction) before broadcasting, so a
 * restart rebroadcasts the same transaction and nothing is taken or paid twice.
 *
 * Every auction ends (SPEC §8.2–8.3): the lot is the vault's coins that no spend holds, less a
 * fee reserve sized from the settlement transaction itself (its inputs and every taker's output)
 * at the node's fee rate; a lot too small to sell is booked as deficit at once; a take may not
 * leave a remainder of lot or tab under a minimum (it takes all); a settlement drops a dust rest
 * to the fee. With bad debt, the rest goes to the protocol, not the owner.
 */
import type { NetworkInfo, VaultParams } from '../config/networks';
import { faultPoint } from '../fault';
import { BitStableError, isBitStableError } from '../errors';
import type { EventBus } from '../events/bus';
import { holderAccount, vaultAccount } from '../ledger/bsusd';
import { sats, type Cents, type Sats } from '../money';
import type { BitcoinNode } from '../node/bitcoin-node';
import { priceUnavailableMessage, type PriceFeed } from '../oracle/feed';
import { dustThreshold, feeFor, outputScript, vsize } from '../psbt/fees';
import { MIN_RELAY_SAT_PER_KVB, type SpendPlan } from '../psbt/build';
import type { SignContext, Signer } from '../signers/types';
import type { ProtocolSigner } from '../signers/protocol';
import type { VaultService } from '../vaults/vault-service';
import { setVaultDebt, writeOffDebt } from '../vaults/debt';
import { poolAccount } from '../pool/pool';
import { planPoolTake } from '../pool/split';
import { accrueVault, drip } from '../vaults/fee-book';
import type { SpendService } from '../spends/service';
import type { Store } from '../store/ports';
import type { LiquidationRow } from '../store/auctions';
import { auctionTab, priceAt, quoteTake, scalePrice } from './dutch';
import { HealthQueries } from './health-pass';
import { cureIfHealthy } from './cure';
import { markLiquidationSettled, protocolSurplusAddress } from './settlement-state';

export interface Auction {
  id: number;
  vaultId: number;
  state: 'running' | 'settling' | 'settled';
  startedAt: number;
  /** Debt × 1.13: what the auction must raise. */
  tabCents: Cents;
  coveredCents: Cents;
  /** The vault's collateral on offer. */
  lotSats: Sats;
  soldSats: Sats;
  /** The price now (cents per BTC) and the cycle it falls in. */
  priceCents: Cents;
  topPriceCents: Cents;
  floorPriceCents: Cents;
  cycleStartedAt: number;
  /** Milliseconds until the price reaches the floor and the auction resets. */
  timeLeftMs: number;
  resets: number;
  deficitCents: Cents;
  settlementTxid: string | null;
  /** Where the settlement stands; `awaiting-guardian` until the guardian's signed file is imported. */
  settlementState: SettlementState | null;
  /** Set when the vault came back to 160 % before any take: ended without penalty. */
  curedAt: number | null;
  /** Why the settlement could not be made last time, in words (retried at every tick). */
  settlementError: { code: string; message: string; at: number; count: number } | null;
  /** Takes wait while a spend of the vault (or an exit the owner signed) holds its coins. */
  coinsHeld: boolean;
  /** The accepted price that started the auction, and the vault's debt then. */
  startPriceCents: Cents;
  debtCents: Cents;
  endedAt: number | null;
  /** When the settlement reached its confirmations. */
  settledAt: number | null;
  /** The settlement's output beside the takers': the owner's rest, or the protocol's (bad debt). */
  rest: { sats: Sats; address: string; to: 'owner' | 'protocol' } | null;
  settlementFeeSats: Sats | null;
}

export type SettlementState =
  'draft' | 'signing' | 'awaiting-guardian' | 'signed' | 'broadcast' | 'confirmed';

export interface TakeInput {
  auctionId: unknown;
  /** The most collateral the taker wants. */
  maxSats: unknown;
  /** The highest price (cents per BTC) the taker accepts. */
  maxPriceCents: unknown;
  /** Where the settlement pays the taker's bitcoin. */
  btcAddress: unknown;
  /** The bsUSD holder paying; default the local user. */
  taker?: string;
}

export interface AuctionHouseDeps {
  /** Who pays for a take that names no taker (the node's own account, in local mode). */
  defaultTaker?: string;
  store: Store;
  node: BitcoinNode;
  network: NetworkInfo;
  params: VaultParams;
  bus: EventBus;
  price: PriceFeed;
  vaults: VaultService;
  spends: SpendService;
  signers: { protocol: ProtocolSigner; guardian: Signer };
  clock?: () => number;
  /** Errors of one auction's settlement (retried at the next tick). */
  onError?: (err: unknown, ids: { auctionId: number; vaultId: number }) => void;
  /** Where the rest goes when a vault has no return address (regtest: the miner wallet). */
  fallbackReturnAddress?: () => Promise<string>;
}

/**
 * The settlement may have to pay up to this multiple of the fee rate seen at the last take (the
 * rate moves between the take and the settlement); the protocol co-signs up to the same multiple.
 */
const RESERVE_RATE_MULTIPLE = 2;
/** The largest standard output script (P2WSH, P2TR): the rest's output is sized as one. */
const LARGEST_OUTPUT_SCRIPT = new Uint8Array(34);

/** The health pass, the auctions and their settlement for one network. */
export class AuctionHouse {
  private readonly store: Store;
  private readonly health: HealthQueries;
  private readonly now: () => number;
  private settling: Promise<void> = Promise.resolve();
  /** The node's fee rate as last asked (sat/kvB); the sync paths (health pass, takes) size reserves with it. */
  private feeRate = MIN_RELAY_SAT_PER_KVB;

  constructor(private readonly deps: AuctionHouseDeps) {
    this.store = deps.store;
    this.health = new HealthQueries(deps.store.auctions);
    this.now = deps.clock ?? Date.now;
  }

  /** The node's fee rate as last asked (sat/kvB). */
  feeRateSatPerKvB(): number {
    return this.feeRate;
  }

  /** Asks the node for its fee rate now (the reserve of every lot is sized with it). */
  async refreshFeeRate(): Promise<void> {
    this.feeRate = Math.max(MIN_RELAY_SAT_PER_KVB, await this.deps.node.feeRateSatPerKvB());
  }

  /**
   * Moves vaults between Active, Warning and Liquidating at an accepted price and starts an
   * auction for each vault that became Liquidating — one transaction. Call only with a fresh
   * accepted price (the caller subscribes to 'price.accepted').
   */
  async healthPass(
    price: Cents,
  ): Promise<{ liquidated: number[]; warned: number[]; recovered: number[] }> {
    const ts = this.now();
    const changes = await this.store.transaction(async () => {
      // The stored threshold prices are of the normalized debts (core/vaults/fee.ts): at fee
      // rate r a vault crosses P when its stored price is above ⌊P / r⌋ (at 1.0, P itself).
      const { rate } = await drip(this.store, this.deps.network.name, ts);
      const c = await this.health.exactChangesAt(price, rate, this.deps.params);
      for (const id of c.toWarning) {
        await this.store.auctions.setVaultBand(id, 'warning', ts);
        await this.store.ops.journal('vault.warning', id, { priceCents: price }, ts);
      }
      for (const id of c.toActive) {
        await this.store.auctions.setVaultBand(id, 'active', ts);
        await this.store.ops.journal('vault.recovered', id, { priceCents: price }, ts);
      }
      for (const id of c.toLiquidating) await this.startAuction(id, price, ts);
      return c;
    });
    for (const id of [...changes.toLiquidating, ...changes.toWarning, ...changes.toActive])
      await this.emitVault(id);
    for (const id of changes.toLiquidating) {
      const a = await this.byVault(id);
      if (a) this.deps.bus.emit('auction.started', { auctionId: a.id, vaultId: id });
    }
    return {
      liquidated: changes.toLiquidating,
      warned: changes.toWarning,
      recovered: changes.toActive,
    };
  }

  /** Auctions, newest first; `live` only running ones. */
  async listAuctions(options: { live?: boolean; vaultId?: number } = {}): Promise<Auction[]> {
    const rows = await this.store.auctions.list(options.live ?? false);
    const auctions: Auction[] = [];
    for (const r of rows)
      if (options.vaultId === undefined || r.vault_id === options.vaultId)
        auctions.push(await this.toAuction(r));
    return auctions;
  }

  /** One auction (AUCTION_NOT_FOUND when there is none). */
  async getAuction(id: unknown): Promise<Auction> {
    return await this.toAuction(await this.row(id));
  }

  /**
   * Buys collateral at the current price, paying bsUSD: at most `maxSats`, never more than the
   * rest of the tab needs. When the tab is covered or the lot is gone the auction ends and its
   * settlement is made.
   */
  async take(
    input: TakeInput,
  ): Promise<{ auction: Auction; sats: Sats; costCents: Cents; priceCents: Cents }> {
    if (!input || typeof input !== 'object')
      throw new BitStableError(
        'INVALID_ARGUMENT',
        'A take needs an auction, an amount, a price limit and an address.',
        {},
      );
    const maxSats = sats(input.maxSats);
    const maxPrice = sats(input.maxPriceCents) as number as Cents;
    if (typeof input.btcAddress !== 'string' || input.btcAddress.length > 100)
      throw new BitStableError(
        'INVALID_ADDRESS',
        'Give a Bitcoin address for the collateral you buy.',
        {},
      );
    const script = outputScript(input.btcAddress, this.deps.network);
    const taker = input.taker ?? this.deps.defaultTaker ?? 'local';
    const ts = this.now();
    const result = await this.store.transaction(async () => {
      const row = await this.row(input.auctionId);
      if (row.state !== 'running') {
        throw new BitStableError('AUCTION_CLOSED', `Auction #${row.id} has ended.`, {
          auctionId: row.id,
        });
      }
      // Takes wait while a spend holds the vault's coins: a taker never pays for bitcoin that
      // is on its way elsewhere (or may be, if the guardian sends an exit the owner signed).
      await this.requireCoinsFree(row);
      const current = await this.rollCycle(row, ts);
      if (ts - current.cycle_started_at >= current.duration_ms) {
        // The fall reached its floor and the reset needs a fresh price it does not have: selling
        // on at the floor (~55 % of a price nobody can confirm) would give the coins away.
        throw new BitStableError(
          'PRICE_UNAVAILABLE',
          `Auction #${current.id} has reached its floor and restarts from the next fresh BTC price; takes wait until then. ${priceUnavailableMessage(this.deps.price.current()) ?? ''}`.trim(),
          { auctionId: current.id, status: this.deps.price.current().status },
        );
      }
      const price = this.priceOf(current, ts);
      if (price > maxPrice) {
        throw new BitStableError(
          'AUCTION_PRICE_ABOVE_MAX',
          `The auction price is ${price} cents per BTC, above your limit of ${maxPrice}.`,
          { priceCents: price, maxPriceCents: maxPrice },
        );
      }
      const tabLeft = (current.tab_cents - current.covered_cents) as Cents;
      const lotLeft = Math.max(0, (await this.lotOf(current)) - current.sold_sats) as Sats;
      let quote = quoteTake(price, tabLeft, lotLeft, maxSats);
      const chost = auctionTab(this.deps.params.debtFloorCents, this.deps.params.penaltyBps);
      const tabAfter = tabLeft - quote.costCents;
      const lotAfter = lotLeft - quote.sats;
      const leavesDust =
        tabAfter > 0 &&
        lotAfter > 0 &&
        (tabAfter < chost || lotAfter < this.deps.params.auctionMinLotSats);
      if (leavesDust) {
        // Maker's chost: no remainder too small to be worth taking — this take takes all.
        const all = quoteTake(price, tabLeft, lotLeft, lotLeft);
        if (all.sats > maxSats) {
          throw new BitStableError(
            'TAKE_LEAVES_DUST',
            `That would leave too little of auction #${current.id} for anyone to take; take all of it (${all.sats} sats for ${all.costCents} cents) instead.`,
            { auctionId: current.id, allSats: all.sats, allCostCents: all.costCents },
          );
        }
        quote = all;
      }
      if (quote.sats === 0 || quote.costCents === 0) {
        throw new BitStableError('TAKE_TOO_SMALL', 'That buys nothing; ask for more.', {
          auctionId: current.id,
        });
      }
      if (quote.sats < dustThreshold(script)) {
        throw new BitStableError(
          'TAKE_TOO_SMALL',
          `${quote.sats} sats is below the dust limit for ${input.btcAddress as string}.`,
          { auctionId: current.id, dustSats: dustThreshold(script) },
        );
      }
      await this.recordTake(
        current,
        holderAccount(taker),
        taker,
        input.btcAddress as string,
        quote,
        price,
        lotLeft,
        ts,
        false,
      );
      const after = await this.row(current.id);
      if (after.covered_cents >= after.tab_cents || after.sold_sats >= after.lot_sats)
        await this.endAuction(current.id, ts);
      return { ...quote, priceCents: price, auctionId: current.id };
    });
    faultPoint('auction.taken'); // paid and recorded; the settlement is made after a restart
    const auction = await this.getAuction(result.auctionId);
    this.deps.bus.emit('auction.changed', { auctionId: auction.id, state: auction.state });
    await this.emitVault(auction.vaultId);
    return {
      auction,
      sats: result.sats,
      costCents: result.costCents,
      priceCents: result.priceCents,
    };
  }

  /**
   * Advances auctions: resets those that reached their floor (at the fresh oracle price) and makes
   * the settlement of every ended auction that has none in flight. Safe to call at any time; runs
   * one at a time.
   */
  tick(): Promise<void> {
    const run = async () => {
      await this.refreshFeeRate().catch(() => undefined); // keep the last rate if the node is busy
      const ts = this.now();
      const price = this.deps.price.current();
      const cured: {
        auctionId: number;
        vault: { id: number; collateralSats: number; debtCents: number };
      }[] = [];
      const pooled: number[] = [];
      for (const listed of await this.store.auctions.running()) {
        await this.store.transaction(async () => {
          // Read again under the write lock: a take (here or on another instance) may have
          // landed since the list was read, and the pool must not buy what it already bought.
          const row = await this.row(listed.id);
          if (row.state !== 'running') return;
          // Before the first take, a vault back at 160 % (deposit, or the price) is cured.
          const vault = await this.deps.vaults.getVault(row.vault_id);
          const auctionId = await cureIfHealthy(
            this.store,
            this.deps.params,
            price,
            vault,
            vault.debtCents,
            ts,
          );
          if (auctionId !== null) {
            cured.push({ auctionId, vault });
            return;
          }
          const atFloor = ts - row.cycle_started_at >= row.duration_ms && price.status === 'ok';
          // At its floor with the tab not covered: the stability pool takes it, then it resets.
          if (atFloor && (await this.poolTakeAtFloor(row, ts)) > 0) pooled.push(row.id);
          const stillRunning = await this.row(row.id);
          if (stillRunning.state !== 'running') return;
          const current = atFloor ? await this.rollCycle(stillRunning, ts) : stillRunning;
          await this.endIfNothingToSell(current, ts);
        });
      }
      for (const id of pooled) {
        const a = await this.getAuction(id);
        this.deps.bus.emit('auction.changed', { auctionId: id, state: a.state });
        await this.emitVault(a.vaultId);
      }
      for (const c of cured) {
        this.deps.bus.emit('auction.changed', { auctionId: c.auctionId, state: 'settled' });
        this.deps.bus.emit('vault.changed', {
          vaultId: c.vault.id,
          state: 'active',
          collateralSats: c.vault.collateralSats,
          debtCents: c.vault.debtCents,
        });
      }
      for (const row of await this.store.auctions.settling()) {
        // One auction's trouble (a guardian who signs by file, a node hiccup) must not stop the
        // others; it is recorded on the auction, reported, and retried at the next tick.
        try {
          await this.settle(row);
        } catch (err) {
          await this.recordError(row, err);
          this.deps.onError?.(err, { auctionId: row.id, vaultId: row.vault_id });
        }
      }
    };
    const next = this.settling.then(run, run);
    this.settling = next.catch(() => undefined);
    return next;
  }

  private async settle(row: LiquidationRow): Promise<void> {
    // Wait while any spend of this vault is in flight (a withdrawal broadcast before the auction,
    // or this settlement itself, perhaps waiting for the guardian's signed file): its coins are
    // not ours to plan with until it settles.
    const open = await this.store.auctions.spendBlockingSettlement(row.vault_id);
    if (open !== undefined) return; // in flight: the tracker moves it on
    // A redemption payout the vault owes is paid first: those coins are the redeemer's.
    if ((await this.store.redemptions.owedPayouts(row.vault_id)).length > 0) return;
    const takes = await this.store.auctions.payouts(row.id);
    const payouts = takes.map((t) => ({ address: t.btc_address, amountSats: t.sats as Sats }));
    const vault = await this.deps.vaults.getVault(row.vault_id);
    const keys = await this.deps.vaults.keySet(vault.keySetId);
    let restAddress: string | null;
    if (row.deficit_cents > 0) {
      // Bad debt: nothing goes back to the owner while the deficit stands.
      restAddress = protocolSurplusAddress(keys.protocol, this.deps.network);
    } else {
      restAddress = row.return_address ?? vault.returnAddress;
      if (!restAddress && this.deps.fallbackReturnAddress) {
        restAddress = await this.deps.fallbackReturnAddress();
        // Stored before use, so a retried settlement pays the same address.
        await this.store.auctions.setReturnAddress(row.id, restAddress);
      }
    }
    if (!restAddress) {
      throw new BitStableError(
        'RETURN_ADDRESS_MISSING',
        `Vault #${vault.id} has no return address for the rest of its collateral; set one to settle auction #${row.id}.`,
        { vaultId: vault.id, auctionId: row.id },
      );
    }
    const context: SignContext = {
      keys: { owner: keys.owner, protocol: keys.protocol, guardian: keys.guardian },
      purpose: `Settlement of the auction of vault #${vault.id}`,
      vaultId: vault.id,
    };
    try {
      await this.deps.spends.settle(vault, row.id, payouts, restAddress, context);
    } catch (err) {
      if (!(payouts.length === 0 && isBitStableError(err, 'SETTLEMENT_UNBUILDABLE'))) throw err;
      // Nothing was sold and what the vault holds cannot even pay a fee: there is nothing to
      // settle. The auction is over (its debt booked when it ended); the dust stays put.
      await this.store.transaction(async () => {
        const ts = this.now();
        await markLiquidationSettled(this.store, vault.id, ts);
        await this.store.ops.journal(
          'auction.nothing-to-settle',
          vault.id,
          { auctionId: row.id },
          ts,
        );
      });
      this.deps.bus.emit('auction.changed', { auctionId: row.id, state: 'settled' });
      await this.emitVault(vault.id);
      return;
    }
    if (row.error_count > 0) {
      await this.store.auctions.clearSettlementError(row.id);
    }
  }

  /** Keeps a settlement failure on the auction, in words, for the UI and /health. */
  private async recordError(row: LiquidationRow, err: unknown): Promise<void> {
    const e = isBitStableError(err)
      ? { code: err.code, message: err.message }
      : { code: 'INTERNAL', message: (err as Error)?.message ?? String(err) };
    await this.store.auctions.recordSettlementError(row.id, e.message, e.code, this.now());
    this.deps.bus.emit('auction.changed', { auctionId: row.id, state: row.state });
  }

  /** Auctions whose settlement failed at least once and has not been made since. */
  async failingSettlements(): Promise<
    {
      auctionId: number;
      vaultId: number;
      code: string;
      message: string;
      count: number;
    }[]
  > {
    return (await this.store.auctions.failingSettlements()).map((r) => ({
      auctionId: r.id,
      vaultId: r.vault_id,
      code: r.last_error_code,
      message: r.last_error,
      count: r.error_count,
    }));
  }

  /**
   * The vault's coins that no spend holds (the confirmed ones and the change of its own spends),
   * and the lot they make: less a reserve for the settlement's fee, sized from that transaction —
   * every coin as an input; every taker's output so far, one for the next taker and one for the
   * rest — at RESERVE_RATE_MULTIPLE times the node's fee rate. So the lot shown is what the next
   * take can buy, and every take keeps the settlement payable.
   */
  private async lotOf(row: LiquidationRow, extraAddresses: readonly string[] = []): Promise<Sats> {
    const held = await this.deps.spends.store.heldOutpoints(row.vault_id);
    const coins = [];
    for (const c of await this.store.auctions.vaultCoins(row.vault_id)) {
      if (held.has(`${c.txid}:${c.vout}`)) continue;
      if (
        c.confirmations >= this.deps.params.confirmations ||
        (await this.deps.spends.store.isOwnTransaction(c.txid))
      )
        coins.push(c);
    }
    // Bitcoin the vault owes a redeemer, not yet on its way, is not the auction's to sell.
    const owed = await this.store.redemptions.owedUnsentSats(row.vault_id);
    const free = Math.max(0, coins.reduce((s, c) => s + c.amount_sats, 0) - owed);
    const addresses = new Set(await this.store.auctions.takerAddresses(row.id));
    for (const a of extraAddresses) addresses.add(a);
    const scripts = [...addresses].map((a) => outputScript(a, this.deps.network));
    const reserve = feeFor(
      vsize(Math.max(1, coins.length), [...scripts, LARGEST_OUTPUT_SCRIPT, LARGEST_OUTPUT_SCRIPT]),
      this.feeRate * RESERVE_RATE_MULTIPLE,
    );
    return Math.max(0, free - reserve) as Sats;
  }

  /** SPEND_IN_FLIGHT (or the code of what holds them) while the vault's coins are held. */
  private async requireCoinsFree(row: LiquidationRow): Promise<void> {
    const open = await this.deps.spends.store.openFor(row.vault_id);
    if (open && open.kind !== 'settlement') {
      throw new BitStableError(
        'SPEND_IN_FLIGHT',
        `Vault #${row.vault_id}'s coins are held by a transaction (#${open.id}, ${open.kind}) until it confirms or is dropped; auction #${row.id} can be taken after that.`,
        { auctionId: row.id, vaultId: row.vault_id, spendId: open.id },
      );
    }
    const exit = (await this.deps.spends.store.liveSignedExits(row.vault_id))[0];
    if (exit) {
      throw new BitStableError(
        'EXIT_SIGNED',
        `Vault #${row.vault_id}'s coins may still leave by an emergency exit the owner signed (#${exit.id}); auction #${row.id} waits until they are spent one way or the other.`,
        { auctionId: row.id, vaultId: row.vault_id, spendId: exit.id },
      );
    }
  }

  /**
   * Ends at once an auction whose coins are free yet too few to sell anything (no take could pay
   * out more than dust): its debt is booked as deficit, so it never hangs.
   */
  private async endIfNothingToSell(row: LiquidationRow, ts: number): Promise<void> {
    if ((await this.deps.spends.store.heldOutpoints(row.vault_id)).size > 0) return;
    const left = (await this.lotOf(row)) - row.sold_sats;
    // What the rest of the tab buys at the floor, the most it ever buys: under dust, no take
    // can ever pay for it (nor cover it), so the auction ends and the rest is shortfall.
    const tabLeft = row.tab_cents - row.covered_cents;
    const restSellable =
      quoteTake(
        row.floor_price_cents as Cents,
        tabLeft as Cents,
        Math.max(0, left) as Sats,
        Math.max(0, left) as Sats,
      ).sats >= dustThreshold(LARGEST_OUTPUT_SCRIPT);
    if (left >= dustThreshold(LARGEST_OUTPUT_SCRIPT) && (row.covered_cents === 0 || restSellable)) {
      if (row.sold_sats === 0 && row.lot_sats !== left) {
        await this.store.auctions.setLot(row.id, left);
      }
      return;
    }
    await this.store.auctions.setLot(row.id, row.sold_sats + Math.max(0, left));
    await this.endAuction(row.id, ts);
  }

  private async startAuction(vaultId: number, price: Cents, ts: number): Promise<void> {
    // The fee accrued until now is part of the debt the tab covers; none accrues after.
    await accrueVault(this.store, vaultId, ts);
    const vault = await this.deps.vaults.getVault(vaultId);
    const p = this.deps.params;
    const top = scalePrice(price, p.auctionStartBps);
    // A review nobody signed yet gives way: the collateral is the auction's now.
    const draft = await this.deps.spends.store.openFor(vaultId);
    if (draft?.state === 'draft') await this.deps.spends.store.move(draft, 'supersede');
    await this.store.auctions.start({
      vaultId,
      startedAt: ts,
      priceCents: price,
      debtCents: vault.debtCents,
      tabCents: auctionTab(vault.debtCents, p.penaltyBps),
      lotSats: 0,
      topPriceCents: top,
      floorPriceCents: scalePrice(top, p.auctionFloorBps),
      cycleStartedAt: ts,
      durationMs: p.auctionDurationSeconds * 1000,
      returnAddress: vault.returnAddress,
    });
    await this.store.auctions.markVaultLiquidating(vaultId, ts);
    await this.store.ops.journal(
      'vault.liquidating',
      vaultId,
      { priceCents: price, debtCents: vault.debtCents },
      ts,
    );
    const row = (await this.store.auctions.runningOf(vaultId)) as LiquidationRow;
    await this.endIfNothingToSell(row, ts);
  }

  /** Restarts the price fall from a new top if the cycle reached its floor; returns the row as stored. */
  private async rollCycle(row: LiquidationRow, ts: number): Promise<LiquidationRow> {
    if (ts - row.cycle_started_at < row.duration_ms) return row;
    const state = this.deps.price.current();
    // Hold at the floor until the price is fresh; restart from the price liquidations use.
    if (state.status !== 'ok' || state.liquidationPriceCents === null) return row;
    const top = scalePrice(state.liquidationPriceCents, this.deps.params.auctionStartBps);
    const floor = scalePrice(top, this.deps.params.auctionFloorBps);
    await this.store.auctions.resetCycle(row.id, top, floor, ts);
    await this.store.ops.journal(
      'auction.reset',
      row.vault_id,
      { auctionId: row.id, topPriceCents: top },
      ts,
    );
    return {
      ...row,
      top_price_cents: top,
      floor_price_cents: floor,
      cycle_started_at: ts,
      resets: row.resets + 1,
    };
  }

  /** Ends an auction: an uncovered tab's remaining debt becomes bad debt (deficit). */
  private async endAuction(id: number, ts: number): Promise<void> {
    const row = await this.row(id);
    const deficit = await writeOffDebt(
      this.store,
      row.vault_id,
      this.deps.params,
      ts,
      `auction ${id}`,
    );
    await this.store.auctions.end(id, ts, deficit);
    await this.store.ops.journal(
      'auction.ended',
      row.vault_id,
      { auctionId: id, deficitCents: deficit },
      ts,
    );
  }

  /**
   * Books one take inside the caller's transaction: the payment (from `payer`, a holder's or a
   * pool depositor's ledger account) repays the vault's debt first, what is above it is the
   * penalty (surplus); the take row, the auction's cover and the vault's debt. The caller ends
   * the auction when its tab is covered or its lot is gone.
   */
  private async recordTake(
    current: LiquidationRow,
    payer: string,
    taker: string,
    btcAddress: string,
    quote: { sats: Sats; costCents: Cents },
    price: Cents,
    lotLeft: Sats,
    ts: number,
    viaPool: boolean,
  ): Promise<void> {
    const vault = await this.deps.vaults.getVault(current.vault_id);
    const toDebt = Math.min(vault.debtCents, quote.costCents);
    const toSurplus = quote.costCents - toDebt;
    const postings: [string, number][] = [[payer, -quote.costCents]];
    if (toDebt > 0) postings.push([vaultAccount(vault.id), toDebt]);
    if (toSurplus > 0) postings.push(['surplus', toSurplus]);
    await this.store.ledger.post(
      viaPool ? 'pool_take' : 'auction_payment',
      vault.id,
      postings,
      `auction ${current.id}`,
      ts,
    );
    await this.store.auctions.recordTake({
      liquidationId: current.id,
      taker,
      btcAddress,
      sats: quote.sats,
      paidCents: quote.costCents,
      priceCents: price,
      ts,
      viaPool,
    });
    const now = await this.row(current.id);
    await this.store.auctions.setProgress(
      current.id,
      now.covered_cents + quote.costCents,
      now.sold_sats + quote.sats,
      current.sold_sats + lotLeft,
    );
    await setVaultDebt(
      this.store,
      vault.id,
      (vault.debtCents - toDebt) as Cents,
      this.deps.params,
      ts,
    );
    await this.store.ops.journal(
      viaPool ? 'auction.pool-take' : 'auction.take',
      vault.id,
      { auctionId: current.id, sats: quote.sats, costCents: quote.costCents, priceCents: price },
      ts,
    );
  }

  /**
   * The stability pool's backstop (SPEC §8.5): an auction at its floor with its tab not covered
   * is taken by the pool at the floor price, as far as the pool's bsUSD reaches — each
   * depositor's share of the lot pro rata to their deposit, bought with their own bsUSD and paid
   * to their own address by the settlement, like any take (shares under dust are left for the
   * next round). Run inside the tick's transaction. Returns the sats the pool took.
   */
  private async poolTakeAtFloor(row: LiquidationRow, ts: number): Promise<number> {
    if (row.state !== 'running') return 0;
    if (await this.deps.spends.store.openFor(row.vault_id)) return 0;
    if ((await this.deps.spends.store.liveSignedExits(row.vault_id)).length > 0) return 0;
    const depositors = await this.store.pool.depositors();
    const tabLeft = (row.tab_cents - row.covered_cents) as Cents;
    // The settlement pays every depositor an output of its own: the lot is what is left once
    // the fee for all of them is reserved, not for one.
    const lotLeft = Math.max(
      0,
      (await this.lotOf(
        row,
        depositors.map((d) => d.btcAddress),
      )) - row.sold_sats,
    ) as Sats;
    const shares = planPoolTake(
      depositors.map((d) => ({
        id: d.accountId,
        balanceCents: d.balanceCents,
        dustSats: dustThreshold(outputScript(d.btcAddress, this.deps.network)),
      })),
      row.floor_price_cents as Cents,
      tabLeft,
      lotLeft,
    );
    const byId = new Map(depositors.map((d) => [d.accountId, d]));
    let took = 0;
    for (const share of shares) {
      const d = byId.get(share.id)!;
      await this.recordTake(
        await this.row(row.id),
        poolAccount(d.accountId),
        d.accountId,
        d.btcAddress,
        share,
        row.floor_price_cents as Cents,
        (lotLeft - took) as Sats,
        ts,
        true,
      );
      took += share.sats;
    }
    const after = await this.row(row.id);
    if (after.covered_cents >= after.tab_cents || after.sold_sats >= after.lot_sats)
      await this.endAuction(row.id, ts);
    return took;
  }

  private priceOf(row: LiquidationRow, ts: number): Cents {
    return priceAt(
      row.top_price_cents as Cents,
      row.floor_price_cents as Cents,
      ts - row.cycle_started_at,
      row.duration_ms,
    );
  }

  private async row(id: unknown): Promise<LiquidationRow> {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) {
      throw new BitStableError(
        'INVALID_ARGUMENT',
        `An auction id must be a positive whole number; got ${String(id)}.`,
        {},
      );
    }
    const row = await this.store.auctions.byId(id);
    if (!row)
      throw new BitStableError('AUCTION_NOT_FOUND', `There is no auction #${id}.`, {
        auctionId: id,
      });
    return row;
  }

  private async byVault(vaultId: number): Promise<LiquidationRow | undefined> {
    return await this.store.auctions.latestOf(vaultId);
  }

  private async toAuction(r: LiquidationRow): Promise<Auction> {
    const ts = this.now();
    const running = r.state === 'running';
    const spend = await this.store.auctions.settlementSpendOf(r.vault_id);
    const planned = spend ? (JSON.parse(spend.plan) as SpendPlan) : null;
    // The vault's latest settlement is this auction's only if it says so (a vault cured once
    // and liquidated later has two auctions and one settlement).
    const own = planned?.auctionId === r.id;
    const settlement = own ? spend : undefined;
    const plan = own ? planned : null;
    // Its outputs: one payout per taker address, then the rest when it was worth sending.
    const payouts = plan ? (await this.store.auctions.takerAddresses(r.id)).length : 0;
    const restOut = plan && plan.outputs.length > payouts ? plan.outputs.at(-1)! : null;
    return {
      id: r.id,
      vaultId: r.vault_id,
      state: r.state,
      startedAt: r.started_at,
      tabCents: r.tab_cents as Cents,
      coveredCents: r.covered_cents as Cents,
      lotSats: r.lot_sats as Sats,
      soldSats: r.sold_sats as Sats,
      priceCents: running ? this.priceOf(r, ts) : (0 as Cents),
      topPriceCents: r.top_price_cents as Cents,
      floorPriceCents: r.floor_price_cents as Cents,
      cycleStartedAt: r.cycle_started_at,
      timeLeftMs: running ? Math.max(0, r.duration_ms - (ts - r.cycle_started_at)) : 0,
      resets: r.resets,
      deficitCents: r.deficit_cents as Cents,
      settlementTxid: settlement?.txid ?? null,
      settlementState: (settlement?.state as SettlementState | undefined) ?? null,
      curedAt: r.cured_at,
      startPriceCents: r.price_cents as Cents,
      debtCents: r.debt_cents as Cents,
      endedAt: r.ended_at ?? null,
      settledAt: settlement?.state === 'confirmed' ? settlement.updated_at : null,
      rest: restOut
        ? {
            sats: restOut.amountSats,
            address: restOut.address,
            to: r.deficit_cents > 0 ? 'protocol' : 'owner',
          }
        : null,
      settlementFeeSats: plan ? plan.feeSats : null,
      settlementError:
        r.state === 'settling' && r.last_error !== null
          ? {
              code: r.last_error_code ?? 'INTERNAL',
              message: r.last_error,
              at: r.last_error_at ?? 0,
              count: r.error_count,
            }
          : null,
      coinsHeld: running && (await this.deps.spends.store.heldOutpoints(r.vault_id)).size > 0,
    };
  }

  /**
   * Says again what every live auction's vault is (`vault.changed`) and that its auction runs
   * (`auction.started`): what an instance that takes over the lead does first, as the one before
   * may have died between committing an auction and announcing it. A repeat tells a client
   * nothing new; a lost announcement would have left it not knowing.
   */
  async announceLive(): Promise<number> {
    const live = await this.store.auctions.list(true);
    for (const r of live) {
      this.deps.bus.emit('auction.started', { auctionId: r.id, vaultId: r.vault_id });
      await this.emitVault(r.vault_id);
    }
    return live.length;
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
