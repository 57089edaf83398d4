/**
 * The oracle (SPEC §7): every `intervalMs` it asks all sources at once, aggregates their
 * answers, passes the result through the circuit breaker, stores the whole round in one
 * transaction, and announces it. It is the app's PriceFeed.
 */
import type { NetworkName } from '../config/networks';
import { BitStableError, isBitStableError } from '../errors';
import type { EventBus } from '../events/bus';
import type { Cents } from '../money';
import { aggregate, type Answer, type AnswerOutcome, type FreezeState } from './aggregate';
import {
  decide,
  EMPTY_BREAKER,
  replayWindow,
  within,
  type BreakerState,
  type RoundStatus,
} from './breaker';
import { systemClock, type Clock } from './clock';
import type { OracleConfig } from './config';
import { requireFresh, type PriceFeed, type PriceState, type PriceStatus } from './feed';
import { sourceError, sourceErrorReason } from './source-error';
import { checkBounds } from './sources/price';
import type { PriceSource, SourceQuote } from './sources/types';
import type { HistoryPoint, OracleStore, StoredRound } from './store';

/** The store operations the oracle uses (OracleStore, or a stand-in for benches). */
export type RoundStore = Pick<
  OracleStore,
  'saveRound' | 'lastAccepted' | 'latestRound' | 'history' | 'round' | 'acceptedSince' | 'rounds'
>;

/** The subset of a pino logger the oracle writes to. */
export interface OracleLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface OracleOptions {
  network: NetworkName;
  config: OracleConfig;
  sources: readonly PriceSource[];
  store: RoundStore;
  clock?: Clock;
  bus?: EventBus;
  logger?: OracleLogger;
}

/** What one round did. */
export interface RoundResult {
  roundId: number;
  ts: number;
  status: RoundStatus;
  accepted: boolean;
  /** The round's aggregated price (held or accepted); null without enough sources. */
  priceCents: Cents | null;
  medianCents: Cents | null;
  moveBps: number | null;
  survivors: string[];
  answers: AnswerOutcome[];
  /** Our clock's estimated offset from the timed sources; null when not estimated. */
  clockSkewMs: number | null;
  /** Held: when it is accepted if it stands. */
  confirmsAtMs: number | null;
}

interface Accepted {
  id: number;
  ts: number;
  priceCents: Cents;
  sources: string[];
}

interface Latest {
  id: number;
  ts: number;
  status: RoundStatus;
  priceCents: Cents | null;
  survivors: number;
  clockSkewMs: number | null;
  confirmsAtMs: number | null;
  frozen: string[];
}

/** Aggregates BTC/USD from several sources into one price the vault core can trust. */
export class Oracle implements PriceFeed {
  readonly network: NetworkName;
  readonly config: OracleConfig;
  private readonly sources: readonly PriceSource[];
  private readonly store: RoundStore;
  private readonly clock: Clock;
  private readonly bus: EventBus | undefined;
  private readonly logger: OracleLogger | undefined;

  private accepted: Accepted | null = null;
  private latest: Latest | null = null;
  private breaker: BreakerState = EMPTY_BREAKER;
  private freeze: FreezeState = new Map();
  /** Accepted prices back to the one in effect `priceDelayMs` ago: the delayed price's source. */
  private delayLog: { id: number; ts: number; cents: Cents }[] = [];

  private chain: Promise<unknown> = Promise.resolve();
  private running = false;
  private generation = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(options: OracleOptions) {
    this.network = options.network;
    this.config = options.config;
    this.sources = [...options.sources];
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.bus = options.bus;
    this.logger = options.logger;
    checkSources(this.sources, this.config.threshold);
    // Rounds queue behind reading back the last accepted price and breaker window.
    this.chain = this.restore();
  }

