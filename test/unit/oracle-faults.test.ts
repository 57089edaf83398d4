/**
 * Fault tests (issue 4): four fake exchanges on loopback HTTP, each in its real format, feeding
 * the real adapters and Oracle over a real SQLite file. Each test states its expected result.
 * No fault may crash the round or put a wrong price into the database.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isBitStableError } from '../../core/errors';
import { EventBus } from '../../core/events/bus';
import {
  createSources,
  ManualClock,
  Oracle,
  OracleStore,
  priceUnavailableMessage,
  resolveOracleConfig,
} from '../../core/oracle';
import { FakeExchange, type ExchangeKind } from '../fixtures/oracle/exchanges';
import { tempDb, type TempDb } from '../fixtures/oracle/temp-db';
import { sqliteStore } from '../../core/store/sqlite';

const NOW = Date.UTC(2024, 0, 15, 12);
const KINDS: ExchangeKind[] = ['binance', 'coinbase', 'kraken', 'bitstamp'];
const TIMEOUT_MS = 300;

const ex = {} as Record<ExchangeKind, FakeExchange>;
let t: TempDb;
let clock: ManualClock;
let bus: EventBus;

beforeAll(async () => {
  for (const k of KINDS) ex[k] = await FakeExchange.start(k, NOW);
});
afterAll(async () => {
  await Promise.all(KINDS.map((k) => ex[k]?.close()));
});
beforeEach(() => {
  t = tempDb();
  clock = new ManualClock(NOW);
  bus = new EventBus();
  for (const k of KINDS) {
    ex[k].fault = 'none';
    ex[k].price = '43250.00';
    ex[k].tsMs = NOW - 2_000;
  }
});
afterEach(() => {
  t.cleanup();
});

function oracle(overrides: Record<string, unknown> = {}): Oracle {
  const config = resolveOracleConfig('mainnet', {
    timeoutMs: TIMEOUT_MS,
    sources: Object.fromEntries(KINDS.map((k) => [k, { enabled: true, baseUrl: ex[k].baseUrl }])),
    ...overrides,
  });
  return new Oracle({
    network: 'mainnet',
    config,
    sources: createSources(config).sources,
    store: new OracleStore(sqliteStore(t.db)),
    clock,
    bus,
  });
}

function priceUnavailable(o: Oracle): { code: string; status: unknown } {
  try {
    o.requireFreshPrice();
  } catch (err) {
    if (isBitStableError(err)) return { code: err.code, status: err.data.status };
    throw err;
  }
  throw new Error('expected PRICE_UNAVAILABLE');
}

/** Every price the database ever accepted. */
function acceptedPrices(): number[] {
  return (
    t.db
      .prepare('SELECT price_cents AS p FROM price_rounds WHERE accepted = 1 ORDER BY id')
      .all() as { p: number }[]
  ).map((r) => r.p);
}

