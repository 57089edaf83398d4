/**
 * The spends table: the only place that writes it. Each spend moves by the pure transition table
 * in `state.ts`; a move is conditional on the state it moves from (a concurrent step that moved
 * it first wins), is journaled, and applies its effects in the same transaction.
 *
 * The vault lock: at most one unsent spend per vault (a unique partial index in the schema), and a
 * new one is stored only when no spend is open, in one transaction — so two processes sharing
 * the database cannot both hold a vault's coins.
 */
import type { Sqlite } from '../db/database';
import { BitStableError } from '../errors';
import { journal } from '../events/journal';
import type { SpendPlan } from '../psbt/build';
import { checkId } from '../vaults/vault-store';
import {
  OPEN_SPEND_SQL,
  requireTransition,
  type SpendEffect,
  type SpendEvent,
  type SpendKind,
  type SpendState,
} from './state';

export interface SpendRow {
  id: number;
  vault_id: number;
  kind: SpendKind;
  state: SpendState;
  plan: string;
  psbt: string;
  tx_hex: string | null;
  txid: string | null;
  destination: string | null;
  created_at: number;
  updated_at: number;
  expires_at: number | null;
  signing_by: string | null;
  cosign_price_cents: number | null;
}

/** Fields a move may set along with the state. */
export interface SpendPatch {
  psbt?: string;
  tx_hex?: string;
  txid?: string;
  signing_by?: string | null;
  cosign_price_cents?: number;
}

/** How long a cancelled guardian request is watched for the guardian sending it anyway. */
export const CANCELLED_WATCH_MS = 30 * 24 * 3600_000;

/** Applies a move's effects inside its transaction. */
export type EffectHandler = (effect: SpendEffect, spend: SpendRow, ts: number) => void;

export class SpendStore {
  constructor(
    private readonly db: Sqlite,
    private readonly now: () => number,
    private readonly onEffect: EffectHandler,
  ) {}

  get(id: number): SpendRow | undefined {
    return this.db.prepare('SELECT * FROM spends WHERE id = ?').get(id) as SpendRow | undefined;
  }

  /** One spend, or SPEND_NOT_FOUND. */
  require(id: unknown): SpendRow {
    const spendId = checkId(id, 'A transaction id');
    const row = this.get(spendId);
    if (!row) {
      throw new BitStableError('SPEND_NOT_FOUND', `There is no transaction #${spendId}.`, {
        spendId,
      });
    }
    return row;
  }

  /** The vault's newest open spend (it holds the vault), if any. */
  openFor(vaultId: number): SpendRow | undefined {
    return this.db
      .prepare(
        `SELECT * FROM spends WHERE vault_id = ? AND state IN ${OPEN_SPEND_SQL} ORDER BY id DESC LIMIT 1`,
      )
      .get(vaultId) as SpendRow | undefined;
  }

  /** Every open spend of the vault (more than one only when a reorg put an older one back). */
  openAll(vaultId: number): SpendRow[] {
    return this.db
      .prepare(`SELECT * FROM spends WHERE vault_id = ? AND state IN ${OPEN_SPEND_SQL}`)
      .all(vaultId) as SpendRow[];
  }

  /**
   * Emergency exits the owner signed that were given up (cancelled) but whose coins are all still
   * the vault's: the guardian may still hold and send them, so those coins are not free.
   */
  liveSignedExits(vaultId: number): SpendRow[] {
    const rows = this.db
      .prepare(
        "SELECT * FROM spends WHERE vault_id = ? AND kind = 'emergency-exit' AND state = 'cancelled' AND updated_at > ?",
      )
      .all(vaultId, this.now() - CANCELLED_WATCH_MS) as SpendRow[];
    if (rows.length === 0) return [];
    const coin = this.db.prepare('SELECT 1 FROM vault_utxos WHERE txid = ? AND vout = ?').pluck();
    return rows.filter((r) =>
      (JSON.parse(r.plan) as SpendPlan).inputs.some((i) => coin.get(i.txid, i.vout) !== undefined),
    );
  }

  /** Outpoints (`txid:vout`) that open spends and live signed exits hold. */
  heldOutpoints(vaultId: number): Set<string> {
    const held = new Set<string>();
    for (const r of [...this.openAll(vaultId), ...this.liveSignedExits(vaultId)]) {
      for (const i of (JSON.parse(r.plan) as SpendPlan).inputs) held.add(`${i.txid}:${i.vout}`);
    }
    return held;
  }

  /**
   * Throws while the vault's coins are held: SPEND_IN_FLIGHT or AWAITING_GUARDIAN. A draft that
   * nobody is signing is held too: the caller may supersede it instead (`insertDraft` does).
   */
  refuseOpen(vaultId: number, options: { ignoreUnsignedDraft?: boolean } = {}): void {
    const open = this.openFor(vaultId);
    if (!open) return;
    if (options.ignoreUnsignedDraft && open.state === 'draft') return;
    throw openSpendError(open);
  }

