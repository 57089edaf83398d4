/**
 * The kill soak, short: a few SIGKILLs of the BitStable node as a child process and restarts.
 * The full soak (200 kills) is `npm run soak -- kill`.
 */
import { describe, expect, it } from 'vitest';
import { run } from '../../scripts/soak/kill';

describe('kill soak (short)', () => {
  it('after each SIGKILL and restart the database, ledger and chain agree and nothing was sent twice', async () => {
    const log: string[] = [];
    const result = await run({
      runs: 3,
      seconds: 75,
      seed: 20_240_101,
      log: (line) => log.push(line),
    });
    expect(result.details, log.join('\n')).toEqual([]);
    expect(result.runs).toBe(3);
  }, 110_000);
});
