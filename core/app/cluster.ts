/**
 * One gateway instance among several on one PostgreSQL database (issue "A protocol node that
 * outgrows one machine" item 2). Every instance serves calls; the one that holds the leader lock
 * (core/db/pg/leader.ts) also runs the background work — oracle rounds, health passes, auctions,
 * chain sync, the fee sweep — and the others follow: they read the accepted price back from the
 * database and keep their view of the Bitcoin node. When the leader dies its lock goes with its
 * connection and another instance leads within one retry, resuming from the database (every
 * piece of background work already resumes from it after a restart).
 *
 * Two leaders at once (one cut off and not yet aware) cannot do anything twice: every write
 * transaction takes the one write lock (core/store/pg/executor.ts) and checks the state it
 * changes inside it — a vault already Liquidating starts no second auction, a settled auction
 * is not settled again, a spend row's state machine refuses a second broadcast record.
 *
 * Events each instance's bus emits (price, vault, spend, transfer, auction) go to the others
 * by NOTIFY (core/db/pg/notify.ts) and reach their WebSocket clients.
 */
import { hostname } from 'node:os';
import type pg from 'pg';
import { LeaderLease } from '../db/pg/leader';
import { PgEventChannel, type RelayedEvent } from '../db/pg/notify';

export interface ClusterLogger {
  info?(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface ClusterOptions {
  /** How often a follower tries for the lock and the leader checks it; default 1 s. */
  retryMs?: number;
  logger?: ClusterLogger;
  /** Told each time this instance starts or stops leading. */
  onLeading: (leading: boolean) => void;
  /** Every event another instance published. */
  onEvent: (event: RelayedEvent) => void;
}

export class ClusterMember {
  readonly lease: LeaderLease;
  readonly events: PgEventChannel;
  /** Who this instance is, in /health, metrics and logs: host, process and a random part. */
  readonly id: string;
  /** Events that could not be sent to the other instances (the database refused NOTIFY). */
  publishFailures = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: ClusterOptions,
  ) {
    this.events = new PgEventChannel(pool, {
      ...(options.logger ? { logger: options.logger } : {}),
    });
    this.id = `${hostname()}:${process.pid}:${this.events.instance.slice(0, 8)}`;
    this.lease = new LeaderLease(pool, {
      ...(options.retryMs !== undefined ? { retryMs: options.retryMs } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
      onChange: (leading) => {
        options.logger?.info?.({ instance: this.id, leading }, leading ? 'leading' : 'following');
        options.onLeading(leading);
      },
    });
  }

  get leading(): boolean {
    return this.lease.leading;
  }

  /** Listens for the others' events, then tries for the lock (leading at once if it is free). */
  async start(): Promise<void> {
    await this.events.listen((event) => this.options.onEvent(event));
    await this.lease.start();
  }

  /**
   * Sends one of this instance's events to the others. After the transaction that made it has
   * committed: an instance killed in between loses the event for the others' clients (who read
   * the state again when they reconnect), never the state itself.
   */
  publish(event: RelayedEvent): void {
    this.events.publish(event).catch((err: unknown) => {
      this.publishFailures += 1;
      this.options.logger?.warn(
        { err, type: event.type },
        'an event did not reach the other instances',
      );
    });
  }

  /** Gives up the lock (another instance leads at once) and stops listening. */
  async stop(): Promise<void> {
    await this.lease.stop();
    await this.events.close();
    await this.pool.end();
  }
}
