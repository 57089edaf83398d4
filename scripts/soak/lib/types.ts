/**
 * The contract every soak follows: `run` is bounded by a count and a time, prints exactly one
 * line `soak <name> runs=<n> failures=<f> <figures>` and returns the same facts.
 */

export interface SoakOptions {
  /** How many runs (kill restarts, reorgs, node outages, oracle scenarios) to do. */
  runs: number;
  /** Wall-clock budget: no new run starts after it; a soak cut short reports complete=no. */
  seconds: number;
  /** Progress lines (stderr in the runner, collected in tests). */
  log: (line: string) => void;
  /** Seed of the soak's random choices; printed in its line so a failure can be replayed. */
  seed?: number;
}

export interface SoakResult {
  name: string;
  /** Runs completed. */
  runs: number;
  failures: number;
  /** One sentence per failure (the first 50), each naming the run and seed. */
  details: string[];
  /** The figures printed after runs= and failures=. */
  figures: Record<string, number | string>;
  /** The printed line. */
  line: string;
}

/** What a soak module under scripts/soak/ exports. */
export interface SoakModule {
  run(options: SoakOptions): Promise<SoakResult>;
  /** The full soak's count and time budget (`npm run soak`). */
  defaults?: { runs: number; seconds: number };
}
