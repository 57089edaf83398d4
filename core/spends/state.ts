/**
 * The life of a spend of a vault's coins, as data (SPEC §6: one change at a time per vault).
 *
 *   draft ──sign──▶ signing ──complete──▶ signed ──send──▶ broadcast ──confirm──▶ confirmed
 *     │               │  └─await-guardian─▶ awaiting-guardian ──complete──▶ signed
 *     ├─expire─▶ expired                      ├─cancel─▶ cancelled ──adopt──▶ broadcast
 *     └─supersede─▶ abandoned   fail─▶ abandoned   └─adopt──▶ broadcast
 *
 * A spend in an OPEN state holds its vault: no mint, no other spend, and its coins are not in an
 * auction's lot. The table is pure: `transition` says where an event leads and what else must
 * change in the same database transaction (its effects); the spend store applies it.
 */
import { BitStableError } from '../errors';

export const SPEND_STATES = [
  'draft',
  'signing',
  'awaiting-guardian',
  'signed',
  'broadcast',
  'confirmed',
  'abandoned',
  'cancelled',
  'expired',
] as const;
export type SpendState = (typeof SPEND_STATES)[number];

export const SPEND_KINDS = [
  'withdraw',
  'close',
  'emergency-exit',
  'settlement',
  'sweep',
  'redemption',
] as const;
export type SpendKind = (typeof SPEND_KINDS)[number];

/** States in which a spend holds its vault's coins (at most one per vault: a unique index). */
export const OPEN_SPEND_STATES: readonly SpendState[] = [
  'draft',
  'signing',
  'awaiting-guardian',
  'signed',
  'broadcast',
];

/** `OPEN_SPEND_STATES` as an SQL list, for queries. */
export const OPEN_SPEND_SQL = `(${OPEN_SPEND_STATES.map((s) => `'${s}'`).join(', ')})`;

export type SpendEvent =
  | 'sign'
  | 'expire'
  | 'supersede'
  | 'fail'
  | 'await-guardian'
  | 'complete'
  | 'cancel'
  | 'send'
  | 'adopt'
  | 'drop'
  | 'confirm'
  | 'unconfirm'
  | 'revive';

/** What else changes, in the same transaction, when a spend moves. */
export type SpendEffect =
  /** Its coins are gone for good: the vault is Closed and any debt left is written off. */
  | 'vault.close'
  /** A reorg undid the close: the vault is open again until it re-confirms. */
  | 'vault.reopen'
  /** The coins left an emptied vault (a sweep): any debt left is written off. */
  | 'vault.write-off'
  /** The settlement confirmed: the auction is settled and the vault Liquidated. */
  | 'liquidation.settle'
  /** A reorg undid the settlement: the auction settles again. */
  | 'liquidation.reopen'
  /** The redemption payout confirmed: the redeemer is paid. */
  | 'redemption.paid'
  /** A reorg undid it: the payout is owed again until it re-confirms. */
  | 'redemption.unpaid';

const TABLE: Record<SpendEvent, Partial<Record<SpendState, SpendState>>> = {
  sign: { draft: 'signing' },
  expire: { draft: 'expired' },
  supersede: { draft: 'abandoned' },
  fail: { signing: 'abandoned' },
  'await-guardian': { signing: 'awaiting-guardian' },
  complete: { signing: 'signed', 'awaiting-guardian': 'signed' },
  cancel: { 'awaiting-guardian': 'cancelled' },
  send: { signed: 'broadcast' },
  adopt: { 'awaiting-guardian': 'broadcast', cancelled: 'broadcast' },
  drop: { signed: 'abandoned', broadcast: 'abandoned', 'awaiting-guardian': 'abandoned' },
  confirm: { broadcast: 'confirmed' },
  unconfirm: { confirmed: 'broadcast' },
  // A dropped transaction the chain brought back (its conflict was reorged away): it is sent.
  revive: { abandoned: 'broadcast' },
};

const CLOSES: readonly SpendKind[] = ['close', 'emergency-exit'];

/** Where `event` takes a spend of `kind` in state `from`, and its effects; null if it cannot. */
export function transition(
  kind: SpendKind,
  from: SpendState,
  event: SpendEvent,
): { to: SpendState; effects: SpendEffect[] } | null {
  const to = TABLE[event][from];
  if (!to) return null;
  const effects: SpendEffect[] = [];
  if (event === 'confirm') {
    if (CLOSES.includes(kind)) effects.push('vault.close');
    if (kind === 'sweep') effects.push('vault.write-off');
    if (kind === 'settlement') effects.push('liquidation.settle');
    if (kind === 'redemption') effects.push('redemption.paid');
  }
  if (event === 'unconfirm') {
    if (CLOSES.includes(kind)) effects.push('vault.reopen');
    if (kind === 'settlement') effects.push('liquidation.reopen');
    if (kind === 'redemption') effects.push('redemption.unpaid');
  }
  return { to, effects };
}

/** `transition`, or SPEND_STATE_CHANGED when the event does not apply to that state. */
export function requireTransition(
  kind: SpendKind,
  from: SpendState,
  event: SpendEvent,
  spendId: number,
): { to: SpendState; effects: SpendEffect[] } {
  const t = transition(kind, from, event);
  if (!t) {
    throw new BitStableError(
      'SPEND_STATE_CHANGED',
      `Transaction #${spendId} is ${from}; it cannot ${event} now. Nothing was changed.`,
      { spendId, state: from, event },
    );
  }
  return t;
}
