import { describe, expect, it } from 'vitest';
import vectors from '../fixtures/oracle/aggregate-vectors.json';
import { aggregate, medianOf, type Answer } from '../../core/oracle/aggregate';
import { decide, EMPTY_BREAKER, type BreakerState } from '../../core/oracle/breaker';
import type { Cents } from '../../core/money';

interface Vector {
  description: string;
  threshold?: number;
  answers: Answer[];
  expected: {
    priceCents: number | null;
    medianCents: number | null;
    survivors: string[];
    dropped: Record<string, string>;
  };
}

const DEFAULTS = {
  nowMs: 1_705_320_000_000,
  maxAgeMs: 60_000,
  futureSkewMs: 5_000,
  maxDeviationBps: 200,
  threshold: 2,
};

describe('aggregate (vectors from test/fixtures/oracle/aggregate-vectors.json)', () => {
  it.each((vectors.valid as Vector[]).map((v) => [v.description, v] as const))('%s', (_, v) => {
    const result = aggregate(v.answers, {
      ...DEFAULTS,
      threshold: v.threshold ?? DEFAULTS.threshold,
    });
    expect(result.priceCents).toBe(v.expected.priceCents);
    expect(result.medianCents).toBe(v.expected.medianCents);
    expect(result.survivors).toEqual(v.expected.survivors);
    const dropped = Object.fromEntries(
      result.answers.filter((a) => a.dropped).map((a) => [a.source, a.dropped]),
    );
    expect(dropped).toEqual(v.expected.dropped);
    // Every answer is reported, in order, whatever happened to it.
    expect(result.answers.map((a) => a.source)).toEqual(v.answers.map((a) => a.source));
  });

  it('records the error reason and message of failed answers', () => {
    const r = aggregate([{ source: 'a', error: { reason: 'timeout', message: 'slow' } }], DEFAULTS);
    expect(r.answers[0]).toEqual({
      source: 'a',
      priceCents: null,
      sourceTs: null,
      error: 'slow',
      errorReason: 'timeout',
      dropped: 'error',
    });
  });

  it('medianOf handles odd, even and empty inputs without floats', () => {
    expect(medianOf([])).toBeNull();
    expect(medianOf([3n, 1n, 2n])).toBe(2n);
    expect(medianOf([1n, 2n])).toBe(2n); // 1.5 rounds half up
    expect(medianOf([2n, 4n])).toBe(3n);
  });
});

// Each case is a sequence of rounds from an initial state; `expect` lists each round's status.
const BREAKER_CASES: {
  description: string;
  start: number | null;
  rounds: (number | null)[];
  expect: string[];
  final: number | null;
}[] = [
  {
    description: 'the first price is accepted as is',
    start: null,
    rounds: [4_000_000],
    expect: ['ok'],
    final: 4_000_000,
  },
  {
    description: 'a 19.99 % move is accepted',
    start: 4_000_000,
    rounds: [4_799_600],
    expect: ['ok'],
    final: 4_799_600,
  },
  {
    description: 'exactly 20 % is accepted',
    start: 4_000_000,
    rounds: [4_800_000],
    expect: ['ok'],
    final: 4_800_000,
  },
  {
    description: '20 % + 1 cent is held',
    start: 4_000_000,
    rounds: [4_800_001],
    expect: ['held'],
    final: 4_000_000,
  },
  {
    description: 'a 30 % jump is held, then accepted when the next round confirms it',
    start: 4_000_000,
    rounds: [5_200_000, 5_210_000],
    expect: ['held', 'ok'],
    final: 5_210_000,
  },
  {
    description: 'a single bad round is held and forgotten when prices return',
    start: 4_000_000,
    rounds: [5_200_000, 4_001_000],
    expect: ['held', 'ok'],
    final: 4_001_000,
  },
  {
    description: 'two different jumps in a row: the second replaces the held price',
    start: 4_000_000,
    rounds: [5_200_000, 8_000_000, 8_010_000],
    expect: ['held', 'held', 'ok'],
    final: 8_010_000,
  },
  {
    description:
      'a round without a price neither confirms nor ends a hold: the next agreeing round does',
    start: 4_000_000,
    rounds: [5_200_000, null, 5_200_000],
    expect: ['held', 'insufficient-sources', 'ok'],
    final: 5_200_000,
  },
  {
    description: 'a 30 % drop is held like a jump',
    start: 4_000_000,
    rounds: [2_800_000, 2_790_000],
    expect: ['held', 'ok'],
    final: 2_790_000,
  },
];

