/**
 * Liquidations (SPEC §8): the health pass on each accepted price, Dutch auctions with partial
 * takes paid in bsUSD, and one settlement transaction per auction signed by the protocol and
 * guardian keys.
 *
 * Crash safety: auction state and takes are SQLite transactions; the settlement is a `spends`
 * row written before signing and again (with the complete transaction) before broadcasting, so a
 * restart rebroadcasts the same transaction and nothing is taken or paid twice.
 */
import type { NetworkInfo, VaultParams } from '../config/networks';
import type { Sqlite } from '../db/database';
import { faultPoint } from '../fault';
import { BitStableError } from '../errors';
import type { EventBus } from '../events/bus';
import { journal } from '../events/journal';
import { holderAccount, post, vaultAccount } from '../ledger/bsusd';
import { sats, type Cents, type Sats } from '../money';
import type { BitcoinNode } from '../node/bitcoin-node';
import type { PriceFeed } from '../oracle/feed';
import { dustThreshold, outputScript } from '../psbt/fees';
import type { SignContext, Signer } from '../signers/types';
import type { ProtocolSigner } from '../signers/protocol';
import { storedPrices, type VaultService } from '../vaults/vault-service';
import type { SpendExecutor } from '../vaults/operations';
import { auctionTab, priceAt, quoteTake, scalePrice } from './dutch';
import { HealthQueries } from './health-pass';

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
}

export type SettlementState = 'draft' | 'awaiting-guardian' | 'signed' | 'broadcast' | 'confirmed';

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
  db: Sqlite;
  node: BitcoinNode;
  network: NetworkInfo;
  params: VaultParams;
  bus: EventBus;
  price: PriceFeed;
  vaults: VaultService;
  spends: SpendExecutor;
  signers: { protocol: ProtocolSigner; guardian: Signer };
  clock?: () => number;
  /** Errors of one auction's settlement (retried at the next tick). */
  onError?: (err: unknown, auctionId: number) => void;
  /** Where the rest goes when a vault has no return address (regtest: the miner wallet). */
  fallbackReturnAddress?: () => Promise<string>;
}

interface LiquidationRow {
  id: number;
  vault_id: number;
  state: 'running' | 'settling' | 'settled';
  started_at: number;
  tab_cents: number;
  covered_cents: number;
  lot_sats: number;
  sold_sats: number;
  top_price_cents: number;
  floor_price_cents: number;
  cycle_started_at: number;
  duration_ms: number;
  resets: number;
  deficit_cents: number;
  return_address: string | null;
  settlement_txid: string | null;
}

/** Sats kept back from the lot so the settlement's fee and the owner's output are always payable. */
const SETTLEMENT_RESERVE_SATS = 20_000;

/** The health pass, the auctions and their settlement for one network. */
export class AuctionHouse {
  private readonly db: Sqlite;
  private readonly health: HealthQueries;
  private readonly now: () => number;
  private settling: Promise<void> = Promise.resolve();

  constructor(private readonly deps: AuctionHouseDeps) {
    this.db = deps.db;
    this.health = new HealthQueries(deps.db);
    this.now = deps.clock ?? Date.now;
  }

  /**
   * Moves vaults between Active, Warning and Liquidating at an accepted price and starts an
   * auction for each vault that became Liquidating — one transaction. Call only with a fresh
   * accepted price (the caller subscribes to 'price.accepted').
   */
  healthPass(price: Cents): { liquidated: number[]; warned: number[]; recovered: number[] } {
    const ts = this.now();
    const changes = this.db.transaction(() => {
      const c = this.health.changesAt(price);
      const setState = this.db.prepare('UPDATE vaults SET state = ?, updated_at = ? WHERE id = ?');
      for (const id of c.toWarning) {
        setState.run('warning', ts, id);
        journal(this.db, 'vault.warning', id, { priceCents: price }, ts);
      }
      for (const id of c.toActive) {
        setState.run('active', ts, id);
        journal(this.db, 'vault.recovered', id, { priceCents: price }, ts);
      }
      for (const id of c.toLiquidating) this.startAuction(id, price, ts);
      return c;
    })();
    for (const id of [...changes.toLiquidating, ...changes.toWarning, ...changes.toActive])
      this.emitVault(id);
    for (const id of changes.toLiquidating) {
      const a = this.byVault(id);
      if (a) this.deps.bus.emit('auction.started', { auctionId: a.id, vaultId: id });
    }
    return {
      liquidated: changes.toLiquidating,
      warned: changes.toWarning,
      recovered: changes.toActive,
    };
  }

