/**
 * One leader among the protocol node's gateway instances (issue "A protocol node that outgrows
 * one machine" item 2): the instance that holds a PostgreSQL advisory lock runs the background
 * work (oracle rounds, health pass, auctions, chain sync, backups); the others serve calls and
 * try for the lock every `retryMs`. The lock belongs to one connection kept for it: when the
 * leader's process dies, its connection closes and PostgreSQL releases the lock at once, so
 * another instance leads within one retry.
 *
 * A leader that is cut off (its lock connection broken while the process lives) learns it at
 * its next heartbeat; until then its background transactions are fenced: `fence()` is a
 * condition they check in the same transaction, true only while this lease's connection still
 * holds the lock. So two instances never both act as leader in the database.
 */
import type pg from 'pg';

/** The lock every instance of one protocol node contends for ("lead"). */
export const LEADER_LOCK = 0x6c_65_61_64;

export interface LeaderLeaseOptions {
  /** How often a follower tries for the lock and a leader checks it still holds it; default 1 s. */
  retryMs?: number;
  /** The lock's key; default LEADER_LOCK (one per protocol node database). */
  key?: number;
  /** Told each time this instance starts or stops leading. */
  onChange?: (leading: boolean) => void;
  /** Where a lost or failed lock connection is logged. */
  logger?: { warn(obj: object, msg: string): void };
}

export class LeaderLease {
  private client: pg.PoolClient | null = null;
  private pid: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private checking: Promise<void> = Promise.resolve();
  private readonly key: number;
  private readonly retryMs: number;

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: LeaderLeaseOptions = {},
  ) {
    this.key = options.key ?? LEADER_LOCK;
    this.retryMs = options.retryMs ?? 1_000;
  }

  /** Whether this instance leads now (as of its last check). */
  get leading(): boolean {
    return this.client !== null;
  }

  /** The backend process id of the lock connection while leading (for /health and fencing). */
  get backendPid(): number | null {
    return this.pid;
  }

  /** Tries for the lock at once, then every `retryMs`; resolves after the first try. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.check();
    this.timer = setInterval(() => void this.check(), this.retryMs);
    this.timer.unref();
  }

  /** Gives the lock up (another instance leads at its next try) and stops trying. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.checking;
    const client = this.client;
    if (!client) return;
    try {
      await client.query('SELECT pg_advisory_unlock($1)', [this.key]);
    } catch {
      // The connection is gone; so is the lock.
    }
    this.lose(client, false);
  }

  /**
   * A condition for a background transaction's statements (`… WHERE ${fence}`) or a check of its
   * own: true only while this lease's connection holds the lock. Parameters: the lock key and the
   * lease's backend pid, in that order.
   */
  fence(): { sql: string; params: [number, number] } {
    return {
      sql: `EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = $1::bigint AND classid = 0 AND pid = $2)`,
      params: [this.key, this.pid ?? -1],
    };
  }

  private check(): Promise<void> {
    const run = async () => {
      if (this.stopped) return;
      if (this.client) {
        // Still ours? A broken connection (server restart, network) means another may lead now.
        try {
          await this.client.query('SELECT 1');
        } catch (err) {
          this.options.logger?.warn({ err: String(err) }, 'leader lock connection lost');
          this.lose(this.client, true);
        }
        return;
      }
      let client: pg.PoolClient | null = null;
      try {
        client = await this.pool.connect();
        const { rows } = await client.query<{ got: boolean; pid: number }>(
          'SELECT pg_try_advisory_lock($1) AS got, pg_backend_pid() AS pid',
          [this.key],
        );
        if (!rows[0]!.got || this.stopped) {
          if (rows[0]!.got) await client.query('SELECT pg_advisory_unlock($1)', [this.key]);
          client.release();
          return;
        }
        this.client = client;
        this.pid = rows[0]!.pid;
        client.on('error', () => this.lose(client!, true));
        this.options.onChange?.(true);
      } catch (err) {
        this.options.logger?.warn({ err: String(err) }, 'could not try for the leader lock');
        if (client && this.client !== client) client.release(true);
      }
    };
    this.checking = this.checking.then(run, run);
    return this.checking;
  }

  private lose(client: pg.PoolClient, broken: boolean): void {
    if (this.client !== client) return;
    this.client = null;
    this.pid = null;
    // A broken connection is destroyed, not returned to the pool.
    client.release(broken ? true : undefined);
    this.options.onChange?.(false);
  }
}
