/**
 * The spends table: the only place that writes it. Each spend moves by the pure transition table
 * in `state.ts`; a move is conditional on the state it moves from (a concurrent step that moved
 * it first wins), is journaled, and applies its effects in the same transaction.
 *
 * The vault lock: at most one unsent spend per vault (a unique partial index in the schema), and a
 * new one is stored only when no spend is open, in one transaction — so two processes sharing
 * the database cannot both hold a vault's coins.
 */
import { BitStableError } from '../errors';
import type { SpendPlan } from '../psbt/build';
import type { Store } from '../store/ports';
import type { SpendPatch, SpendRow } from '../store/spends';
import { checkId } from '../vaults/vault-store';
import {
  requireTransition,
  type SpendEffect,
  type SpendEvent,
  type SpendKind,
  type SpendState,
} from './state';

export type { SpendPatch, SpendRow } from '../store/spends';

/** How long a cancelled guardian request is watched for the guardian sending it anyway. */
export const CANCELLED_WATCH_MS = 30 * 24 * 3600_000;

/** Applies a move's effects inside its transaction. */
export type EffectHandler = (effect: SpendEffect, spend: SpendRow, ts: number) => void;

export class SpendStore {
  constructor(
    private readonly store: Store,
    private readonly now: () => number,
    private readonly onEffect: EffectHandler,
  ) {}

  async get(id: number): Promise<SpendRow | undefined> {
    return await this.store.spends.get(id);
  }

  /** One spend, or SPEND_NOT_FOUND. */
  async require(id: unknown): Promise<SpendRow> {
    const spendId = checkId(id, 'A transaction id');
    const row = await this.get(spendId);
    if (!row) {
      throw new BitStableError('SPEND_NOT_FOUND', `There is no transaction #${spendId}.`, {
        spendId,
      });
    }
    return row;
  }

  /** The vault's newest open spend (it holds the vault), if any. */
  async openFor(vaultId: number): Promise<SpendRow | undefined> {
    return await this.store.spends.openFor(vaultId);
  }

  /** Every open spend of the vault (more than one only when a reorg put an older one back). */
  async openAll(vaultId: number): Promise<SpendRow[]> {
    return await this.store.spends.openAll(vaultId);
  }

  /**
   * Emergency exits the owner signed that were given up (cancelled) but whose coins are all still
   * the vault's: the guardian may still hold and send them, so those coins are not free.
   */
  async liveSignedExits(vaultId: number): Promise<SpendRow[]> {
    const { spends } = this.store;
    const rows = await spends.exitsCancelledSince(vaultId, this.now() - CANCELLED_WATCH_MS);
    const live: SpendRow[] = [];
    for (const r of rows) {
      for (const i of (JSON.parse(r.plan) as SpendPlan).inputs) {
        if (await spends.isVaultCoin(i.txid, i.vout)) {
          live.push(r);
          break;
        }
      }
    }
    return live;
  }

  /** Outpoints (`txid:vout`) that open spends and live signed exits hold. */
  async heldOutpoints(vaultId: number): Promise<Set<string>> {
    const held = new Set<string>();
    for (const r of [...(await this.openAll(vaultId)), ...(await this.liveSignedExits(vaultId))]) {
      for (const i of (JSON.parse(r.plan) as SpendPlan).inputs) held.add(`${i.txid}:${i.vout}`);
    }
    return held;
  }

  /**
   * Throws while the vault's coins are held: SPEND_IN_FLIGHT or AWAITING_GUARDIAN. A draft that
   * nobody is signing is held too: the caller may supersede it instead (`insertDraft` does).
   */
  async refuseOpen(
    vaultId: number,
    options: { ignoreUnsignedDraft?: boolean } = {},
  ): Promise<void> {
    const open = await this.openFor(vaultId);
    if (!open) return;
    if (options.ignoreUnsignedDraft && open.state === 'draft') return;
    throw openSpendError(open);
  }

  /**
   * REDEMPTION_OWED while the vault owes a redeemer bitcoin: those coins are the redeemer's until
   * the payout confirms, whether or not its transaction is in flight right now.
   */
  async refuseOwed(vaultId: number): Promise<void> {
    const owed = await this.store.redemptions.owedBy(vaultId);
    if (!owed) return;
    throw new BitStableError(
      'REDEMPTION_OWED',
      `Vault #${vaultId} owes a redeemer ${owed.sats} sats (payout #${owed.id}); its coins are held until that payment confirms.`,
      { vaultId, payoutId: owed.id, sats: owed.sats },
    );
  }