  /**
   * Reads the accepted price, breaker window and last round back from the store, after any round
   * in progress: how an instance that does not run rounds follows the one that does.
   */
  refresh(): Promise<void> {
    const run = this.chain.then(() => this.restore());
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Resolves once the oracle has read its state back from the store (rejects if it could not). */
  ready(): Promise<void> {
    return this.chain.then(() => undefined);
  }

  /** Starts rounds every `intervalMs` (the first at once); does nothing if already running. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const gen = ++this.generation;
    this.schedule(gen, 0);
  }

  /** Stops scheduling rounds and waits for a round in progress to be stored. */
  async stop(): Promise<void> {
    this.running = false;
    this.generation++;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.chain;
  }

  /** Runs one round now (after any round in progress); rejects only if storing fails. */
  runRound(): Promise<RoundResult> {
    const run = this.chain.then(() => this.doRound());
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** The current oracle price and whether it may be used. */
  current(): PriceState {
    const now = this.clock.now();
    const { accepted, latest } = this;
    const maxAge = this.config.maxAgeMs;
    const ageMs = accepted ? Math.max(0, now - accepted.ts) : null;
    let status: PriceStatus;
    // A fresh round that failed or was held outranks an older accepted price: minting must
    // pause the moment sources disagree or vanish, not a minute later.
    if (latest && now - latest.ts <= maxAge && latest.status !== 'ok') status = latest.status;
    else if (ageMs === null || ageMs > maxAge) status = 'stale';
    else status = 'ok';
    const delay = this.delayed(now);
    const held = status === 'held';
    return {
      priceCents: accepted?.priceCents ?? null,
      status,
      ageMs,
      sources: accepted ? [...accepted.sources] : [],
      roundId: accepted?.id ?? null,
      heldPriceCents: held ? (latest?.priceCents ?? null) : null,
      heldConfirmsInMs:
        held && latest?.confirmsAtMs != null ? Math.max(0, latest.confirmsAtMs - now) : null,
      lastRoundId: latest?.id ?? null,
      lastRoundSources: latest?.survivors ?? 0,
      threshold: this.config.threshold,
      maxAgeMs: maxAge,
      delayMs: this.config.priceDelayMs,
      delayedPriceCents: delay.delayed,
      liquidationPriceCents: delay.current,
      nextLiquidationPrice: delay.next,
      clockSkewMs: latest?.clockSkewMs ?? null,
      frozenSources: latest ? [...latest.frozen] : [],
    };
  }

  /**
   * The price liquidations use: the higher of the current price and the one of `priceDelayMs`
   * ago, so a fall is acted on only once it has lasted the delay (and a one-round spike never);
   * and, while it is above the current price, when it reaches the current price if that stays.
   */
  private delayed(now: number): {
    delayed: Cents | null;
    current: Cents | null;
    next: PriceState['nextLiquidationPrice'];
  } {
    const delayMs = this.config.priceDelayMs;
    const latest = this.accepted?.priceCents ?? null;
    if (delayMs === 0) return { delayed: latest, current: latest, next: null };
    const cutoff = now - delayMs;
    let delayed: Cents | null = null;
    let reachesLatestAt: number | null = null;
    for (const [i, e] of this.delayLog.entries()) {
      if (e.ts <= cutoff) delayed = e.cents;
      // The delayed price comes down to the current one a delay after the last price above it.
      if (latest !== null && e.cents > latest)
        reachesLatestAt = (this.delayLog[i + 1]?.ts ?? now) + delayMs;
    }
    if (delayed === null || latest === null) return { delayed, current: null, next: null };
    if (delayed <= latest) return { delayed, current: latest, next: null };
    // A fall not yet a delay old: if the price stays, liquidations act on it from then.
    return {
      delayed,
      current: delayed,
      next: { priceCents: latest, effectiveAtMs: reachesLatestAt ?? cutoff + delayMs },
    };
  }

  /** The price when it may be used; otherwise throws PRICE_UNAVAILABLE saying why. */
  requireFreshPrice(): Cents {
    return requireFresh(this.current());
  }

  /** Accepted prices in [fromMs, toMs], downsampled to at most `maxPoints` for charts. */
  async history(fromMs: number, toMs: number, maxPoints: number): Promise<HistoryPoint[]> {
    return await this.store.history(this.network, fromMs, toMs, maxPoints);
  }

  /** One stored round with every source's answer. */
  async round(id: number): Promise<StoredRound | null> {
    return await this.store.round(id);
  }

  private async restore(): Promise<void> {
    const now = this.clock.now();
    const c = this.config;
    const acc = await this.store.lastAccepted(this.network);
    if (acc && acc.priceCents !== null) {
      this.accepted = {
        id: acc.id,
        ts: acc.ts,
        priceCents: acc.priceCents,
        sources: acc.sourcesUsed,
      };
      const window = (await this.store.acceptedSince(this.network, now - c.breakerWindowMs))
        .filter((e) => now - e.ts <= c.breakerWindowMs)
        .map((e) => ({ ts: e.ts, cents: e.cents }));
      this.breaker = {
        lastAcceptedCents: acc.priceCents,
        window: replayWindow(window, c.circuitBreakerBps),
        held: null,
      };
      if (c.priceDelayMs > 0)
        this.delayLog = await this.store.acceptedSince(this.network, now - c.priceDelayMs);
    }
    const last = await this.store.latestRound(this.network);
    // A held price survives a restart within maxAge; its standing time is read back from the
    // unbroken run of held rounds that agreed with it, so restarting neither shortens nor
    // lengthens a hold.
    const held = await this.restoreHeld(now);
    if (held) this.breaker = { ...this.breaker, held };
    if (last) {
      this.latest = {
        id: last.id,
        ts: last.ts,
        status: last.status,
        priceCents: last.priceCents,
        survivors: last.sourcesUsed.length,
        clockSkewMs: null,
        confirmsAtMs: last.status === 'held' ? last.ts + c.breakerConfirmMs : null,
        frozen: [],
      };
    }
  }

  private async restoreHeld(now: number): Promise<BreakerState['held']> {
    const c = this.config;
    const recent = await this.store.rounds(
      this.network,
      now - c.breakerConfirmMs - 2 * c.maxAgeMs,
      now,
      100_000,
    );
    const lastHeld = [...recent].reverse().find((r) => r.status !== 'insufficient-sources');
    if (!lastHeld || lastHeld.status !== 'held' || lastHeld.priceCents === null) return null;
    if (now - lastHeld.ts > c.maxAgeMs) return null;
    let first = lastHeld;
    let rounds = 0;
    let low = lastHeld.priceCents;
    let high = lastHeld.priceCents;
    for (let i = recent.indexOf(lastHeld) - 1; i >= 0; i--) {
      const r = recent[i]!;
      if (first.ts - r.ts > c.maxAgeMs) break;
      if (r.status === 'insufficient-sources') continue;
      if (r.status !== 'held' || r.priceCents === null) break;
      if (!within(r.priceCents, lastHeld.priceCents, c.circuitBreakerBps)) break;
      first = r;
      rounds++;
      if (r.priceCents < low) low = r.priceCents;
      if (r.priceCents > high) high = r.priceCents;
    }
    return {
      cents: first.priceCents!,
      sinceMs: first.ts,
      lastMs: lastHeld.ts,
      rounds,
      lowCents: low,
      highCents: high,
    };
  }

  private schedule(gen: number, delayMs: number): void {
    this.timer = setTimeout(() => void this.tick(gen), delayMs);
    // The app's windows and servers keep the process alive; a price timer alone should not.
    this.timer.unref();
  }

  private async tick(gen: number): Promise<void> {
    if (gen !== this.generation) return;
    const started = performance.now();
    try {
      await this.runRound();
    } catch (err) {
      this.logger?.error({ err, network: this.network }, 'oracle round failed');
    }
    if (gen !== this.generation) return;
    this.schedule(gen, Math.max(0, this.config.intervalMs - (performance.now() - started)));
  }

  private async doRound(): Promise<RoundResult> {
    const answers = await Promise.all(this.sources.map((s) => this.ask(s)));
    const c = this.config;
    const ts = this.clock.now();
    const agg = aggregate(
      answers,
      {
        nowMs: ts,
        maxAgeMs: c.maxAgeMs,
        futureSkewMs: c.futureSkewMs,
        maxDeviationBps: c.maxDeviationBps,
        threshold: c.threshold,
        maxClockSkewMs: c.maxClockSkewMs,
        frozenAfterMs: c.frozenAfterMs,
        frozenMoveBps: c.frozenMoveBps,
      },
      this.freeze,
    );
    const d = decide(this.breaker, agg.priceCents, ts, {
      limitBps: c.circuitBreakerBps,
      windowMs: c.breakerWindowMs,
      confirmMs: c.breakerConfirmMs,
      // Half the rounds the standing time spans must agree: a clock jump alone confirms nothing.
      minRounds: Math.max(1, Math.floor(c.breakerConfirmMs / c.intervalMs / 2)),
      maxGapMs: c.maxAgeMs,
    });
    const id = await this.store.saveRound({
      network: this.network,
      ts,
      priceCents: agg.priceCents,
      medianCents: agg.medianCents,
      status: d.status,
      accepted: d.accepted,
      threshold: c.threshold,
      moveBps: d.moveBps,
      sourcesUsed: agg.survivors,
      answers: agg.answers,
    });
    // Memory changes only after the commit, so a failed write never leaves a price unrecorded.
    this.breaker = d.next;
    this.freeze = agg.freeze;
    this.latest = {
      id,
      ts,
      status: d.status,
      priceCents: agg.priceCents,
      survivors: agg.survivors.length,
      clockSkewMs: agg.clockSkewMs,
      confirmsAtMs: d.confirmsAtMs,
      frozen: agg.answers.filter((a) => a.dropped === 'frozen').map((a) => a.source),
    };
    if (d.accepted && agg.priceCents !== null) {
      this.accepted = { id, ts, priceCents: agg.priceCents, sources: agg.survivors };
      if (c.priceDelayMs > 0) this.logForDelay({ id, ts, cents: agg.priceCents });
    }
    this.logOutcome(agg.answers, d.status);
    this.bus?.emit('price.round', {
      roundId: id,
      priceCents: agg.priceCents,
      status: d.status,
      accepted: d.accepted,
    });
    if (d.accepted && agg.priceCents !== null) {
      this.bus?.emit('price.accepted', { roundId: id, priceCents: agg.priceCents, ts });
    }
    return {
      roundId: id,
      ts,
      status: d.status,
      accepted: d.accepted,
      priceCents: agg.priceCents,
      medianCents: agg.medianCents,
      moveBps: d.moveBps,
      survivors: agg.survivors,
      answers: agg.answers,
      clockSkewMs: agg.clockSkewMs,
      confirmsAtMs: d.confirmsAtMs,
    };
  }

  /** Keeps accepted prices back to the one in effect a delay ago; drops what is older. */
  private logForDelay(e: { id: number; ts: number; cents: Cents }): void {
    this.delayLog.push(e);
    const cutoff = e.ts - this.config.priceDelayMs;
    let keepFrom = 0;
    for (let i = 0; i < this.delayLog.length; i++) if (this.delayLog[i]!.ts <= cutoff) keepFrom = i;
    if (keepFrom > 0) this.delayLog.splice(0, keepFrom);
  }

  /** Asks one source under a hard timeout; every failure becomes an error answer, never a throw. */
  private async ask(source: PriceSource): Promise<Answer> {
    const { timeoutMs } = this.config;
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    // Racing the timer as well as passing the signal: a source that ignores its signal still
    // cannot hold the round past the timeout.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError'));
        reject(sourceError(source.name, 'timeout', `no answer within ${timeoutMs} ms.`));
      }, timeoutMs);
    });
    try {
      const quote = await Promise.race([
        Promise.resolve().then(() => source.fetch(controller.signal)),
        deadline,
      ]);
      return { ...this.checkQuote(source.name, quote), receivedMs: this.clock.now() };
    } catch (err) {
      const timedOut = controller.signal.aborted;
      return {
        source: source.name,
        error: {
          reason: timedOut ? 'timeout' : sourceErrorReason(err),
          message: timedOut
            ? `Price source ${source.name}: no answer within ${timeoutMs} ms.`
            : describe(source.name, err),
        },
      };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Re-checks what a source returned: any PriceSource, not only ours, must pass the bounds. */
  private checkQuote(
    name: string,
    quote: SourceQuote,
  ): { source: string; priceCents: Cents; sourceTs: number | undefined } {
    const priceCents = checkBounds(name, quote?.priceCents, {
      minCents: this.config.minPriceCents,
      maxCents: this.config.maxPriceCents,
    });
    const ts = quote.sourceTs;
    if (ts !== undefined && (!Number.isSafeInteger(ts) || ts <= 0)) {
      throw sourceError(name, 'bad-timestamp', 'the source gave a timestamp that is not a time.');
    }
    return { source: name, priceCents, sourceTs: ts };
  }

  private logOutcome(answers: AnswerOutcome[], status: RoundStatus): void {
    const dropped = answers.filter((a) => a.dropped !== null);
    if (dropped.length === 0 && status === 'ok') return;
    this.logger?.warn(
      {
        network: this.network,
        status,
        dropped: dropped.map((a) => ({ source: a.source, why: a.dropped, reason: a.errorReason })),
      },
      'oracle round dropped sources',
    );
  }
}

function describe(source: string, err: unknown): string {
  if (isBitStableError(err)) return err.message;
  const text = err instanceof Error ? err.message : String(err);
  return `Price source ${source}: failed unexpectedly (${text.slice(0, 120)}).`;
}

function checkSources(sources: readonly PriceSource[], threshold: number): void {
  const names = sources.map((s) => s.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) {
    throw new BitStableError(
      'INVALID_CONFIG',
      `Two price sources are both named "${dup}"; each needs its own name.`,
      { source: dup },
    );
  }
  if (sources.length < threshold) {
    throw new BitStableError(
      'INVALID_CONFIG',
      `The oracle needs ${threshold} agreeing sources but only ${sources.length} are configured, so it could never produce a price.`,
      { threshold, sources: sources.length },
    );
  }
}
