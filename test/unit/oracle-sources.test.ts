/**
 * Each exchange adapter against a loopback server serving that exchange's real ticker and error
 * formats, so parsing is exercised over real HTTP.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isBitStableError } from '../../core/errors';
import {
  binanceSource,
  bitstampSource,
  coinbaseSource,
  krakenSource,
  SimulatedSource,
  type PriceSource,
} from '../../core/oracle/sources';
import type { Cents } from '../../core/money';
import { FakeExchange, PATHS, type ExchangeKind, type Fault } from '../fixtures/oracle/exchanges';
import { startServer } from '../fixtures/oracle/http-server';

const NOW = Date.UTC(2024, 0, 15, 12);
const ADAPTERS: Record<ExchangeKind, (baseUrl: string) => PriceSource> = {
  binance: (baseUrl) => binanceSource({ baseUrl }),
  coinbase: (baseUrl) => coinbaseSource({ baseUrl }),
  kraken: (baseUrl) => krakenSource({ baseUrl }),
  bitstamp: (baseUrl) => bitstampSource({ baseUrl }),
};
const KINDS = Object.keys(ADAPTERS) as ExchangeKind[];

/** The rejection's data (code matched separately), or a failure if fetch resolved. */
async function failure(
  p: Promise<unknown>,
): Promise<{ code: string; reason: unknown; source: unknown }> {
  try {
    const v = await p;
    throw new Error(`expected a rejection, got ${JSON.stringify(v)}`);
  } catch (err) {
    if (!isBitStableError(err)) throw err;
    return { code: err.code, reason: err.data.reason, source: err.data.source };
  }
}

const signal = () => AbortSignal.timeout(2_000);