describe('oracle under faulty sources', () => {
  it('baseline: four agreeing sources → ok, the median, every answer stored', async () => {
    ex.binance.price = '43250.12000000';
    ex.coinbase.price = '43250.10';
    ex.kraken.price = '43249.90000';
    ex.bitstamp.price = '43251';
    const o = oracle();
    const r = await o.runRound();
    expect(r).toMatchObject({ status: 'ok', accepted: true, priceCents: 4_325_011 });
    expect(o.requireFreshPrice()).toBe(4_325_011);
    expect(o.current()).toMatchObject({
      status: 'ok',
      sources: KINDS,
      ageMs: 0,
      roundId: r.roundId,
    });
    expect(
      (await o.round(r.roundId))!.answers.map((a) => [a.source, a.priceCents, a.dropped]),
    ).toEqual([
      ['binance', 4_325_012, null],
      ['coinbase', 4_325_010, null],
      ['kraken', 4_324_990, null],
      ['bitstamp', 4_325_100, null],
    ]);
  });

  it('one source 5 % off → dropped as an outlier; the price is unchanged', async () => {
    const o = oracle();
    await o.runRound();
    ex.kraken.price = '45412.50'; // +5 %
    const r = await o.runRound();
    expect(r).toMatchObject({
      status: 'ok',
      accepted: true,
      priceCents: 4_325_000,
      survivors: ['binance', 'coinbase', 'bitstamp'],
    });
    expect(r.answers.find((a) => a.source === 'kraken')).toMatchObject({
      priceCents: 4_541_250,
      dropped: 'outlier',
    });
    expect(acceptedPrices()).toEqual([4_325_000, 4_325_000]);
  });

  it('one source timing out → the round still succeeds with the rest, within the timeout', async () => {
    ex.coinbase.fault = 'timeout';
    const o = oracle();
    const started = performance.now();
    const r = await o.runRound();
    expect(performance.now() - started).toBeLessThan(TIMEOUT_MS + 700);
    expect(r).toMatchObject({
      status: 'ok',
      priceCents: 4_325_000,
      survivors: ['binance', 'kraken', 'bitstamp'],
    });
    expect(r.answers.find((a) => a.source === 'coinbase')).toMatchObject({
      errorReason: 'timeout',
      dropped: 'error',
      priceCents: null,
    });
  });

  it('two of four down with threshold 3 → insufficient-sources; requireFreshPrice throws PRICE_UNAVAILABLE (minting paused)', async () => {
    const o = oracle({ threshold: 3 });
    await o.runRound();
    expect(o.requireFreshPrice()).toBe(4_325_000);
    ex.binance.fault = 'http-500';
    ex.bitstamp.fault = 'timeout';
    const r = await o.runRound();
    expect(r).toMatchObject({ status: 'insufficient-sources', accepted: false, priceCents: null });
    expect(o.current()).toMatchObject({
      status: 'insufficient-sources',
      lastRoundSources: 2,
      threshold: 3,
    });
    expect(priceUnavailable(o)).toEqual({
      code: 'PRICE_UNAVAILABLE',
      status: 'insufficient-sources',
    });
    expect(acceptedPrices()).toEqual([4_325_000]);
    // Recovery: sources come back, the next round is accepted again.
    ex.binance.fault = 'none';
    ex.bitstamp.fault = 'none';
    await o.runRound();
    expect(o.requireFreshPrice()).toBe(4_325_000);
  });

  it('malformed JSON from one source → a not-json error for that source; the round succeeds', async () => {
    ex.bitstamp.fault = 'malformed';
    const r = await oracle().runRound();
    expect(r).toMatchObject({ status: 'ok', priceCents: 4_325_000 });
    expect(r.answers.find((a) => a.source === 'bitstamp')).toMatchObject({
      errorReason: 'not-json',
      dropped: 'error',
    });
  });

  it('HTML error pages from two sources (502 and 200) → http / not-json errors; the other two make the price', async () => {
    ex.binance.fault = 'html';
    ex.kraken.fault = 'html-200';
    const r = await oracle().runRound();
    expect(r).toMatchObject({
      status: 'ok',
      priceCents: 4_325_000,
      survivors: ['coinbase', 'bitstamp'],
    });
    expect(r.answers.map((a) => a.errorReason)).toEqual(['http', null, 'not-json', null]);
  });

  it('a zero price and a negative price → bad-price errors, never a price', async () => {
    ex.coinbase.price = '0.00';
    ex.kraken.price = '-43250.00000';
    const r = await oracle().runRound();
    expect(r).toMatchObject({
      status: 'ok',
      priceCents: 4_325_000,
      survivors: ['binance', 'bitstamp'],
    });
    expect(r.answers.map((a) => a.errorReason)).toEqual([null, 'bad-price', 'bad-price', null]);
  });

  it('every exchange’s own error object → a typed error per source, no price', async () => {
    for (const k of KINDS) ex[k].fault = 'exchange-error';
    const o = oracle();
    const r = await o.runRound();
    expect(r).toMatchObject({
      status: 'insufficient-sources',
      priceCents: null,
      medianCents: null,
    });
    expect(r.answers.map((a) => a.errorReason)).toEqual([
      'http',
      'http',
      'exchange-error',
      'exchange-error',
    ]);
    expect(priceUnavailable(o).code).toBe('PRICE_UNAVAILABLE');
  });

  it('a price from the future and an hour-old price → dropped (future / too-old); the other two make the price', async () => {
    ex.coinbase.tsMs = NOW + 60_000;
    ex.coinbase.price = '50000.00';
    ex.bitstamp.tsMs = NOW - 3_600_000;
    ex.bitstamp.price = '30000';
    const r = await oracle().runRound();
    expect(r).toMatchObject({
      status: 'ok',
      priceCents: 4_325_000,
      survivors: ['binance', 'kraken'],
    });
    expect(r.answers.map((a) => a.dropped)).toEqual([null, 'future', null, 'too-old']);
    // The refused prices are kept for the audit trail, but never became the price.
    expect(r.answers.map((a) => a.priceCents)).toEqual([
      4_325_000, 5_000_000, 4_325_000, 3_000_000,
    ]);
  });

  it('all sources agree on a 30 % jump → held (PRICE_UNAVAILABLE) while it stands, accepted once it has stood 10 minutes', async () => {
    const o = oracle();
    const accepted: number[] = [];
    bus.on('price.accepted', (e) => accepted.push(e.priceCents));
    await o.runRound();
    for (const k of KINDS) ex[k].price = '56225.00'; // +30 %
    clock.advance(10_000);
    const held = await o.runRound();
    expect(held).toMatchObject({
      status: 'held',
      accepted: false,
      priceCents: 5_622_500,
      moveBps: 3_000,
    });
    expect(o.current()).toMatchObject({
      status: 'held',
      priceCents: 4_325_000,
      heldPriceCents: 5_622_500,
    });
    expect(priceUnavailable(o)).toEqual({ code: 'PRICE_UNAVAILABLE', status: 'held' });

    // The next round agrees, but a mainnet hold must stand 10 minutes: still held.
    clock.advance(10_000);
    for (const k of KINDS) ex[k].tsMs = clock.now() - 1_000;
    expect(await o.runRound()).toMatchObject({
      status: 'held',
      confirmsAtMs: clock.now() + 590_000,
    });
    expect(priceUnavailableMessage(o.current())).toMatch(/accepted if it still stands in 590 s/);

    // Rounds every 10 s agree with it; at 600 s of standing it is accepted.
    for (let i = 0; i < 58; i++) {
      clock.advance(10_000);
      for (const k of KINDS) ex[k].tsMs = clock.now() - 1_000;
      expect(await o.runRound()).toMatchObject({ status: 'held' });
    }
    clock.advance(10_000);
    for (const k of KINDS) ex[k].tsMs = clock.now() - 1_000;
    const confirmed = await o.runRound();
    expect(confirmed).toMatchObject({ status: 'ok', accepted: true, priceCents: 5_622_500 });
    expect(o.requireFreshPrice()).toBe(5_622_500);
    expect(accepted).toEqual([4_325_000, 5_622_500]);
  });

  it('every fault at once → insufficient-sources, nothing crashes, no price is written', async () => {
    ex.binance.fault = 'timeout';
    ex.coinbase.fault = 'html';
    ex.kraken.fault = 'wrong-shape';
    ex.bitstamp.price = '0';
    const o = oracle();
    const r = await o.runRound();
    expect(r).toMatchObject({ status: 'insufficient-sources', priceCents: null });
    expect(r.answers.map((a) => a.errorReason)).toEqual([
      'timeout',
      'http',
      'bad-shape',
      'bad-price',
    ]);
    expect(acceptedPrices()).toEqual([]);
    expect(o.current()).toMatchObject({ priceCents: null, status: 'insufficient-sources' });
  });
});
