/**
 * Events between gateway instances (issue "A protocol node that outgrows one machine" item 2):
 * each instance publishes what its own event bus says (price, vault, spend, transfer) with
 * PostgreSQL's NOTIFY, and relays what the others publish to its own WebSocket clients, by
 * LISTEN on one connection kept for it. NOTIFY is transactional: sent inside the transaction of a
 * state change, it is delivered when that commits, and never if it rolls back.
 *
 * A listener whose connection breaks listens again on a new one after `retryMs`; what was
 * published in between is not replayed (clients re-read state when they reconnect anyway), and
 * the gap is logged and counted.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { BitStableError } from '../../errors';

export const EVENTS_CHANNEL = 'bitstable_events';
/** PostgreSQL refuses a NOTIFY payload of 8000 bytes or more. */
const MAX_PAYLOAD = 7_900;

export interface RelayedEvent {
  type: string;
  payload: unknown;
}

type Querier = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

export class PgEventChannel {
  /** This instance's id: its own notifications come back to it and are skipped. */
  readonly instance = randomUUID();
  private listener: pg.PoolClient | null = null;
  private closed = false;
  private retry: NodeJS.Timeout | null = null;
  /** Times the listening connection broke (a gap in what reached this instance). */
  gaps = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: {
      retryMs?: number;
      logger?: { warn(obj: object, msg: string): void };
    } = {},
  ) {}

  /**
   * Publishes an event to the other instances; `db` may be the client of the transaction that
   * made the change, so the event goes out when (and only if) it commits.
   */
  async publish(event: RelayedEvent, db: Querier = this.pool): Promise<void> {
    const text = JSON.stringify({ from: this.instance, type: event.type, payload: event.payload });
    if (Buffer.byteLength(text) > MAX_PAYLOAD)
      throw new BitStableError(
        'INTERNAL',
        `The ${event.type} event is too large to send to the other instances.`,
        { type: event.type, bytes: Buffer.byteLength(text) },
      );
    await db.query('SELECT pg_notify($1, $2)', [EVENTS_CHANNEL, text]);
  }

  /** Calls `deliver` with every event another instance publishes, until `close`. */
  async listen(deliver: (event: RelayedEvent) => void): Promise<void> {
    this.closed = false;
    this.deliver = deliver;
    await this.connectListener();
  }

  private deliver: (event: RelayedEvent) => void = () => {};

  /** One listening connection; when it breaks, the gap is counted and another is made. */
  private async connectListener(): Promise<void> {
    const client = await this.pool.connect();
    const lost = () => {
      if (this.listener !== client) return;
      this.listener = null;
      client.release(true);
      if (this.closed) return;
      this.gaps++;
      this.options.logger?.warn(
        { gaps: this.gaps },
        'event listener connection lost; listening again',
      );
      this.relistenLater();
    };
    client.on('notification', (n) => {
      if (n.channel !== EVENTS_CHANNEL || !n.payload) return;
      let event: { from: string; type: string; payload: unknown };
      try {
        event = JSON.parse(n.payload) as typeof event;
      } catch {
        return;
      }
      if (event.from === this.instance) return;
      this.deliver({ type: event.type, payload: event.payload });
    });
    client.on('error', lost);
    client.on('end', lost);
    this.listener = client;
    try {
      await client.query(`LISTEN ${EVENTS_CHANNEL}`);
    } catch (err) {
      if (this.listener === client) {
        this.listener = null;
        client.release(true);
      }
      throw err;
    }
  }

  /** Tries again every `retryMs` until a listening connection is made (the server may be down). */
  private relistenLater(): void {
    if (this.closed) return;
    this.retry = setTimeout(() => {
      this.connectListener().catch((err: unknown) => {
        this.options.logger?.warn(
          { err: String(err) },
          'could not listen for events; trying again',
        );
        this.relistenLater();
      });
    }, this.options.retryMs ?? 500);
  }

  /** Stops listening. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    const client = this.listener;
    this.listener = null;
    if (!client) return;
    try {
      await client.query(`UNLISTEN ${EVENTS_CHANNEL}`);
      client.release();
    } catch {
      client.release(true);
    }
  }

  /** The backend pid of the listening connection (tests break it on purpose). */
  async listenerPid(): Promise<number | null> {
    if (!this.listener) return null;
    const { rows } = await this.listener.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    return rows[0]!.pid;
  }
}