  /** refuseOpen, and EXIT_SIGNED while a given-up exit the owner signed could still be sent. */
  async refuseHeld(vaultId: number): Promise<void> {
    await this.refuseOpen(vaultId);
    await this.refuseOwed(vaultId);
    const exit = (await this.liveSignedExits(vaultId))[0];
    if (exit) {
      throw new BitStableError(
        'EXIT_SIGNED',
        `You signed an emergency exit (#${exit.id}) from vault #${vaultId}; though cancelled, the guardian could still send it. Withdraw or close first: that spends the same coins and voids it.`,
        { vaultId, spendId: exit.id },
      );
    }
  }

  /**
   * Stores a reviewed spend as a draft that expires at `expiresAt` (null: never, for internal
   * spends), made by process `by`. An unsigned draft of the same vault is superseded; any other
   * open spend refuses.
   */
  async insertDraft(
    vaultId: number,
    kind: SpendKind,
    plan: SpendPlan,
    psbt: string,
    destination: string | null,
    expiresAt: number | null,
    by: string,
  ): Promise<number> {
    const ts = this.now();
    return await this.store.transaction(async () => {
      const open = await this.openFor(vaultId);
      if (open && open.state === 'draft') await this.move(open, 'supersede');
      else if (open) throw openSpendError(open);
      const id = await this.store.spends.insertDraft(
        vaultId,
        kind,
        JSON.stringify(plan),
        psbt,
        destination,
        ts,
        expiresAt,
        by,
      );
      await this.store.ops.journal(
        'spend.planned',
        vaultId,
        { spendId: id, kind, feeSats: plan.feeSats },
        ts,
      );
      return id;
    });
  }

  /**
   * Moves a spend by `event` from the state in `row`, with `patch`, applying the effects — one
   * transaction (nested in the caller's if there is one). False when the spend had already moved
   * on; SPEND_STATE_CHANGED when the event never applies to that state.
   */
  async move(row: SpendRow, event: SpendEvent, patch: SpendPatch = {}): Promise<boolean> {
    const { to, effects } = requireTransition(row.kind, row.state, event, row.id);
    const ts = this.now();
    return await this.store.transaction(async () => {
      if (!(await this.store.spends.moveState(row.id, row.state, to, ts, patch))) return false;
      const after: SpendRow = { ...row, ...patch, state: to, updated_at: ts };
      await this.store.ops.journal(
        `spend.${to}`,
        row.vault_id,
        { spendId: row.id, txid: after.txid ?? null, event },
        ts,
      );
      for (const e of effects) this.onEffect(e, after, ts);
      return true;
    });
  }

  /** Spends in any of `states`, oldest first. */
  async inStates(states: readonly SpendState[]): Promise<SpendRow[]> {
    return await this.store.spends.inStates(states);
  }

  /** Guardian requests to watch: waiting ones, and ones cancelled within the watch window. */
  async watchedGuardianRequests(): Promise<SpendRow[]> {
    return await this.store.spends.watchedGuardianRequests(this.now() - CANCELLED_WATCH_MS);
  }

  /** Spends to bring forward: sent or about to be, and recently confirmed ones (reorgs). */
  async tracked(): Promise<SpendRow[]> {
    return await this.store.spends.tracked(this.now() - 24 * 3600_000);
  }

  /** Spends dropped in the last day that had a transaction (a reorg may bring it back). */
  async droppedRecently(): Promise<SpendRow[]> {
    return await this.store.spends.droppedSince(this.now() - 24 * 3600_000);
  }

  /** True when `txid` is a transaction of one of the vault's own spends (its change counts at once). */
  async isOwnTransaction(txid: string): Promise<boolean> {
    return await this.store.spends.isOwnTransaction(txid);
  }
}

/** The typed refusal for a vault whose coins an open spend holds. */
export function openSpendError(open: SpendRow): BitStableError {
  if (open.state === 'awaiting-guardian') {
    return new BitStableError(
      'AWAITING_GUARDIAN',
      `A transaction from vault #${open.vault_id} (#${open.id}) is waiting for the guardian's signature. Import the signed PSBT file, or cancel that transaction first.`,
      { vaultId: open.vault_id, spendId: open.id, kind: open.kind },
    );
  }
  const what =
    open.state === 'draft'
      ? 'is under review'
      : open.state === 'signing'
        ? 'is being signed'
        : 'is waiting to confirm';
  return new BitStableError(
    'SPEND_IN_FLIGHT',
    `A transaction from vault #${open.vault_id} (#${open.id}, ${open.kind}) ${what}; one change at a time. Try again after it is done.`,
    { vaultId: open.vault_id, spendId: open.id, kind: open.kind, state: open.state },
  );
}
