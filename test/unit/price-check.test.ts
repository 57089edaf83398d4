/**
 * The wallet's own price check (SPEC §7) against four fake exchanges on loopback HTTP serving
 * their real ticker formats: the node's price is compared with what the wallet asks itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cents } from '../../core/money';
import { OwnPriceCheck, diffBps } from '../../core/wallet/price-check';
import { FakeExchange, type ExchangeKind } from '../fixtures/oracle/exchanges';

const KINDS: ExchangeKind[] = ['binance', 'coinbase', 'kraken', 'bitstamp'];
let exchanges: FakeExchange[];

beforeAll(async () => {
  exchanges = await Promise.all(KINDS.map((k) => FakeExchange.start(k, Date.now())));
});
afterAll(async () => {
  await Promise.all((exchanges ?? []).map((e) => e.close()));
});

function check(marginBps?: number): OwnPriceCheck {
  const sources = Object.fromEntries(
    exchanges.map((e) => [e.kind, { enabled: true, baseUrl: e.baseUrl }]),
  );
  return new OwnPriceCheck({
    network: 'regtest',
    overrides: { sources, threshold: 2, timeoutMs: 2_000 },
    ...(marginBps !== undefined ? { marginBps } : {}),
  });
}

function setAll(price: string) {
  for (const e of exchanges) {
    e.price = price;
    e.fault = 'none';
    e.tsMs = Date.now() - 1_000;
  }
}

describe("the wallet's own price check", () => {
  it("agrees with a node that shows the exchanges' price, and names its own sources", async () => {
    setAll('43250.12');
    const c = check();
    await c.runRound();
    const r = c.compare({ priceCents: 4_325_012 });
    expect(r).toMatchObject({
      state: 'agrees',
      priceCents: 4_325_012,
      nodePriceCents: 4_325_012,
      diffBps: 0,
      marginBps: 200,
    });
    expect(r.sources.sort()).toEqual([...KINDS].sort());
    expect(r.message).toContain('$43250.12');
  });

  it('warns when the node shows a price 5 % below the exchanges (a node walking owners into liquidation)', async () => {
    setAll('60000.00');
    const c = check();
    await c.runRound();
    const r = c.compare({ priceCents: 5_700_000 });
    expect(r.state).toBe('differs');
    expect(r.diffBps).toBe(500);
    expect(r.message).toMatch(/\$57000\.00, is 5\.00 % away from your wallet's own, \$60000\.00/);
  });

  it('the margin is inclusive and a near miss rounds toward warning', async () => {
    setAll('50000.00');
    const c = check(200);
    await c.runRound();
    expect(c.compare({ priceCents: 5_100_000 })).toMatchObject({ state: 'agrees', diffBps: 200 });
    expect(c.compare({ priceCents: 5_100_001 })).toMatchObject({ state: 'differs', diffBps: 201 });
    expect(diffBps(5_000_001 as Cents, 5_000_000 as Cents)).toBe(1);
  });

  it('says the node is unchecked when the exchanges cannot be reached, rather than agreeing', async () => {
    for (const e of exchanges) e.fault = 'http-500';
    const c = check();
    await c.runRound();
    const r = c.compare({ priceCents: 4_325_012 });
    expect(r.state).toBe('unavailable');
    expect(r.priceCents).toBeNull();
    expect(r.message).toMatch(
      /could not make a price of its own: .* The protocol node's price is unchecked\./,
    );
  });

  it('on regtest by default there is nothing to check against: it says so', () => {
    const c = new OwnPriceCheck({ network: 'regtest' });
    expect(c.enabled).toBe(false);
    expect(c.compare({ priceCents: 5_000_000 })).toMatchObject({
      state: 'not-checked',
      priceCents: null,
      diffBps: null,
    });
  });

  it('warns, rather than fails, when the node answers a price that is not a price', async () => {
    setAll('50000.00');
    const c = check();
    await c.runRound();
    for (const bad of [0, -5_000_000, 4_999_999.5]) {
      const r = c.compare({ priceCents: bad });
      expect(r.state).toBe('differs');
      expect(r.nodePriceCents).toBeNull();
      expect(r.message).toMatch(/not a price/);
    }
  });

  it('does not count the simulated source: a threshold the exchanges alone cannot reach is refused', () => {
    const sources = { binance: { enabled: true, baseUrl: exchanges[0]!.baseUrl } };
    expect(
      () =>
        new OwnPriceCheck({
          network: 'regtest',
          overrides: { sources, threshold: 2 },
        }),
    ).toThrowError(/threshold of 2 needs 2 exchanges, and 1 is enabled/);
  });

  it('refuses settings that are not valid oracle settings, with the reason', () => {
    expect(
      () => new OwnPriceCheck({ network: 'regtest', overrides: { threshold: 0 } }),
    ).toThrowError(/oracle settings for regtest are not valid: threshold/);
  });
});