  /**
   * REDEMPTION_OWED while the vault owes a redeemer bitcoin: those coins are the redeemer's until
   * the payout confirms, whether or not its transaction is in flight right now.
   */
  refuseOwed(vaultId: number): void {
    const owed = this.db
      .prepare("SELECT id, sats FROM redemption_payouts WHERE vault_id = ? AND state = 'owed'")
      .get(vaultId) as { id: number; sats: number } | undefined;
    if (!owed) return;
    throw new BitStableError(
      'REDEMPTION_OWED',
      `Vault #${vaultId} owes a redeemer ${owed.sats} sats (payout #${owed.id}); its coins are held until that payment confirms.`,
      { vaultId, payoutId: owed.id, sats: owed.sats },
    );
  }

  /** refuseOpen, and EXIT_SIGNED while a given-up exit the owner signed could still be sent. */
  refuseHeld(vaultId: number): void {
    this.refuseOpen(vaultId);
    this.refuseOwed(vaultId);
    const exit = this.liveSignedExits(vaultId)[0];
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
  insertDraft(
    vaultId: number,
    kind: SpendKind,
    plan: SpendPlan,
    psbt: string,
    destination: string | null,
    expiresAt: number | null,
    by: string,
  ): number {
    const ts = this.now();
    return this.db.transaction(() => {
      const open = this.openFor(vaultId);
      if (open && open.state === 'draft') this.move(open, 'supersede');
      else if (open) throw openSpendError(open);
      const id = Number(
        this.db
          .prepare(
            "INSERT INTO spends (vault_id, kind, state, plan, psbt, destination, created_at, updated_at, expires_at, signing_by) VALUES (?, ?, 'draft', ?, ?, ?, ?, ?, ?, ?)",
          )
          .run(vaultId, kind, JSON.stringify(plan), psbt, destination, ts, ts, expiresAt, by)
          .lastInsertRowid,
      );
      journal(this.db, 'spend.planned', vaultId, { spendId: id, kind, feeSats: plan.feeSats }, ts);
      return id;
    })();
  }

  /**
   * Moves a spend by `event` from the state in `row`, with `patch`, applying the effects — one
   * transaction (nested in the caller's if there is one). False when the spend had already moved
   * on; SPEND_STATE_CHANGED when the event never applies to that state.
   */
  move(row: SpendRow, event: SpendEvent, patch: SpendPatch = {}): boolean {
    const { to, effects } = requireTransition(row.kind, row.state, event, row.id);
    const ts = this.now();
    return this.db.transaction(() => {
      const sets = ['state = @to', 'updated_at = @ts'];
      for (const k of Object.keys(patch)) sets.push(`${k} = @${k}`);
      const moved = this.db
        .prepare(`UPDATE spends SET ${sets.join(', ')} WHERE id = @id AND state = @from`)
        .run({ ...patch, to, ts, id: row.id, from: row.state });
      if (moved.changes === 0) return false;
      const after: SpendRow = { ...row, ...patch, state: to, updated_at: ts };
      journal(
        this.db,
        `spend.${to}`,
        row.vault_id,
        { spendId: row.id, txid: after.txid ?? null, event },
        ts,
      );
      for (const e of effects) this.onEffect(e, after, ts);
      return true;
    })();
  }

  /** Spends in any of `states`, oldest first. */
  inStates(states: readonly SpendState[]): SpendRow[] {
    return this.db
      .prepare(
        `SELECT * FROM spends WHERE state IN (${states.map(() => '?').join(', ')}) ORDER BY id`,
      )
      .all(...states) as SpendRow[];
  }

  /** Guardian requests to watch: waiting ones, and ones cancelled within the watch window. */
  watchedGuardianRequests(): SpendRow[] {
    return this.db
      .prepare(
        "SELECT * FROM spends WHERE state = 'awaiting-guardian' OR (state = 'cancelled' AND updated_at > ?) ORDER BY id",
      )
      .all(this.now() - CANCELLED_WATCH_MS) as SpendRow[];
  }

  /** Spends to bring forward: sent or about to be, and recently confirmed ones (reorgs). */
  tracked(): SpendRow[] {
    return this.db
      .prepare(
        "SELECT * FROM spends WHERE state IN ('signed', 'broadcast') OR (state = 'confirmed' AND updated_at > ?) ORDER BY id",
      )
      .all(this.now() - 24 * 3600_000) as SpendRow[];
  }

  /** Spends dropped in the last day that had a transaction (a reorg may bring it back). */
  droppedRecently(): SpendRow[] {
    return this.db
      .prepare(
        "SELECT * FROM spends WHERE state = 'abandoned' AND txid IS NOT NULL AND updated_at > ? ORDER BY id",
      )
      .all(this.now() - 24 * 3600_000) as SpendRow[];
  }

  /** True when `txid` is a transaction of one of the vault's own spends (its change counts at once). */
  isOwnTransaction(txid: string): boolean {
    return (
      this.db
        .prepare(
          "SELECT 1 FROM spends WHERE txid = ? AND state IN ('signed', 'broadcast', 'confirmed')",
        )
        .pluck()
        .get(txid) !== undefined
    );
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
