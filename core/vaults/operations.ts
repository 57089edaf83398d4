/**
 * Vault operations (SPEC §6): mint and repay (the bsUSD ledger) and the deposit address. The
 * on-chain spends — withdraw, close, emergency exit, sweep — live in `core/spends/`; the
 * methods here that name them review and sign in one go, for scripts and tests (the API and the
 * UI review first, then sign the stored draft by its id).
 *
 * One change at a time per vault: a debt change is one transaction that re-reads the vault and
 * refuses while a spend holds its coins.
 */
import type { NetworkInfo, VaultParams } from '../config/networks';
import { BitStableError } from '../errors';
import type { EventBus } from '../events/bus';
import { parseAccountId } from '../accounts/id';
import { holderAccount, vaultAccount } from '../ledger/bsusd';
import { cents, centsToString, sats, satsToBtcString, type Cents } from '../money';
import { requireCollateralPrice, type PriceFeed } from '../oracle/feed';
import { recoveryKitOf, type KitVault } from './recovery-kit';
import type { SpendService, SpendResult } from '../spends/service';
import type { Store } from '../store/ports';
import { cureIfHealthy, curableDebt, curesAt } from '../liquidation/cure';
import { collateralRatioBps } from './health';
import { nextStateOutsideHealthPass } from './state';
import { storedPrices } from './debt';
import { accrueVault, artAfter, debtNow, drip } from './fee-book';
import { requireWithinCeilings } from './ceilings';
import type { VaultService } from './vault-service';
import type { Vault } from './vault-store';

export type { SpendPreview, SpendResult, GuardianRequest } from '../spends/service';

export interface OperationsDeps {
  store: Store;
  network: NetworkInfo;
  params: VaultParams;
  bus: EventBus;
  price: PriceFeed;
  vaults: VaultService;
  spends: SpendService;
  /** Who holds the bsUSD minted here (the local user). */
  holder?: string;
  clock?: () => number;
}

/** Mint, repay and the deposit address for one network; spends delegate to `core/spends/`. */
export class VaultOperations {
  private readonly store: Store;
  private readonly holder: string;
  private readonly now: () => number;

  constructor(private readonly deps: OperationsDeps) {
    this.store = deps.store;
    this.holder = deps.holder ?? 'local';
    this.now = deps.clock ?? Date.now;
  }

  /** The operations, with the holder's bsUSD account opened. */
  static async open(deps: OperationsDeps): Promise<VaultOperations> {
    const operations = new VaultOperations(deps);
    await operations.store.ledger.ensureHolder(operations.holder);
    return operations;
  }

  /** A holder's bsUSD balance in cents (default: the node's own account). */
  async balanceCents(holder: string = this.holder): Promise<Cents> {
    return (await this.store.ledger.balance(holderAccount(holder))) as Cents;
  }

  /** Who holds the bsUSD a vault mints and repays with: the vault's account. */
  private holderOf(vault: Vault): string {
    return vault.accountId ?? this.holder;
  }

  /**
   * Sends bsUSD between accounts (SPEC §5): one ledger entry; the receiver must be registered
   * here. Emits `bsusd.transfer` so both sides see it at once.
   */
  async transfer(
    from: string,
    to: unknown,
    amountCents: unknown,
    memo: string | null,
  ): Promise<{ entryId: number; balanceCents: Cents }> {
    const amount = this.positiveCents(amountCents);
    parseAccountId(to);
    const ts = this.now();
    const entryId = await this.store.transaction(async () => {
      if (!(await this.store.vaults.accountRegistered(to as string))) {
        throw new BitStableError(
          'ACCOUNT_NOT_FOUND',
          `No account ${String(to)} is registered on this node; check the id with its holder.`,
          { to },
        );
      }
      return await this.store.ledger.transfer(from, to as string, amount, memo, ts);
    });
    this.deps.bus.emit('bsusd.transfer', {
      entryId,
      from,
      to: to as string,
      amountCents: amount,
      memo,
    });
    return { entryId, balanceCents: await this.balanceCents(from) };
  }

  /** The vault's debt now: booked, and the stability fee accrued since (what "repay all" pays). */
  async debtNow(vaultId: unknown): Promise<Cents> {
    return await debtNow(this.store, await this.deps.vaults.getVault(vaultId), this.now());
  }

