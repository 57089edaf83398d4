/**
 * The circuit breaker (SPEC §7). A round's price is accepted when it lies within `limitBps` of
 * the last accepted price *and* of every price accepted in the last `windowMs`, so the limit
 * bounds the cumulative move over the window as well as one round's: six sub-limit steps cannot
 * walk the price −74 % in a minute. A price outside those bounds is held, and accepted only once
 * every round for at least `confirmMs` has stayed within `limitBps` of it (off regtest 10
 * minutes: whoever moves the median must hold it that long, in the open; on regtest 0, so the
 * very next round confirms), over at least `minRounds` agreeing rounds so a clock jump alone
 * cannot confirm it. A move back towards the window's earlier prices is not held: a one-round
 * spike inside the limit must not lock the honest price out. A round without a price pauses a
 * hold (it neither confirms nor ends it) unless no agreeing round came for `maxGapMs`. After a
 * confirmed move the window holds the held prices and the new one, so the next step is bounded
 * from all of them.
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
  /** Agreeing rounds a hold needs besides its first (default 1). */
  minRounds?: number;
  /** A hold with no agreeing round for longer than this ends (default: never). */
  maxGapMs?: number;
}

export interface BreakerState {
  /** The price of the last accepted round; null before the first. */
  lastAcceptedCents: Cents | null;
  /** Prices accepted within the window, oldest first. */
  window: readonly { ts: number; cents: Cents }[];
  /** A price being held for confirmation, and since when it has stood. */
  held: {
    cents: Cents;
    sinceMs: number;
    /** The last round that agreed with it, and how many have. */
    lastMs: number;
    rounds: number;
    /** The lowest and highest prices the hold's rounds gave. */
    lowCents: Cents;
    highCents: Cents;
  } | null;
}

export const EMPTY_BREAKER: BreakerState = { lastAcceptedCents: null, window: [], held: null };

export interface BreakerDecision {
  status: RoundStatus;
  accepted: boolean;
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
  const gapOver = (h: NonNullable<BreakerState['held']>) =>
    limits.maxGapMs !== undefined && nowMs - h.lastMs > limits.maxGapMs;
  if (candidate === null) {
    // A round without a price confirms nothing; it ends a hold only after a long gap, so a few
    // failed rounds (or two sources splitting the median) cannot keep a real move out for ever.
    const held = state.held && !gapOver(state.held) ? state.held : null;
    return {
      status: 'insufficient-sources',
      accepted: false,
      moveBps: null,
      confirmsAtMs: held ? held.sinceMs + limits.confirmMs : null,
      next: { ...state, window, held },
    };
  }
  const ref = state.lastAcceptedCents;
  const moveBps = ref === null ? null : moveInBps(ref, candidate);
  const accept = (kept: readonly { ts: number; cents: Cents }[]) => ({
    status: 'ok' as const,
    accepted: true,
    moveBps,
    confirmsAtMs: null,
    next: {
      lastAcceptedCents: candidate,
      window: [...kept, { ts: nowMs, cents: candidate }],
      held: null,
    },
  });
  if (
    ref === null ||
    inBounds(ref, window, candidate, limits.limitBps) ||
    backTowardsWindow(ref, window, candidate, limits.limitBps)
  )
    return accept(window);

  const prior = state.held;
  const agrees =
    prior !== null && !gapOver(prior) && within(prior.cents, candidate, limits.limitBps);
  const standing = agrees
    ? {
        ...prior,
        lastMs: nowMs,
        rounds: prior.rounds + 1,
        lowCents: (candidate < prior.lowCents ? candidate : prior.lowCents) as Cents,
        highCents: (candidate > prior.highCents ? candidate : prior.highCents) as Cents,
      }
    : {
        cents: candidate,
        sinceMs: nowMs,
        lastMs: nowMs,
        rounds: 0,
        lowCents: candidate,
        highCents: candidate,
      };
  // confirmMs 0 keeps the old rule: a held round, then one more round that agrees with it.
  const confirmed =
    agrees &&
    standing.rounds >= (limits.minRounds ?? 1) &&
    (limits.confirmMs === 0 || nowMs - standing.sinceMs >= limits.confirmMs);
  if (confirmed)
    return accept([
      { ts: nowMs, cents: standing.cents },
      { ts: nowMs, cents: standing.lowCents },
      { ts: nowMs, cents: standing.highCents },
    ]);
  return {
    status: 'held',
    accepted: false,
    moveBps,
    confirmsAtMs: standing.sinceMs + limits.confirmMs,
    next: { ...state, window, held: standing },
  };
}

/**
 * A move from the last price back into the range the window's prices span (as after a one-round
 * spike), landing within the limit of the window's oldest price: nothing is being walked.
 */
function backTowardsWindow(
  last: Cents,
  window: readonly { cents: Cents }[],
  candidate: Cents,
  limitBps: number,
): boolean {
  if (window.length === 0) return false;
  const oldest = window[0]!.cents;
  const between =
    (last <= candidate && candidate <= oldest) || (oldest <= candidate && candidate <= last);
  return between && within(oldest, candidate, limitBps);
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

/**
 * The breaker's window as it stood after `accepted` (oldest first, all within the window): each
 * accepted price either kept to the bounds, moved back towards the window, or was a confirmed
 * move — which started the window again. What a restart rebuilds, so it neither forgets a walk
 * nor keeps prices a confirmed move had put behind it.
 */
export function replayWindow(
  accepted: readonly { ts: number; cents: Cents }[],
  limitBps: number,
): { ts: number; cents: Cents }[] {
  let window: { ts: number; cents: Cents }[] = [];
  for (const e of accepted) {
    const last = window.at(-1)?.cents;
    const kept =
      last === undefined ||
      inBounds(last, window, e.cents, limitBps) ||
      backTowardsWindow(last, window, e.cents, limitBps);
    window = kept ? [...window, e] : [e];
  }
  return window;
}
