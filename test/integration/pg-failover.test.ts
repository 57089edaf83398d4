/**
 * Failover, short: three protocol node instances as real processes on one PostgreSQL and one
 * regtest bitcoind, a WebSocket client on each; the leader is SIGKILLed during a price drop that
 * starts auctions (scripts/soak/failover.ts has every check). The full soak (50 kills) is
 * `npm run soak -- failover`.
 */
import { describe, expect, it } from 'vitest';
import { run } from '../../scripts/soak/failover';
import { pgRuns } from '../helpers/postgres';

describe.skipIf(!pgRuns)('failover between instances (short)', () => {
  it('another instance leads within 10 s, every due auction starts once, survivors’ clients are told, nothing is taken twice', async () => {
    const log: string[] = [];
    const result = await run({
      runs: 3,
      // A safety stop: three runs take about 40 s here.
      seconds: 240,
      seed: 20_261_203,
      log: (line) => log.push(line),
    });
    expect(result.details, log.join('\n')).toEqual([]);
    expect(result.runs).toBe(3);
    const f = result.figures as Record<string, number>;
    expect(f.kills, result.line).toBe(3);
    expect(f.auctions, result.line).toBe(9);
    expect(f.max_lead_ms, result.line).toBeLessThanOrEqual(10_000);
    // Two survivors took the same lot at once each run: one of the two was refused.
    expect(f.takes_refused, result.line).toBe(3);
  }, 300_000);
});
