/**
 * Time as the oracle sees it, injected so tests can move it.
 */

/** A source of the current time in ms since epoch. */
export interface Clock {
  now(): number;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to (tests, benches). */
export class ManualClock implements Clock {
  constructor(private ms: number = Date.UTC(2024, 0, 15, 12)) {}

  now(): number {
    return this.ms;
  }

  /** Moves the clock forward (or back, with a negative step). */
  advance(ms: number): void {
    this.ms += ms;
  }

  /** Sets the clock to an absolute time. */
  set(ms: number): void {
    this.ms = ms;
  }
}
