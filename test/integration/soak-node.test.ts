/**
 * The node soak, short: bitcoind stopped and restarted, then stalled with SIGSTOP and resumed.
 * The full soak (30 cycles) is `npm run soak -- node`.
 */
import { describe, expect, it } from 'vitest';
import { run } from '../../scripts/soak/node';

describe('node soak (short)', () => {
  it('goes offline within 10 s, acts on nothing while offline, and misses no block after', async () => {
    const log: string[] = [];
    // Cycle 0 stops bitcoind over RPC, cycle 1 SIGTERMs it, cycle 2 stalls it with SIGSTOP.
    const result = await run({
      runs: 3,
      seconds: 80,
      seed: 20_240_103,
      log: (line) => log.push(line),
    });
    expect(result.details, log.join('\n')).toEqual([]);
    expect(result.runs).toBe(3);
  }, 110_000);
});
