/**
 * Failure bookkeeping and the one result line every soak prints.
 */
import type { SoakOptions, SoakResult } from './types';

const MAX_DETAILS = 50;

/** Counts failures, keeps the first few sentences, and logs each as it happens. */
export class Failures {
  count = 0;
  readonly details: string[] = [];

  constructor(private readonly log: (line: string) => void) {}

  /** Records one failure. */
  add(message: string): void {
    this.count++;
    if (this.details.length < MAX_DETAILS) this.details.push(message);
    this.log(`FAILURE ${message}`);
  }

  private readonly seen = new Set<string>();

  /**
   * Ends one run: it failed if it found a problem no earlier run found. A broken state that
   * persists (a vault left wrong) is one failure, not one per run after it; repeats are logged.
   * A problem is its text, or `{ key, text }` to compare by `key` (without the run's details).
   */
  endRun(where: string, problems: (string | { key: string; text: string })[], suffix = ''): void {
    const all = problems.map((p) => (typeof p === 'string' ? { key: p, text: p } : p));
    const fresh = all.filter((p) => !this.seen.has(p.key));
    for (const p of all) this.seen.add(p.key);
    if (fresh.length)
      this.add(`${where}: ${fresh.length} new problem(s), the first: ${fresh[0]!.text}${suffix}`);
    else if (all.length) this.log(`${where}: ${all.length} problem(s) seen before, still there`);
  }

  /** Records a failure when `ok` is false; returns `ok`. */
  check(ok: boolean, message: () => string): boolean {
    if (!ok) this.add(message());
    return ok;
  }
}

/** A seed from the options, the SOAK_SEED environment variable, or the clock. */
export function seedOf(options: SoakOptions): number {
  if (options.seed !== undefined) return options.seed >>> 0;
  const env = process.env.SOAK_SEED;
  if (env && /^\d+$/.test(env)) return Number(env) >>> 0;
  return (Date.now() ^ (process.pid << 16)) >>> 0;
}

/** Whether another run may start: under the count and inside the time budget. */
export function budget(options: SoakOptions): {
  more: (done: number) => boolean;
  elapsed: () => number;
} {
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  return {
    more: (done) => done < options.runs && performance.now() < deadline,
    elapsed: () => (performance.now() - started) / 1000,
  };
}

/**
 * Prints `soak <name> runs=<n> failures=<f> …` and returns the result. Fewer runs than asked
 * (the time budget ran out) prints complete=no; the runner treats that as a failed soak.
 */
export function finish(
  name: string,
  options: SoakOptions,
  runs: number,
  failures: Failures,
  figures: Record<string, number | string>,
  elapsedSeconds: number,
): SoakResult {
  const all: Record<string, number | string> = {
    ...figures,
    complete: runs >= options.runs ? 'yes' : 'no',
    seconds: Math.round(elapsedSeconds * 10) / 10,
  };
  const tail = Object.entries(all)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const line = `soak ${name} runs=${runs} failures=${failures.count} ${tail}`;
  console.log(line);
  return { name, runs, failures: failures.count, details: failures.details, figures: all, line };
}

/** The message of anything thrown, with its code when it has one. */
export function describeError(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err && 'message' in err) {
    return `${String((err as { code: unknown }).code)}: ${String((err as { message: unknown }).message)}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** With SOAK_KEEP=1 a failed soak keeps its data folder (databases, bitcoind) for a post-mortem. */
export function keep(failures: Failures, options: SoakOptions, dir: string): boolean {
  if (failures.count === 0 || !process.env.SOAK_KEEP) return false;
  options.log(`kept ${dir} for a post-mortem`);
  return true;
}
