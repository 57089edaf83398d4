/**
 * The reorg soak, short: a few reorgs of depth 1–6 around deposits, withdrawals and settlements.
 * The full soak (100 reorgs) is `npm run soak -- reorg`.
 */
import { describe, expect, it } from 'vitest';
import { run } from '../../scripts/soak/reorg';

describe('reorg soak (short)', () => {
  it('collateral always equals what the chain says at the confirmation depth', async () => {
    const log: string[] = [];
    const result = await run({
      runs: 5,
      seconds: 60,
      seed: 20_240_102,
      log: (line) => log.push(line),
    });
    expect(result.details, log.join('\n')).toEqual([]);
    expect(result.runs).toBe(5);
  }, 110_000);
});
