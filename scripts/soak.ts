/**
 * `npm run soak`: every soak in scripts/soak/ at full size, one after another, each printing its
 * line `soak <name> runs=<n> failures=<f> …`; exits non-zero if any soak failed or was cut short.
 *
 *   npm run soak                      all of them
 *   npm run soak -- kill reorg        some of them
 *   npm run soak -- kill --runs 20    a smaller (or larger) count; also --seconds S, --seed N
 *
 * A soak is any scripts/soak/<name>.ts exporting `run(options)` (and `defaults`), so a new one
 * needs no change here. Progress goes to stderr; stdout carries only the soak lines.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SoakModule } from './soak/lib/types';

/** The order of the list; any other soak runs after these, by name. */
const ORDER = ['kill', 'reorg', 'node', 'oracle', 'input'];
const FALLBACK = { runs: 100, seconds: 600 };

function parseArgs(argv: string[]) {
  const names: string[] = [];
  const numbers: { runs?: number; seconds?: number; seed?: number } = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const flag = /^--(runs|seconds|seed)(?:=(.*))?$/.exec(arg);
    if (flag) {
      const text = flag[2] ?? argv[++i];
      const value = Number(text);
      if (!text || !Number.isSafeInteger(value) || value < 0) {
        throw new Error(`--${flag[1]} needs a whole number; got ${String(text)}.`);
      }
      numbers[flag[1] as 'runs' | 'seconds' | 'seed'] = value;
    } else if (arg.startsWith('-')) {
      throw new Error(`Unknown option ${arg}. Use --runs N, --seconds S or --seed N.`);
    } else {
      names.push(arg);
    }
  }
  return { names, ...numbers };
}

function available(dir: string): string[] {
  const rank = (n: string) => (ORDER.includes(n) ? ORDER.indexOf(n) : ORDER.length);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => f.slice(0, -3))
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const dir = join(import.meta.dirname, 'soak');
  const all = available(dir);
  const unknown = args.names.filter((n) => !all.includes(n));
  if (unknown.length) {
    console.error(`No soak named ${unknown.join(', ')}. Soaks: ${all.join(', ')}.`);
    return 2;
  }
  const chosen = args.names.length ? all.filter((n) => args.names.includes(n)) : all;
  let failed = 0;
  for (const name of chosen) {
    const mod = (await import(pathToFileURL(join(dir, `${name}.ts`)).href)) as Partial<SoakModule>;
    if (typeof mod.run !== 'function') continue;
    const runs = args.runs ?? mod.defaults?.runs ?? FALLBACK.runs;
    const seconds = args.seconds ?? mod.defaults?.seconds ?? FALLBACK.seconds;
    const log = (line: string) =>
      process.stderr.write(`[${name} ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
    try {
      const result = await mod.run({
        runs,
        seconds,
        log,
        ...(args.seed !== undefined ? { seed: args.seed } : {}),
      });
      if (result.failures > 0 || result.runs < runs) {
        failed++;
        for (const d of result.details) log(`failure: ${d}`);
      }
    } catch (err) {
      // A soak that could not even set up (no bitcoind, a port in use) still prints its line.
      failed++;
      log(String((err as Error)?.stack ?? err));
      console.log(
        `soak ${name} runs=0 failures=1 error=${JSON.stringify(String((err as Error)?.message ?? err))}`,
      );
    }
  }
  return failed === 0 ? 0 : 1;
}

const code = await main().catch((err: unknown) => {
  console.error(err);
  return 2;
});
// Exit now: everything the soaks started is stopped, but a stopped bitcoind's leftover timers
// would otherwise hold the process for another 20 s.
process.exit(code);