  /** Auctions, newest first; `live` only running ones. */
  listAuctions(options: { live?: boolean } = {}): Auction[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM liquidations ${options.live ? "WHERE state = 'running'" : ''} ORDER BY id DESC`,
      )
      .all() as LiquidationRow[];
    return rows.map((r) => this.toAuction(r));
  }

  /** One auction (AUCTION_NOT_FOUND when there is none). */
  getAuction(id: unknown): Auction {
    return this.toAuction(this.row(id));
  }

  /**
   * Buys collateral at the current price, paying bsUSD: at most `maxSats`, never more than the
   * rest of the tab needs. When the tab is covered or the lot is gone the auction ends and its
   * settlement is made.
   */
  take(input: TakeInput): { auction: Auction; sats: Sats; costCents: Cents; priceCents: Cents } {
    if (!input || typeof input !== 'object')
      throw new BitStableError(
        'INVALID_ARGUMENT',
        'A take needs an auction, an amount, a price limit and an address.',
        {},
      );
    const maxSats = sats(input.maxSats);
    const maxPrice = sats(input.maxPriceCents) as number as Cents;
    if (typeof input.btcAddress !== 'string')
      throw new BitStableError(
        'INVALID_ADDRESS',
        'Give a Bitcoin address for the collateral you buy.',
        {},
      );
    const script = outputScript(input.btcAddress, this.deps.network);
    const taker = input.taker ?? 'local';
    const ts = this.now();
    const result = this.db.transaction(() => {
      const row = this.row(input.auctionId);
      if (row.state !== 'running') {
        throw new BitStableError('AUCTION_CLOSED', `Auction #${row.id} has ended.`, {
          auctionId: row.id,
        });
      }
      const exiting = this.db
        .prepare(
          "SELECT 1 FROM spends WHERE vault_id = ? AND kind = 'emergency-exit' AND state IN ('awaiting-guardian', 'signed', 'broadcast')",
        )
        .pluck()
        .get(row.vault_id);
      if (exiting !== undefined) {
        // Its coins are on their way to the owner: a taker would pay for bitcoin never delivered.
        throw new BitStableError(
          'INVALID_STATE',
          `Vault #${row.vault_id}'s collateral is held by an emergency exit; auction #${row.id} cannot be taken now.`,
          { auctionId: row.id, vaultId: row.vault_id },
        );
      }
      const current = this.rollCycle(row, ts);
      const price = this.priceOf(current, ts);
      if (price > maxPrice) {
        throw new BitStableError(
          'AUCTION_PRICE_ABOVE_MAX',
          `The auction price is ${price} cents per BTC, above your limit of ${maxPrice}.`,
          { priceCents: price, maxPriceCents: maxPrice },
        );
      }
      const quote = quoteTake(
        price,
        (current.tab_cents - current.covered_cents) as Cents,
        (current.lot_sats - current.sold_sats) as Sats,
        maxSats,
      );
      if (quote.sats === 0 || quote.costCents === 0) {
        throw new BitStableError('INVALID_AMOUNT', 'That buys nothing; ask for more.', {});
      }
      if (quote.sats < dustThreshold(script)) {
        throw new BitStableError(
          'INVALID_AMOUNT',
          `${quote.sats} sats is below the dust limit for ${input.btcAddress as string}.`,
          {},
        );
      }
      // The payment repays the vault's debt first; what is above the debt is the penalty.
      const vault = this.deps.vaults.getVault(current.vault_id);
      const toDebt = Math.min(vault.debtCents, quote.costCents);
      const toSurplus = quote.costCents - toDebt;
      const postings: [string, number][] = [[holderAccount(taker), -quote.costCents]];
      if (toDebt > 0) postings.push([vaultAccount(vault.id), toDebt]);
      if (toSurplus > 0) postings.push(['surplus', toSurplus]);
      post(this.db, 'auction_payment', vault.id, postings, `auction ${current.id}`, ts);
      this.db
        .prepare(
          'INSERT INTO auction_takes (liquidation_id, taker, btc_address, sats, paid_cents, price_cents, ts) VALUES (?, ?, ?, ?, ?, ?, ?)',
        )
        .run(current.id, taker, input.btcAddress, quote.sats, quote.costCents, price, ts);
      const covered = current.covered_cents + quote.costCents;
      const sold = current.sold_sats + quote.sats;
      this.db
        .prepare('UPDATE liquidations SET covered_cents = ?, sold_sats = ? WHERE id = ?')
        .run(covered, sold, current.id);
      this.setDebt(vault.id, vault.debtCents - toDebt, ts);
      journal(
        this.db,
        'auction.take',
        vault.id,
        { auctionId: current.id, sats: quote.sats, costCents: quote.costCents, priceCents: price },
        ts,
      );
      if (covered >= current.tab_cents || sold >= current.lot_sats) this.endAuction(current.id, ts);
      return { ...quote, priceCents: price, auctionId: current.id };
    })();
    faultPoint('auction.taken'); // paid and recorded; the settlement is made after a restart
    const auction = this.getAuction(result.auctionId);
    this.deps.bus.emit('auction.changed', { auctionId: auction.id, state: auction.state });
    this.emitVault(auction.vaultId);
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
      const ts = this.now();
      const price = this.deps.price.current();
      for (const row of this.db
        .prepare("SELECT * FROM liquidations WHERE state = 'running'")
        .all() as LiquidationRow[]) {
        if (ts - row.cycle_started_at >= row.duration_ms && price.status === 'ok') {
          this.db.transaction(() => this.rollCycle(row, ts))();
        }
      }
      for (const row of this.db
        .prepare("SELECT * FROM liquidations WHERE state = 'settling'")
        .all() as LiquidationRow[]) {
        // One auction's trouble (a guardian who signs by file, a node hiccup) must not stop the
        // others; it is retried at the next tick.
        try {
          await this.settle(row);
        } catch (err) {
          this.deps.onError?.(err, row.id);
        }
      }
    };
    const next = this.settling.then(run, run);
    this.settling = next.catch(() => undefined);
    return next;
  }

  /** Marks auctions settled whose settlement confirmed; the vault becomes Liquidated. */
  onSpendConfirmed(spendId: number): void {
    const row = this.db
      .prepare(
        "SELECT * FROM liquidations WHERE state = 'settling' AND id = (SELECT json_extract(plan, '$.auctionId') FROM spends WHERE id = ?)",
      )
      .get(spendId) as LiquidationRow | undefined;
    if (!row) return;
    const ts = this.now();
    this.db.transaction(() => {
      this.db.prepare("UPDATE liquidations SET state = 'settled' WHERE id = ?").run(row.id);
      this.db
        .prepare("UPDATE vaults SET state = 'liquidated', updated_at = ? WHERE id = ?")
        .run(ts, row.vault_id);
      journal(this.db, 'vault.liquidated', row.vault_id, { auctionId: row.id }, ts);
    })();
    this.deps.bus.emit('auction.changed', { auctionId: row.id, state: 'settled' });
    this.emitVault(row.vault_id);
  }

  private async settle(row: LiquidationRow): Promise<void> {
    // Wait while any spend of this vault is in flight (a withdrawal broadcast before the auction,
    // or this settlement itself, perhaps waiting for the guardian's signed file): its coins are
    // not ours to plan with until it settles.
    const open = this.db
      .prepare(
        "SELECT id FROM spends WHERE vault_id = ? AND (state IN ('draft', 'awaiting-guardian', 'signed', 'broadcast') OR (kind = 'settlement' AND state = 'confirmed'))",
      )
      .pluck()
      .get(row.vault_id);
    if (open !== undefined) return; // in flight: trackSpends moves it on
    const takes = this.db
      .prepare(
        'SELECT btc_address, SUM(sats) AS sats FROM auction_takes WHERE liquidation_id = ? GROUP BY btc_address ORDER BY MIN(id)',
      )
      .all(row.id) as { btc_address: string; sats: number }[];
    const payouts = takes.map((t) => ({ address: t.btc_address, amountSats: t.sats as Sats }));
    const vault = this.deps.vaults.getVault(row.vault_id);
    let returnAddress = row.return_address ?? vault.returnAddress;
    if (!returnAddress && this.deps.fallbackReturnAddress) {
      returnAddress = await this.deps.fallbackReturnAddress();
      // Stored before use, so a retried settlement pays the same address.
      this.db
        .prepare('UPDATE liquidations SET return_address = ? WHERE id = ?')
        .run(returnAddress, row.id);
    }
    if (!returnAddress) {
      throw new BitStableError(
        'INVALID_STATE',
        `Vault #${vault.id} has no return address for the rest of its collateral.`,
        { vaultId: vault.id },
      );
    }
    const keys = this.deps.vaults.keySet(vault.keySetId);
    const context: SignContext = {
      keys: { owner: keys.owner, protocol: keys.protocol, guardian: keys.guardian },
      purpose: `Settlement of the auction of vault #${vault.id}`,
    };
    await this.deps.spends.settle(vault, row.id, payouts, returnAddress, context);
  }

  private startAuction(vaultId: number, price: Cents, ts: number): void {
    const vault = this.deps.vaults.getVault(vaultId);
    const p = this.deps.params;
    const top = scalePrice(price, p.auctionStartBps);
    const lot = Math.max(0, vault.collateralSats - SETTLEMENT_RESERVE_SATS);
    this.db
      .prepare(
        `INSERT INTO liquidations (vault_id, started_at, price_cents, debt_cents, tab_cents, lot_sats, state, top_price_cents,
           floor_price_cents, cycle_started_at, duration_ms, return_address)
         VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?)`,
      )
      .run(
        vaultId,
        ts,
        price,
        vault.debtCents,
        auctionTab(vault.debtCents, p.penaltyBps),
        lot,
        top,
        scalePrice(top, p.auctionFloorBps),
        ts,
        p.auctionDurationSeconds * 1000,
        vault.returnAddress,
      );
    this.db
      .prepare("UPDATE vaults SET state = 'liquidating', updated_at = ? WHERE id = ?")
      .run(ts, vaultId);
    // The protocol is alive and liquidating: an emergency exit still waiting for the guardian is
    // given up (watched as cancelled, should the guardian send it anyway).
    for (const spendId of this.db
      .prepare(
        "SELECT id FROM spends WHERE vault_id = ? AND kind = 'emergency-exit' AND state = 'awaiting-guardian'",
      )
      .pluck()
      .all(vaultId) as number[]) {
      this.db
        .prepare("UPDATE spends SET state = 'cancelled', updated_at = ? WHERE id = ?")
        .run(ts, spendId);
      journal(this.db, 'spend.cancelled', vaultId, { spendId, txid: null, by: 'liquidation' }, ts);
    }
    journal(
      this.db,
      'vault.liquidating',
      vaultId,
      { priceCents: price, debtCents: vault.debtCents },
      ts,
    );
  }

  /** Restarts the price fall from a new top if the cycle reached its floor; returns the row as stored. */
  private rollCycle(row: LiquidationRow, ts: number): LiquidationRow {
    if (ts - row.cycle_started_at < row.duration_ms) return row;
    const state = this.deps.price.current();
    if (state.status !== 'ok' || state.priceCents === null) return row; // hold at the floor until the price is fresh
    const top = scalePrice(state.priceCents, this.deps.params.auctionStartBps);
    const floor = scalePrice(top, this.deps.params.auctionFloorBps);
    this.db
      .prepare(
        'UPDATE liquidations SET top_price_cents = ?, floor_price_cents = ?, cycle_started_at = ?, resets = resets + 1 WHERE id = ?',
      )
      .run(top, floor, ts, row.id);
    journal(this.db, 'auction.reset', row.vault_id, { auctionId: row.id, topPriceCents: top }, ts);
    return {
      ...row,
      top_price_cents: top,
      floor_price_cents: floor,
      cycle_started_at: ts,
      resets: row.resets + 1,
    };
  }

  /** Ends an auction: an uncovered tab's remaining debt becomes bad debt (deficit). */
  private endAuction(id: number, ts: number): void {
    const row = this.row(id);
    const vault = this.deps.vaults.getVault(row.vault_id);
    let deficit = 0;
    if (vault.debtCents > 0) {
      deficit = vault.debtCents;
      post(
        this.db,
        'bad_debt',
        vault.id,
        [
          [vaultAccount(vault.id), deficit],
          ['deficit', -deficit],
        ],
        `auction ${id}`,
        ts,
      );
      this.setDebt(vault.id, 0, ts);
    }
    this.db
      .prepare(
        "UPDATE liquidations SET state = 'settling', ended_at = ?, deficit_cents = ? WHERE id = ?",
      )
      .run(ts, deficit, id);
    journal(this.db, 'auction.ended', vault.id, { auctionId: id, deficitCents: deficit }, ts);
  }

  private setDebt(vaultId: number, debt: number, ts: number): void {
    const vault = this.deps.vaults.getVault(vaultId);
    const prices = storedPrices(vault.collateralSats, debt as Cents, this.deps.params);
    this.db
      .prepare(
        'UPDATE vaults SET debt_cents = ?, liquidation_price_cents = ?, warning_price_cents = ?, updated_at = ? WHERE id = ?',
      )
      .run(debt, prices.liquidation, prices.warning, ts, vaultId);
  }

  private priceOf(row: LiquidationRow, ts: number): Cents {
    return priceAt(
      row.top_price_cents as Cents,
      row.floor_price_cents as Cents,
      ts - row.cycle_started_at,
      row.duration_ms,
    );
  }

  private row(id: unknown): LiquidationRow {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) {
      throw new BitStableError(
        'INVALID_ARGUMENT',
        `An auction id must be a positive whole number; got ${String(id)}.`,
        {},
      );
    }
    const row = this.db.prepare('SELECT * FROM liquidations WHERE id = ?').get(id) as
      LiquidationRow | undefined;
    if (!row)
      throw new BitStableError('AUCTION_NOT_FOUND', `There is no auction #${id}.`, {
        auctionId: id,
      });
    return row;
  }

  private byVault(vaultId: number): LiquidationRow | undefined {
    return this.db
      .prepare('SELECT * FROM liquidations WHERE vault_id = ? ORDER BY id DESC LIMIT 1')
      .get(vaultId) as LiquidationRow | undefined;
  }

  private toAuction(r: LiquidationRow): Auction {
    const ts = this.now();
    const running = r.state === 'running';
    const settlement = this.db
      .prepare(
        "SELECT txid, state FROM spends WHERE vault_id = ? AND kind = 'settlement' AND state <> 'abandoned' ORDER BY id DESC LIMIT 1",
      )
      .get(r.vault_id) as { txid: string | null; state: SettlementState } | undefined;
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
      settlementState: settlement?.state ?? null,
    };
  }

  private emitVault(vaultId: number): void {
    const v = this.deps.vaults.getVault(vaultId);
    this.deps.bus.emit('vault.changed', {
      vaultId: v.id,
      state: v.state,
      collateralSats: v.collateralSats,
      debtCents: v.debtCents,
    });
  }
}
