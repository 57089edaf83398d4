/**
 * The oracle soak's scenarios: per scenario a source count, threshold and breaker limit, vault
 * ratios around the thresholds, and a list of rounds saying what each source answers — clean
 * prices, stale or future timestamps, outliers, errors, hangs, spikes, crashes, splits and gaps.
 */
import { Rng } from './rng';
import type { Injected } from './oracle-rules';

export interface RoundPlan {
  /** Clock advance before the round. */
  advanceMs: number;
  answers: Injected[];
}

export const SCENARIO_TYPES = {
  calm: 2,
  stale: 3,
  future: 2,
  outlier: 3,
  quorum: 3,
  spike: 4,
  crash: 4,
  'double-spike': 2,
  'spike-then-short': 2,
  gap: 2,
  split: 2,
  hang: 0.3,
  mix: 6,
  // The attacks of "The peg and the price": sub-limit steps, untimed sources that freeze while
  // the others move, and a local clock off from the exchanges'.
  walk: 3,
  frozen: 3,
  skew: 3,
} as const;
export type ScenarioType = keyof typeof SCENARIO_TYPES;

export interface ScenarioPlan {
  type: ScenarioType;
  sources: number;
  threshold: number;
  breakerBps: number;
  /** How long a held price must stand (0: the next round confirms it). */
  confirmMs: number;
  basePriceCents: number;
  /** Target collateral ratio (bps) per vault; 0 = no debt. */
  ratios: number[];
  rounds: RoundPlan[];
}

