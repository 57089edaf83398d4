/**
 * The oracle soak, short: a few hundred generated price-fault scenarios. No bitcoind; it sits
 * with the integration tests because it writes real SQLite files. The full soak (10,000
 * scenarios) is `npm run soak -- oracle`.
 */
import { describe, expect, it } from 'vitest';
import { run } from '../../scripts/soak/oracle';

describe('oracle soak (short)', () => {
  it('liquidates only at accepted, fresh, quorate prices, and the circuit breaker always holds', async () => {
    const log: string[] = [];
    const result = await run({
      runs: 300,
      // A safety stop, not a goal: 300 scenarios take about 15 s here, several times that on a
      // machine busy with other work.
      seconds: 240,
      seed: 20_240_104,
      log: (line) => log.push(line),
    });
    expect(result.details, log.join('\n')).toEqual([]);
    expect(result.runs).toBe(300);
  }, 300_000);
});