describe.each(KINDS)('%s adapter over loopback HTTP', (kind) => {
  let ex: FakeExchange;
  let source: PriceSource;

  beforeAll(async () => {
    ex = await FakeExchange.start(kind, NOW);
    source = ADAPTERS[kind](ex.baseUrl);
  });
  afterAll(async () => {
    await ex?.close();
  });
  beforeEach(() => {
    ex.fault = 'none';
    ex.price = '43250.12';
    ex.tsMs = NOW - 2_000;
  });

  it('requests the exchange’s real path and parses its ticker to integer cents', async () => {
    const before = ex.requests.length;
    const quote = await source.fetch(signal());
    expect(ex.requests.slice(before)).toEqual([PATHS[kind]]);
    expect(quote.priceCents).toBe(4_325_012);
    if (kind === 'coinbase' || kind === 'bitstamp') {
      // Coinbase sends an ISO time with microseconds, Bitstamp Unix seconds; both become ms.
      expect(quote.sourceTs).toBe(NOW - 2_000);
    } else {
      expect(quote.sourceTs).toBeUndefined();
    }
  });

  it('rounds a price with more decimals half up to the cent', async () => {
    ex.price = '43250.125';
    expect((await source.fetch(signal())).priceCents).toBe(4_325_013);
    ex.price = '43250.12499999';
    expect((await source.fetch(signal())).priceCents).toBe(4_325_012);
  });

  const FAULTS: [Fault, string][] = [
    ['html', 'http'],
    ['html-200', 'not-json'],
    ['malformed', 'not-json'],
    ['http-500', 'http'],
    ['wrong-shape', 'bad-shape'],
    // Binance and Coinbase send errors with 4xx statuses; Kraken and Bitstamp with HTTP 200.
    ['exchange-error', kind === 'binance' || kind === 'coinbase' ? 'http' : 'exchange-error'],
  ];
  it.each(FAULTS)('fault %s → ORACLE_SOURCE_ERROR %s', async (fault, reason) => {
    ex.fault = fault;
    expect(await failure(source.fetch(signal()))).toEqual({
      code: 'ORACLE_SOURCE_ERROR',
      reason,
      source: kind,
    });
  });

  it.each(['0', '0.00000000', '-43250.12', '1e5', '', '999999999999.99'])(
    'price %j → ORACLE_SOURCE_ERROR bad-price (zero, negative, garbage or absurd)',
    async (price) => {
      ex.price = price;
      expect(await failure(source.fetch(signal()))).toEqual({
        code: 'ORACLE_SOURCE_ERROR',
        reason: 'bad-price',
        source: kind,
      });
    },
  );

  it('a request that outlives its AbortSignal → ORACLE_SOURCE_ERROR timeout', async () => {
    ex.fault = 'timeout';
    const started = performance.now();
    expect(await failure(source.fetch(AbortSignal.timeout(150)))).toEqual({
      code: 'ORACLE_SOURCE_ERROR',
      reason: 'timeout',
      source: kind,
    });
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it('a wrong base URL path → HTTP 404 error, not a price', async () => {
    const wrong = ADAPTERS[kind](`${ex.baseUrl}/nope`);
    expect(await failure(wrong.fetch(signal()))).toMatchObject({
      code: 'ORACLE_SOURCE_ERROR',
      reason: 'http',
    });
  });
});

describe('adapter edge cases', () => {
  it('a refused connection → ORACLE_SOURCE_ERROR network', async () => {
    const srv = await startServer(() => ({ body: '{}' }));
    const url = srv.baseUrl;
    await srv.close(); // nothing listens there any more
    expect(await failure(binanceSource({ baseUrl: url }).fetch(signal()))).toMatchObject({
      code: 'ORACLE_SOURCE_ERROR',
      reason: 'network',
    });
  });

  it('a body far larger than a ticker → ORACLE_SOURCE_ERROR too-large', async () => {
    const srv = await startServer(() => ({
      body: `{"symbol":"BTCUSDT","price":"1","pad":"${'x'.repeat(400_000)}"}`,
    }));
    try {
      expect(await failure(binanceSource({ baseUrl: srv.baseUrl }).fetch(signal()))).toMatchObject({
        reason: 'too-large',
      });
    } finally {
      await srv.close();
    }
  });

  it('Binance refuses a ticker for another symbol', async () => {
    const srv = await startServer(() => ({ body: '{"symbol":"ETHUSDT","price":"2250.10000000"}' }));
    try {
      expect(await failure(binanceSource({ baseUrl: srv.baseUrl }).fetch(signal()))).toMatchObject({
        reason: 'bad-shape',
      });
    } finally {
      await srv.close();
    }
  });

  it('Kraken: a numeric price (not Kraken’s string format) is a bad shape, never a float price', async () => {
    const body = JSON.stringify({ error: [], result: { XXBTZUSD: { c: [43250.1, '0.001'] } } });
    const srv = await startServer(() => ({ body }));
    try {
      expect(await failure(krakenSource({ baseUrl: srv.baseUrl }).fetch(signal()))).toMatchObject({
        reason: 'bad-shape',
      });
    } finally {
      await srv.close();
    }
  });

  it('Coinbase: an unparseable time → bad-timestamp; Bitstamp: a non-numeric timestamp → bad-timestamp', async () => {
    const cb = await startServer(() => ({ body: '{"price":"43250.12","time":"yesterday"}' }));
    const bs = await startServer(() => ({ body: '{"last":"43250","timestamp":"soon"}' }));
    try {
      expect(await failure(coinbaseSource({ baseUrl: cb.baseUrl }).fetch(signal()))).toMatchObject({
        reason: 'bad-timestamp',
      });
      expect(await failure(bitstampSource({ baseUrl: bs.baseUrl }).fetch(signal()))).toMatchObject({
        reason: 'bad-timestamp',
      });
    } finally {
      await cb.close();
      await bs.close();
    }
  });

  it('a base URL with a path prefix and trailing slash is joined correctly', async () => {
    const srv = await startServer((path) =>
      path === '/proxy/api/v2/ticker/btcusd/'
        ? { body: '{"last":"43250","timestamp":"1705319998"}' }
        : { status: 404, body: '' },
    );
    try {
      expect(
        (await bitstampSource({ baseUrl: `${srv.baseUrl}/proxy/` }).fetch(signal())).priceCents,
      ).toBe(4_325_000);
    } finally {
      await srv.close();
    }
  });

  it('custom bounds narrow what an adapter accepts', async () => {
    const srv = await startServer(() => ({ body: '{"symbol":"BTCUSDT","price":"43250.12"}' }));
    try {
      const src = binanceSource({
        baseUrl: srv.baseUrl,
        bounds: { minCents: 1, maxCents: 1_000_000 },
      });
      expect(await failure(src.fetch(signal()))).toMatchObject({ reason: 'bad-price' });
    } finally {
      await srv.close();
    }
  });
});

describe('SimulatedSource', () => {
  it('answers the price it was set to, fails on demand, and honours an aborted signal', async () => {
    const sim = new SimulatedSource(5_000_000 as Cents);
    expect(await sim.fetch(signal())).toEqual({ priceCents: 5_000_000 });
    sim.setPrice(5_100_000 as Cents);
    sim.setSourceTs(NOW);
    expect(await sim.fetch(signal())).toEqual({ priceCents: 5_100_000, sourceTs: NOW });
    sim.setFailure(new Error('down'));
    await expect(sim.fetch(signal())).rejects.toThrow('down');
    sim.setFailure(null);
    const aborted = AbortSignal.abort();
    expect(await failure(sim.fetch(aborted))).toMatchObject({ reason: 'aborted' });
  });

  it('without a price it fails with bad-price rather than inventing one', async () => {
    expect(await failure(new SimulatedSource().fetch(signal()))).toMatchObject({
      code: 'ORACLE_SOURCE_ERROR',
      reason: 'bad-price',
    });
  });
});
