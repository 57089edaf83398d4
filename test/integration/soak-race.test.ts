/**
 * The race soak, short: sixty rounds of concurrent mints, repays, withdrawals, closes,
 * exits, takes, deposits, price moves and blocks on one regtest node, every rule checked after
 * each round. The full soak (500 rounds) is `npm run soak -- race`.
 */
import { describe, expect, it } from 'vitest';
import { run, runOnPostgres } from '../../scripts/soak/race';
import { pgRuns } from '../helpers/postgres';

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

describe.skipIf(!pgRuns)('race soak on PostgreSQL, three instances (short)', () => {
  it('the same rounds with each operation sent to any of three instances on one database: no rule broken', async () => {
    const log: string[] = [];
    const result = await runOnPostgres({
      runs: 60,
      // A safety stop, not a goal: the sixty rounds take about 35 s here.
      seconds: 240,
      seed: 20_240_106,
      log: (line) => log.push(line),
    });
    expect(result.details, log.join('\n')).toEqual([]);
    expect(result.runs).toBe(60);
    const f = result.figures as Record<string, number | string>;
    expect(f.engine, result.line).toBe('postgres');
    for (const figure of ['mints', 'withdrawals', 'takes', 'liquidations', 'refusals'])
      expect(f[figure], `${figure}\n${result.line}`).toBeGreaterThan(0);
  }, 300_000);
});