  /** A holder's statement, newest first. */
  async statement(holder: string, offset = 0, limit = 50) {
    return await this.store.ledger.statement(holder, offset, limit);
  }

  /** Where to send more collateral, with a BIP21 URI for a QR code. */
  async depositAddress(
    vaultId: unknown,
    amountSats?: number,
  ): Promise<{ address: string; uri: string }> {
    const vault = await this.deps.vaults.getVault(vaultId);
    if (!['pending', 'active', 'warning'].includes(vault.state)) {
      throw new BitStableError(
        'VAULT_NOT_OPEN',
        `Vault #${vault.id} is ${vault.state}; send no more collateral to it.`,
        { vaultId: vault.id, state: vault.state },
      );
    }
    const amount = amountSats === undefined ? null : sats(amountSats);
    const uri = `bitcoin:${vault.address}${amount ? `?amount=${satsToBtcString(amount)}` : ''}`;
    return { address: vault.address, uri };
  }

  /**
   * Mints `amountCents` bsUSD against the vault: the post-mint ratio must stay ≥ 150 %, a return
   * address must be set, and no spend may hold the vault's coins.
   */
  async mint(vaultId: unknown, amountCents: unknown): Promise<Vault> {
    const amount = this.positiveCents(amountCents);
    const price = requireCollateralPrice(this.deps.price.current());
    return await this.changeDebt(vaultId, amount, async (vault, newDebt) => {
      if (vault.state === 'pending') {
        throw new BitStableError(
          'VAULT_NOT_OPEN',
          'Deposit collateral and wait for it to confirm before minting.',
          { vaultId: vault.id, state: vault.state },
        );
      }
      if (!vault.returnAddress) {
        throw new BitStableError(
          'RETURN_ADDRESS_MISSING',
          'Set a return address first: where the rest of the collateral goes if the vault is ever liquidated.',
          { vaultId: vault.id },
        );
      }
      // The vault's lock: a spend in flight was reviewed and signed against this debt.
      await this.deps.spends.store.refuseHeld(vault.id);
      if (newDebt < this.deps.params.debtFloorCents) {
        throw new BitStableError(
          'DEBT_BELOW_FLOOR',
          `A vault's debt must be at least ${this.deps.params.debtFloorCents / 100} bsUSD.`,
          { debtFloorCents: this.deps.params.debtFloorCents },
        );
      }
      const ratio = collateralRatioBps(vault.collateralSats, newDebt as Cents, price)!;
      if (ratio < this.deps.params.liquidationRatioBps) {
        throw new BitStableError(
          'RATIO_TOO_LOW',
          `Minting that much would leave the vault at ${(ratio / 100).toFixed(2)} %; it must stay at or above ${this.deps.params.liquidationRatioBps / 100} %.`,
          { ratioBps: ratio },
        );
      }
      await requireWithinCeilings(this.store, this.deps.network.name, this.deps.params, {
        vault,
        newDebt: newDebt as Cents,
        amount,
        price,
        ts: this.now(),
      });
      return {
        entry: 'mint',
        postings: [
          [holderAccount(this.holderOf(vault)), amount],
          [vaultAccount(vault.id), -amount],
        ],
        price,
      };
    });
  }

  /**
   * Repays `amountCents` of the vault's debt from its account's bsUSD, or with `'all'` the whole
   * debt as it stands when the repay runs (the fee accrued up to that moment included): a "repay
   * all" never leaves a cent behind because a cent accrued between the review and the click.
   */
  async repay(vaultId: unknown, amountCents: unknown): Promise<Vault> {
    const amount = amountCents === 'all' ? 'all' : this.positiveCents(amountCents);
    const price =
      this.deps.price.current().status === 'ok' ? this.deps.price.current().priceCents : null;
    return await this.changeDebt(vaultId, amount === 'all' ? 'all' : -amount, (vault, newDebt) => {
      if (newDebt < 0) {
        throw new BitStableError(
          'INVALID_AMOUNT',
          `That is more than the vault owes (${centsToString(vault.debtCents as Cents)} bsUSD); repay at most that.`,
          { debtCents: vault.debtCents },
        );
      }
      if (newDebt > 0 && newDebt < this.deps.params.debtFloorCents) {
        throw new BitStableError(
          'DEBT_BELOW_FLOOR',
          `Repay all of it, or leave at least ${this.deps.params.debtFloorCents / 100} bsUSD of debt.`,
          { debtFloorCents: this.deps.params.debtFloorCents },
        );
      }
      const paid = vault.debtCents - newDebt;
      return {
        entry: 'repay',
        postings: [
          [holderAccount(this.holderOf(vault)), -paid],
          [vaultAccount(vault.id), paid],
        ],
        price,
      };
    });
  }

