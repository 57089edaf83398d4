/**
 * The circuit breaker (SPEC §7): a round whose price moves more than `limitBps` from the last
 * accepted price is held, and accepted only when the very next round confirms it (lands within
 * `limitBps` of the held price). One bad round can then never move the oracle on its own.
 * Pure: the oracle keeps the state and stores each decision.
 */
import type { Cents } from '../money';

/** The outcome of a round: a usable price, too few sources, or held by the breaker. */
export type RoundStatus = 'ok' | 'insufficient-sources' | 'held';

export interface BreakerState {
  /** The price of the last accepted round; null before the first. */
  lastAcceptedCents: Cents | null;
  /** A price held by the previous round, waiting for confirmation. */
  heldCents: Cents | null;
}

export interface BreakerDecision {
  status: RoundStatus;
  accepted: boolean;
  /** Move from the last accepted price in bps (rounded down); null when there is none. */
  moveBps: number | null;
  next: BreakerState;
}

/** Decides whether a round's price (or its absence) is accepted, held or short of sources. */
export function decide(
  state: BreakerState,
  candidate: Cents | null,
  limitBps: number,
): BreakerDecision {
  if (candidate === null) {
    // A round without a price cannot confirm anything, so a held price is forgotten.
    return {
      status: 'insufficient-sources',
      accepted: false,
      moveBps: null,
      next: { ...state, heldCents: null },
    };
  }
  const ref = state.lastAcceptedCents;
  const moveBps = ref === null ? null : moveInBps(ref, candidate);
  const accept: BreakerDecision = {
    status: 'ok',
    accepted: true,
    moveBps,
    next: { lastAcceptedCents: candidate, heldCents: null },
  };
  if (ref === null || within(ref, candidate, limitBps)) return accept;
  if (state.heldCents !== null && within(state.heldCents, candidate, limitBps)) return accept;
  return { status: 'held', accepted: false, moveBps, next: { ...state, heldCents: candidate } };
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
