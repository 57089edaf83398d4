import { describe, expect, it } from 'vitest';
import { isBitStableError } from '../../core/errors';
import { NETWORKS } from '../../core/config/networks';
import {
  createSources,
  defaultOracleConfig,
  enabledSourceNames,
  resolveOracleConfig,
} from '../../core/oracle';

function configError(fn: () => unknown): { code: string; problems: unknown } {
  try {
    fn();
  } catch (err) {
    if (isBitStableError(err)) return { code: err.code, problems: err.data.problems };
    throw err;
  }
  throw new Error('expected INVALID_CONFIG');
}

describe('oracle configuration', () => {
  it('regtest defaults to the simulated source alone with threshold 1', () => {
    const c = resolveOracleConfig('regtest');
    expect(enabledSourceNames(c)).toEqual(['simulated']);
    expect(c.threshold).toBe(1);
    const built = createSources(c);
    expect(built.sources.map((s) => s.name)).toEqual(['simulated']);
    expect(built.simulated?.price()).toBe(c.sources.simulated.initialPriceCents);
  });

  it.each(NETWORKS.filter((n) => n !== 'regtest'))(
    '%s defaults to the four exchanges with threshold 2',
    (n) => {
      const c = resolveOracleConfig(n);
      expect(enabledSourceNames(c)).toEqual(['binance', 'coinbase', 'kraken', 'bitstamp']);
      expect(c).toMatchObject({
        threshold: 2,
        maxAgeMs: 60_000,
        maxDeviationBps: 200,
        circuitBreakerBps: 2_000,
      });
      expect(createSources(c).simulated).toBeNull();
    },
  );

  it('overrides are merged into the defaults, nested', () => {
    const c = resolveOracleConfig('mainnet', {
      threshold: 3,
      sources: { kraken: { enabled: false }, binance: { baseUrl: 'http://127.0.0.1:9/' } },
    });
    expect(enabledSourceNames(c)).toEqual(['binance', 'coinbase', 'bitstamp']);
    expect(c.sources.binance.baseUrl).toBe('http://127.0.0.1:9/');
    expect(c.sources.coinbase.baseUrl).toBe(
      defaultOracleConfig('mainnet').sources.coinbase.baseUrl,
    );
    expect(c.threshold).toBe(3);
  });

  it('defaults are not shared between calls', () => {
    const a = defaultOracleConfig('mainnet');
    a.sources.binance.enabled = false;
    expect(defaultOracleConfig('mainnet').sources.binance.enabled).toBe(true);
  });

  const BAD: [string, unknown, string][] = [
    ['not an object', 42, ''],
    ['an array', [], ''],
    ['threshold above the enabled sources', { threshold: 5 }, 'threshold'],
    ['threshold zero', { threshold: 0 }, 'threshold'],
    ['threshold fractional', { threshold: 1.5 }, 'threshold'],
    ['maxAge as a string', { maxAgeMs: '60s' }, 'maxAgeMs'],
    [
      'a non-http base URL',
      { sources: { kraken: { baseUrl: 'ftp://example.com' } } },
      'sources.kraken.baseUrl',
    ],
    ['not a URL', { sources: { kraken: { baseUrl: 'kraken' } } }, 'sources.kraken.baseUrl'],
    ['an unknown source', { sources: { gemini: { enabled: true } } }, 'sources'],
    ['an unknown key', { thresold: 2 }, 'settings'],
    ['a __proto__ key', JSON.parse('{"__proto__": {"threshold": 1}}'), 'settings'],
    [
      'every source disabled',
      {
        sources: {
          binance: { enabled: false },
          coinbase: { enabled: false },
          kraken: { enabled: false },
          bitstamp: { enabled: false },
        },
      },
      'sources',
    ],
    ['a timeout longer than maxAge', { timeoutMs: 70_000 }, 'timeoutMs'],
    ['min price above max', { minPriceCents: 10, maxPriceCents: 5 }, 'minPriceCents'],
    ['a 100.01 % deviation', { maxDeviationBps: 10_001 }, 'maxDeviationBps'],
  ];
  it.each(BAD)('refuses %s with INVALID_CONFIG naming the setting', (_, overrides, path) => {
    const e = configError(() => resolveOracleConfig('mainnet', overrides));
    expect(e.code).toBe('INVALID_CONFIG');
    // Values that are not even an object have no per-setting problems to list.
    if (path !== '')
      expect((e.problems as string[]).some((p) => p.startsWith(`${path}: `))).toBe(true);
  });
});