/** The regtest limits: the next round confirms a hold; a one-hour window. */
const NEXT_ROUND = { limitBps: 2_000, windowMs: 3_600_000, confirmMs: 0 };
const start = (cents: number | null): BreakerState => ({
  ...EMPTY_BREAKER,
  lastAcceptedCents: cents as Cents | null,
});

describe('circuit breaker (limit 2000 bps, the next round confirms)', () => {
  it.each(BREAKER_CASES.map((c) => [c.description, c] as const))('%s', (_, c) => {
    let state = start(c.start);
    const statuses: string[] = [];
    for (const [i, price] of c.rounds.entries()) {
      const d = decide(state, price as Cents | null, 10_000 * (i + 1), NEXT_ROUND);
      expect(d.accepted).toBe(d.status === 'ok');
      statuses.push(d.status);
      state = d.next;
    }
    expect(statuses).toEqual(c.expect);
    expect(state.lastAcceptedCents).toBe(c.final);
  });

  it('reports the move in bps, rounded down', () => {
    expect(decide(start(4_000_000), 5_200_000 as Cents, 0, NEXT_ROUND).moveBps).toBe(3_000);
    expect(decide(start(3), 4 as Cents, 0, { ...NEXT_ROUND, limitBps: 5_000 }).moveBps).toBe(3_333);
    expect(decide(start(null), 4 as Cents, 0, NEXT_ROUND).moveBps).toBeNull();
  });
});

describe('frozen untimed sources', () => {
  const p = { ...DEFAULTS, frozenAfterMs: 30_000, frozenMoveBps: 50 };
  const at = (nowMs: number) => ({ ...p, nowMs });
  const round = (a: number, b: number | 'down', live: number, tsMs: number): Answer[] => [
    { source: 'untimed', priceCents: a as Cents },
    b === 'down'
      ? { source: 'untimed-2', error: { reason: 'timeout', message: 'slow' } }
      : { source: 'untimed-2', priceCents: b as Cents },
    { source: 'timed-1', priceCents: live as Cents, sourceTs: tsMs - 1_000 },
    { source: 'timed-2', priceCents: live as Cents, sourceTs: tsMs - 1_000 },
  ];

  it('a source that failed starts again: it is not judged against the live median from before it failed', () => {
    const t0 = DEFAULTS.nowMs;
    let freeze = aggregate(round(4_000_000, 4_000_000, 4_000_000, t0), at(t0)).freeze;
    // untimed-2 fails for a while; the market moves 3 %; untimed-2 returns with its old value.
    freeze = aggregate(
      round(4_120_000, 'down', 4_120_000, t0 + 40_000),
      at(t0 + 40_000),
      freeze,
    ).freeze;
    const back = aggregate(
      round(4_120_000, 4_000_000, 4_120_000, t0 + 50_000),
      at(t0 + 50_000),
      freeze,
    );
    // Not frozen (it is new since it came back); it is simply 2.9 % off the median: an outlier.
    expect(back.answers.find((a) => a.source === 'untimed-2')?.dropped).toBe('outlier');
    // Had it answered all along with the same value, it would have been frozen.
    let steady = aggregate(round(4_000_000, 4_000_000, 4_000_000, t0), at(t0)).freeze;
    steady = aggregate(
      round(4_120_000, 4_000_000, 4_120_000, t0 + 40_000),
      at(t0 + 40_000),
      steady,
    ).freeze;
    const frozen = aggregate(
      round(4_120_000, 4_000_000, 4_120_000, t0 + 50_000),
      at(t0 + 50_000),
      steady,
    );
    expect(frozen.answers.find((a) => a.source === 'untimed-2')?.dropped).toBe('frozen');
  });
});