  /** Reviews and signs a withdrawal in one go (the API reviews first, then signs by id). */
  async withdraw(
    vaultId: unknown,
    amountSats: unknown,
    destination: unknown,
  ): Promise<SpendResult> {
    const p = await this.deps.spends.previewWithdraw(vaultId, amountSats, destination);
    return this.deps.spends.sign(p.spendId, 'withdraw');
  }

  /** Reviews and signs a close in one go. */
  async close(vaultId: unknown, destination: unknown): Promise<SpendResult> {
    const p = await this.deps.spends.previewClose(vaultId, destination);
    return this.deps.spends.sign(p.spendId, 'close');
  }

  /** Reviews and signs an emergency exit in one go. */
  async emergencyExit(vaultId: unknown, destination: unknown): Promise<SpendResult> {
    const p = await this.deps.spends.previewEmergencyExit(vaultId, destination);
    return this.deps.spends.sign(p.spendId, 'emergency-exit');
  }

  /** Reviews and signs a sweep of a Closed or Liquidated vault's coins in one go. */
  async sweep(vaultId: unknown, destination: unknown): Promise<SpendResult> {
    const p = await this.deps.spends.previewSweep(vaultId, destination);
    return this.deps.spends.sign(p.spendId, 'sweep');
  }

  previewWithdraw(vaultId: unknown, amountSats: unknown, destination: unknown) {
    return this.deps.spends.previewWithdraw(vaultId, amountSats, destination);
  }
  previewClose(vaultId: unknown, destination: unknown) {
    return this.deps.spends.previewClose(vaultId, destination);
  }
  previewEmergencyExit(vaultId: unknown, destination: unknown) {
    return this.deps.spends.previewEmergencyExit(vaultId, destination);
  }
  async guardianRequests() {
    return await this.deps.spends.guardianRequests();
  }
  completeWithGuardian(spendId: unknown, psbtBase64: unknown) {
    return this.deps.spends.completeWithGuardian(spendId, psbtBase64);
  }
  cancelGuardianRequest(spendId: unknown, options: { admin?: boolean } = {}) {
    return this.deps.spends.cancelGuardianRequest(spendId, options);
  }