/** One scenario's plan, from its own seeded generator (so a scenario replays from its seed). */
export function planScenario(
  rng: Rng,
  vaults: number,
  c: { maxAgeMs: number; futureSkewMs: number },
  startMs: number,
): ScenarioPlan {
  const type = rng.weighted<ScenarioType>({ ...SCENARIO_TYPES });
  const sources = rng.int(3, 5);
  const threshold = rng.int(2, Math.min(3, sources - 1));
  const breakerBps = rng.pick([1_000, 2_000, 3_000]);
  const confirmMs = rng.pick([0, 0, 20_000, 45_000]);
  // walk: each round a step just inside the limit, one way; frozen: which sources stand still;
  // skew: how far our clock is off the exchanges' (negative: ours is fast).
  const step = 1 + ((rng.chance(0.5) ? -1 : 1) * (breakerBps - rng.int(1, 300))) / 10_000;
  const frozenSet = new Set(rng.chance(0.5) ? [0] : [0, 1]);
  const skewMs = rng.pick([-95_000, -61_000, -31_000, -6_000, 6_000, 29_000, 40_000]);
  let frozenAt: number | null = null;
  const basePriceCents = rng.int(20_000_00, 120_000_00);
  const ratios = Array.from({ length: vaults }, () =>
    rng.chance(0.15) ? 0 : rng.chance(0.5) ? rng.int(15_010, 17_000) : rng.int(15_010, 40_000),
  );

  const rounds: RoundPlan[] = [];
  let truth = basePriceCents;
  const count = rng.int(4, 14);
  const spikeAt = rng.int(0, count - 2);
  const noise = (p: number) => Math.max(10_000, Math.round(p * (1 + (rng.next() * 2 - 1) * 0.004)));
  const freshTs = (now: number): number | undefined =>
    rng.weighted({
      none: 4,
      fresh: 4,
      edge: 1,
      ahead: 1,
    }) === 'none'
      ? undefined
      : rng.chance(0.1)
        ? now - c.maxAgeMs // exactly the oldest allowed
        : rng.chance(0.15)
          ? now + rng.int(0, c.futureSkewMs) // ahead, but inside the skew
          : now - rng.int(0, c.maxAgeMs - 1);
  const staleTs = (now: number) => now - c.maxAgeMs - rng.int(1, 600_000);
  const futureTs = (now: number) => now + c.futureSkewMs + rng.int(1, 100_000);
  const bigMove = () => {
    const up = rng.chance(0.4);
    const size = rng.int(breakerBps + 50, up ? 9_000 : 7_000);
    return up ? 1 + size / 10_000 : 1 - size / 10_000;
  };

  let now = startMs; // the scenario's ManualClock follows the same advances
  let spikeFactor = 1;
  let secondSpike = 1;
  for (let k = 0; k < count; k++) {
    let advanceMs = rng.int(1_000, 15_000);
    if (type === 'frozen') advanceMs = rng.int(5_000, 15_000);
    if (type === 'gap' && rng.chance(0.4)) advanceMs = c.maxAgeMs + rng.int(1, 300_000);
    now += advanceMs;
    const answers: Injected[] = [];
    const ok = (p: number): Injected => ({ kind: 'price', priceCents: noise(p), ts: freshTs(now) });
    if (k === 0) {
      // The first round is clean: it sets the base price the vaults are minted at.
      for (let i = 0; i < sources; i++)
        answers.push({ kind: 'price', priceCents: truth, ts: undefined });
      rounds.push({ advanceMs, answers });
      continue;
    }
    let roundTruth = truth;
    switch (type) {
      case 'calm':
        truth = Math.round(truth * (1 + (rng.next() * 2 - 1) * 0.03));
        roundTruth = truth;
        break;
      case 'spike':
        if (k === spikeAt + 1) roundTruth = Math.round(truth * bigMove());
        break;
      case 'double-spike':
        if (k === spikeAt + 1) roundTruth = Math.round(truth * (spikeFactor = bigMove()));
        if (k === spikeAt + 2) roundTruth = Math.round(truth * (secondSpike = bigMove()));
        if (k === spikeAt + 3 && rng.chance(0.5)) roundTruth = Math.round(truth * secondSpike);
        break;
      case 'crash':
        if (k === spikeAt + 1)
          truth = Math.round(
            truth * (rng.chance(0.75) ? 1 - rng.int(500, 6_500) / 10_000 : bigMove()),
          );
        roundTruth = truth;
        break;
      case 'spike-then-short':
        if (k === spikeAt + 1 || k === spikeAt + 3)
          roundTruth = Math.round(
            truth * (spikeFactor === 1 ? (spikeFactor = bigMove()) : spikeFactor),
          );
        break;
      case 'walk':
        if (k >= spikeAt + 1) truth = Math.round(truth * step);
        roundTruth = truth;
        break;
      case 'frozen':
        if (k > spikeAt + 2 && rng.chance(0.5))
          truth = Math.round(
            truth * (1 + ((rng.chance(0.5) ? -1 : 1) * rng.int(30, 600)) / 10_000),
          );
        roundTruth = truth;
        break;
      case 'skew':
        roundTruth = truth;
        break;
      default:
        if (rng.chance(0.15))
          truth = Math.round(
            truth * (rng.chance(0.5) ? bigMove() : 1 + (rng.next() * 2 - 1) * 0.05),
          );
        roundTruth = truth;
    }
    for (let i = 0; i < sources; i++) {
      let a: Injected = ok(roundTruth);
      switch (type) {
        case 'stale':
          if (rng.chance(0.45))
            a = {
              kind: 'price',
              priceCents: noise(rng.chance(0.5) ? roundTruth : roundTruth * 0.6),
              ts: staleTs(now),
            };
          break;
        case 'future':
          if (rng.chance(0.4))
            a = {
              kind: 'price',
              priceCents: noise(roundTruth * (rng.chance(0.5) ? 1 : 0.5)),
              ts: futureTs(now),
            };
          break;
        case 'outlier':
          if (rng.chance(0.35)) {
            const off = rng.pick([0.015, 0.019, 0.021, 0.025, 0.05, 0.1, 0.3, 0.6]);
            a = {
              kind: 'price',
              priceCents: Math.round(roundTruth * (rng.chance(0.6) ? 1 - off : 1 + off)),
              ts: freshTs(now),
            };
          }
          break;
        case 'quorum':
        case 'spike-then-short':
          if (rng.chance(type === 'quorum' ? 0.5 : k === spikeAt + 2 ? 0.9 : 0.1))
            a = { kind: 'error' };
          break;
        case 'split':
          if (i % 2 === 1)
            a = {
              kind: 'price',
              priceCents: noise(roundTruth * rng.pick([0.9, 0.95, 0.97, 1.03])),
              ts: freshTs(now),
            };
          break;
        case 'hang':
          if (i === 0 && rng.chance(0.5)) a = { kind: 'hang' };
          break;
        case 'walk':
          a = {
            kind: 'price',
            priceCents: roundTruth,
            ts: rng.chance(0.5) ? now - 1_000 : undefined,
          };
          break;
        case 'frozen':
          if (frozenSet.has(i)) {
            frozenAt ??= roundTruth;
            a = { kind: 'price', priceCents: frozenAt, ts: undefined };
          } else
            a = {
              kind: 'price',
              priceCents: noise(roundTruth),
              ts: rng.chance(0.6) ? now - rng.int(0, 3_000) : undefined,
            };
          break;
        case 'skew':
          a = {
            kind: 'price',
            priceCents: noise(roundTruth),
            ts: rng.chance(0.25) ? undefined : now + skewMs - rng.int(0, 4_000),
          };
          break;
        case 'spike':
        case 'double-spike':
          // Most sources follow the spike; one may lag behind.
          if (roundTruth !== truth && rng.chance(0.15)) a = ok(truth);
          break;
        case 'mix': {
          const f = rng.weighted({
            ok: 55,
            stale: 8,
            future: 5,
            error: 10,
            outlier: 12,
            crash: 6,
            hang: 0.5,
            spike: 3.5,
          });
          if (f === 'stale')
            a = {
              kind: 'price',
              priceCents: noise(roundTruth * (rng.chance(0.5) ? 1 : 0.5)),
              ts: staleTs(now),
            };
          else if (f === 'future')
            a = {
              kind: 'price',
              priceCents: noise(roundTruth * (rng.chance(0.5) ? 1 : 0.5)),
              ts: futureTs(now),
            };
          else if (f === 'error') a = { kind: 'error' };
          else if (f === 'hang') a = { kind: 'hang' };
          else if (f === 'outlier')
            a = ok(roundTruth * (1 + ((rng.chance(0.5) ? -1 : 1) * rng.int(150, 6_000)) / 10_000));
          else if (f === 'crash') a = ok(roundTruth * 0.4);
          else if (f === 'spike') a = ok(roundTruth * bigMove());
          break;
        }
        default:
          break;
      }
      answers.push(a);
    }
    rounds.push({ advanceMs, answers });
  }
  return { type, sources, threshold, breakerBps, confirmMs, basePriceCents, ratios, rounds };
}
