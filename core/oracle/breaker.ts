/**
 * The circuit breaker (SPEC §7). A round's price is accepted when it lies within `limitBps` of
 * the last accepted price *and* of every price accepted in the last `windowMs`, so the limit
 * bounds the cumulative move over the window as well as one round's: six sub-limit steps cannot
 * walk the price −74 % in a minute. A price outside those bounds is held, and accepted only once
 * every round for at least `confirmMs` has stayed within `limitBps` of it (off regtest 10
 * minutes: whoever moves the median must hold it that long, in the open; on regtest 0, so the
 * very next round confirms). A round without a price ends a hold. After a confirmed move the
 * window starts again from the new price.
 * Pure: the oracle keeps the state and stores each decision.
 */
import type { Cents } from '../money';

/** The outcome of a round: a usable price, too few sources, or held by the breaker. */
export type RoundStatus = 'ok' | 'insufficient-sources' | 'held';

export interface BreakerLimits {
  /** The largest move from any price accepted in the window (2 000 = 20 %). */
  limitBps: number;
  /** How far back the cumulative bound reaches. */
  windowMs: number;
  /** How long a held price must stand before it is accepted (0: the next round confirms). */
  confirmMs: number;
}

export interface BreakerState {
  /** The price of the last accepted round; null before the first. */
  lastAcceptedCents: Cents | null;
  /** Prices accepted within the window, oldest first. */
  window: readonly { ts: number; cents: Cents }[];
  /** A price being held for confirmation, and since when it has stood. */
  held: { cents: Cents; sinceMs: number } | null;
}

export const EMPTY_BREAKER: BreakerState = { lastAcceptedCents: null, window: [], held: null };

export interface BreakerDecision {
  status: RoundStatus;
  accepted: boolean;
  /** Accepted because a held move stood long enough (not because it was within bounds). */
  confirmed: boolean;
  /** Move from the last accepted price in bps (rounded down); null when there is none. */
  moveBps: number | null;
  /** When a held price would be accepted if it stands; null when nothing is held. */
  confirmsAtMs: number | null;
  next: BreakerState;
}

/** Decides whether a round's price (or its absence) at `nowMs` is accepted, held or short of sources. */
export function decide(
  state: BreakerState,
  candidate: Cents | null,
  nowMs: number,
  limits: BreakerLimits,
): BreakerDecision {
  const window = state.window.filter((w) => nowMs - w.ts <= limits.windowMs);
  if (candidate === null) {
    // A round without a price cannot confirm anything, so a held price is forgotten.
    return {
      status: 'insufficient-sources',
      accepted: false,
      confirmed: false,
      moveBps: null,
      confirmsAtMs: null,
      next: { ...state, window, held: null },
    };
  }
  const ref = state.lastAcceptedCents;
  const moveBps = ref === null ? null : moveInBps(ref, candidate);
  const accept = (confirmed: boolean, kept: readonly { ts: number; cents: Cents }[]) => ({
    status: 'ok' as const,
    accepted: true,
    confirmed,
    moveBps,
    confirmsAtMs: null,
    next: {
      lastAcceptedCents: candidate,
      window: [...kept, { ts: nowMs, cents: candidate }],
      held: null,
    },
  });
  if (ref === null || inBounds(ref, window, candidate, limits.limitBps))
    return accept(false, window);

  const standing =
    state.held !== null && within(state.held.cents, candidate, limits.limitBps)
      ? state.held
      : { cents: candidate, sinceMs: nowMs };
  // confirmMs 0 keeps the old rule: a held round, then one more round that agrees with it.
  const confirmed =
    standing !== state.held
      ? false
      : limits.confirmMs === 0 || nowMs - standing.sinceMs >= limits.confirmMs;
  if (confirmed) return accept(true, []);
  return {
    status: 'held',
    accepted: false,
    confirmed: false,
    moveBps,
    confirmsAtMs: standing.sinceMs + limits.confirmMs,
    next: { ...state, window, held: standing },
  };
}

/** Within the limit of the last accepted price and of every price in the window. */
function inBounds(
  last: Cents,
  window: readonly { cents: Cents }[],
  candidate: Cents,
  limitBps: number,
): boolean {
  if (!within(last, candidate, limitBps)) return false;
  return window.every((w) => within(w.cents, candidate, limitBps));
}

/** |b − a| / a ≤ limit, exactly, in BigInt. */
export function within(a: Cents, b: Cents, limitBps: number): boolean {
  const A = BigInt(a);
  const B = BigInt(b);
  const diff = A > B ? A - B : B - A;
  return diff * 10_000n <= BigInt(limitBps) * A;
}

/** |b − a| / a in basis points, rounded down. */
export function moveInBps(a: Cents, b: Cents): number {
  const A = BigInt(a);
  const B = BigInt(b);
  const diff = A > B ? A - B : B - A;
  return Number((diff * 10_000n) / A);
}