  /** One debt change: checks, ledger entry, vault row and journal in one transaction. */
  private async changeDebt(
    vaultId: unknown,
    change: number | 'all',
    check: (
      vault: Vault,
      newDebt: number,
    ) =>
      | { entry: 'mint' | 'repay'; postings: [string, number][]; price: Cents | null }
      | Promise<{ entry: 'mint' | 'repay'; postings: [string, number][]; price: Cents | null }>,
  ): Promise<Vault> {
    const ts = this.now();
    let curedAuction: number | null = null;
    const updated = await this.store.transaction(async () => {
      const vault = await this.deps.vaults.getVault(vaultId);
      // "All": the debt as booked once the fee accrued until now is booked (below).
      const debtHere =
        vault.state === 'liquidating' ? vault.debtCents : await debtNow(this.store, vault, ts);
      const delta = change === 'all' ? -debtHere : change;
      if (delta === 0) {
        throw new BitStableError('INVALID_AMOUNT', `Vault #${vault.id} has no debt to repay.`, {
          vaultId: vault.id,
        });
      }
      const curing = vault.state === 'liquidating' && (await this.requireRepayCures(vault, delta));
      if (vault.state === 'liquidating' && !curing) {
        throw new BitStableError(
          'VAULT_LIQUIDATING',
          `Vault #${vault.id} is being liquidated; its debt is settled by the auction.`,
          { vaultId: vault.id, state: vault.state },
        );
      }
      if (vault.state === 'closed' || vault.state === 'liquidated') {
        throw new BitStableError(
          'VAULT_NOT_OPEN',
          `Vault #${vault.id} is ${vault.state}; that cannot be done now.`,
          { vaultId: vault.id, state: vault.state },
        );
      }
      // What accrued since the vault's last booking is booked first: mint, repay and their checks
      // see the debt as it is now (SPEC §8.5).
      vault.debtCents = await accrueVault(this.store, vault.id, ts);
      const newDebt = vault.debtCents + delta;
      const { entry, postings, price } = await check(vault, newDebt);
      await this.store.ledger.post(entry, vault.id, postings, undefined, ts);
      const debt = newDebt as Cents;
      const state = nextStateOutsideHealthPass(
        vault.state,
        { collateralSats: vault.collateralSats, debtCents: debt, freshPriceCents: price },
        this.deps.params,
      );
      const { rate } = await drip(this.store, this.deps.network.name, ts);
      const art = artAfter(vault.debtArt, delta, debt, rate);
      const prices = storedPrices(vault.collateralSats, art, this.deps.params);
      await this.store.vaults.setDebtAndState(
        vault.id,
        debt,
        art,
        state,
        prices.liquidation,
        prices.warning,
        ts,
      );
      await this.store.ops.journal(
        `vault.${entry}`,
        vault.id,
        { amountCents: Math.abs(delta), debtCents: debt },
        ts,
      );
      if (curing) {
        curedAuction = await cureIfHealthy(
          this.store,
          this.deps.params,
          this.deps.price.current(),
          vault,
          debt,
          ts,
        );
        if (curedAuction === null) throw new Error('a repay checked to cure its auction did not');
      }
      return {
        ...vault,
        debtCents: debt,
        debtArt: art,
        state: curedAuction !== null ? ('active' as const) : state,
        liquidationPriceCents: prices.liquidation,
        warningPriceCents: prices.warning,
      };
    });
    this.deps.bus.emit('vault.changed', {
      vaultId: updated.id,
      state: updated.state,
      collateralSats: updated.collateralSats,
      debtCents: updated.debtCents,
    });
    if (curedAuction !== null)
      this.deps.bus.emit('auction.changed', { auctionId: curedAuction, state: 'settled' });
    return updated;
  }

  /**
   * A liquidating vault takes one debt change: a repay, before anyone bought from its auction,
   * that brings it to 160 % at the collateral price — which cures the auction (SPEC §8.2). True
   * when this is that repay; false when the vault's auction has had a take (or this is no
   * repay); throws, saying how much would cure it, when the repay is too small.
   */
  private async requireRepayCures(vault: Vault, delta: number): Promise<boolean> {
    if (delta >= 0 || !(await this.store.auctions.untouchedOf(vault.id))) return false;
    const price = requireCollateralPrice(this.deps.price.current());
    const debt = (vault.debtCents + delta) as Cents;
    if (debt < 0) return true; // more than the debt: the repay's own check refuses it
    if (curesAt(vault.collateralSats, debt, price, this.deps.params)) return true;
    const need = vault.debtCents - curableDebt(vault.collateralSats, price, this.deps.params);
    throw new BitStableError(
      'VAULT_LIQUIDATING',
      `Vault #${vault.id} is being liquidated, and nobody has bought from its auction yet: repaying at least ${centsToString(need as Cents)} bsUSD brings it back to ${this.deps.params.warningRatioBps / 100} % at $${centsToString(price)} and ends the auction without penalty. ${centsToString(-delta as Cents)} bsUSD is not enough.`,
      { vaultId: vault.id, state: vault.state, cureRepayCents: need, priceCents: price },
    );
  }

  private positiveCents(value: unknown): Cents {
    const amount = cents(value);
    if (amount === 0)
      throw new BitStableError('INVALID_AMOUNT', 'The amount must be more than 0.', {});
    return amount;
  }
}

/**
 * The recovery kit (SPEC §4) of an account's vaults on this node: every key set they use (after a
 * key change, the old set's vaults too), and the key set in use now even before its first vault.
 */
export async function recoveryKit(
  vaults: VaultService,
  keySetId: number,
  network: NetworkInfo,
  accountId?: string,
) {
  const bySet = new Map<number, KitVault[]>([[keySetId, []]]);
  for (const v of await vaults.listVaults(accountId)) {
    const list = bySet.get(v.keySetId) ?? [];
    list.push({ index: v.index, address: v.address, label: v.label, createdAt: v.createdAt });
    bySet.set(v.keySetId, list);
  }
  const sets = [];
  for (const [id, list] of bySet) sets.push({ keys: await vaults.keySet(id), vaults: list });
  return recoveryKitOf(sets, network);
}
