/**
 * The race soak, short: sixty rounds of concurrent mints, repays, withdrawals, closes,
 * exits, takes, deposits, price moves and blocks on one regtest node, every rule checked after
 * each round. The full soak (500 rounds) is `npm run soak -- race`.
 */
import { describe, expect, it } from 'vitest';
import { run } from '../../scripts/soak/race';

describe('race soak (short)', () => {
  it('operations fired at once are refused with a code or done, and never break a rule', async () => {
    const log: string[] = [];
    const result = await run({
      runs: 60,
      // A safety stop, not a goal: the sixty rounds take about 30 s here, more on a busy machine.
      seconds: 240,
      seed: 20_240_106,
      log: (line) => log.push(line),
    });
    expect(result.details, log.join('\n')).toEqual([]);
    expect(result.runs).toBe(60);
    const f = result.figures as Record<string, number>;
    for (const figure of ['mints', 'withdrawals', 'takes', 'liquidations', 'refusals'])
      expect(f[figure], `${figure}\n${result.line}`).toBeGreaterThan(0);
    expect(f.closes! + f.exits!, result.line).toBeGreaterThan(0);
    expect(f.refusals!, result.line).toBeLessThan(f.ops!);
  }, 300_000);
});
