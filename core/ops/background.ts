/**
 * Background failures are loud (SPEC §8.4, §11): each one is logged with its ids, counted per
 * task (for /metrics), and kept as the task's last failure until the task next succeeds (for
 * /health and the UI). Nothing that runs in the background is swallowed.
 */
import { isBitStableError } from '../errors';

/** Where failures are logged (a pino logger fits). */
export interface FailureLogger {
  error(obj: Record<string, unknown>, msg: string): void;
}

export interface BackgroundFailure {
  task: string;
  code: string;
  message: string;
  at: number;
  /** Failures of this task since it last succeeded. */
  count: number;
  ids: Record<string, number>;
}

export class BackgroundErrors {
  private readonly last = new Map<string, BackgroundFailure>();
  private readonly totals = new Map<string, number>();

  constructor(
    private readonly log: FailureLogger | null = null,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Records one failure of `task` (e.g. `sync`, `settlement`, `backup`, `health-pass`). */
  record(task: string, err: unknown, ids: Record<string, number> = {}): void {
    const code = isBitStableError(err) ? err.code : 'INTERNAL';
    const message = err instanceof Error ? err.message : String(err);
    const before = this.last.get(task);
    this.last.set(task, {
      task,
      code,
      message,
      at: this.clock(),
      count: (before?.count ?? 0) + 1,
      ids,
    });
    this.totals.set(task, (this.totals.get(task) ?? 0) + 1);
    this.log?.error({ task, code, err: message, ...ids }, `background ${task} failed: ${message}`);
  }

  /** The task ran through: its last failure is history. */
  succeeded(task: string): void {
    this.last.delete(task);
  }

  /** Every task's last failure that has not been followed by a success. */
  current(): BackgroundFailure[] {
    return [...this.last.values()];
  }

  /** Failures per task since the start, for metrics. */
  counts(): Record<string, number> {
    return Object.fromEntries(this.totals);
  }
}
