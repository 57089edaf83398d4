/**
 * Events between gateway instances by LISTEN/NOTIFY (issue "A protocol node that outgrows one
 * machine" item 2), on a real private cluster: what one instance publishes reaches the others in
 * order and not itself; an event published inside a transaction arrives only if it commits; a
 * listener whose connection is cut listens again and gets what comes after.
 */
import { describe, expect, it } from 'vitest';
import { PgEventChannel, type RelayedEvent } from '../../core/db/pg/notify';
import { pgRuns, until, usePostgres } from '../helpers/postgres';

const channels: PgEventChannel[] = [];
const pg = usePostgres(async () => {
  await Promise.all(channels.map((c) => c.close()));
});
/** An instance: its own pool and channel, and what reached it. */
async function instance() {
  const pool = pg.pool(3);
  const channel = new PgEventChannel(pool, { retryMs: 100 });
  channels.push(channel);
  const got: RelayedEvent[] = [];
  await channel.listen((e) => got.push(e));
  return { pool, channel, got };
}

describe.skipIf(!pgRuns)('events between instances', () => {
  it('reach every other instance in order, and not the one that sent them; a rolled-back one never', async () => {
    const [a, b, c] = [await instance(), await instance(), await instance()];
    for (let i = 0; i < 20; i++)
      await a.channel.publish({ type: 'price.accepted', payload: { round: i } });
    // Inside a transaction: one that rolls back, one that commits.
    const tx = await a.pool.connect();
    await tx.query('BEGIN');
    await a.channel.publish({ type: 'vault.changed', payload: { vaultId: 'rolled back' } }, tx);
    await tx.query('ROLLBACK');
    await tx.query('BEGIN');
    await a.channel.publish({ type: 'vault.changed', payload: { vaultId: 7 } }, tx);
    await tx.query('COMMIT');
    tx.release();

    for (const other of [b, c]) {
      await until('all arrived', () => other.got.length >= 21, 5_000);
      expect(other.got.slice(0, 20).map((e) => (e.payload as { round: number }).round)).toEqual(
        Array.from({ length: 20 }, (_, i) => i),
      );
      expect(other.got.slice(20)).toEqual([{ type: 'vault.changed', payload: { vaultId: 7 } }]);
    }
    expect(a.got).toEqual([]);
  });

  it('a listener whose connection is cut listens again and gets what is published after', async () => {
    const [a, b] = [await instance(), await instance()];
    const pid = await b.channel.listenerPid();
    await a.pool.query('SELECT pg_terminate_backend($1)', [pid]);
    await until('the gap is seen', () => b.channel.gaps === 1);
    await until('listening again', () => b.channel['listener'] !== null);
    // Published until one arrives (the new LISTEN may be a moment behind the reconnect).
    for (let i = 0; b.got.length === 0 && i < 100; i++) {
      await a.channel.publish({ type: 'transfer', payload: { n: i } });
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(b.got.length).toBeGreaterThan(0);
    expect(b.got[0]!.type).toBe('transfer');
  });

  it('a listener that cannot reconnect at once (a pool double refusing two connections, in front of the real one) keeps trying and gets what comes after', async () => {
    const a = await instance();
    const real = pg.pool(3);
    let refuse = 0;
    const flaky = Object.assign(Object.create(real) as typeof real, {
      connect: () =>
        refuse-- > 0 ? Promise.reject(new Error('the server is not answering')) : real.connect(),
    });
    const channel = new PgEventChannel(flaky, { retryMs: 50 });
    channels.push(channel);
    const got: RelayedEvent[] = [];
    await channel.listen((e) => got.push(e));
    refuse = 2;
    await a.pool.query('SELECT pg_terminate_backend($1)', [await channel.listenerPid()]);
    await until(
      'listening again after two refusals',
      () => refuse < 0 && channel['listener'] !== null,
    );
    for (let i = 0; got.length === 0 && i < 100; i++) {
      await a.channel.publish({ type: 'transfer', payload: { n: i } });
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(got.length).toBeGreaterThan(0);
    expect(channel.gaps).toBe(1);
  });

  it('refuses an event too large for NOTIFY with a sentence, and sends nothing', async () => {
    const [a, b] = [await instance(), await instance()];
    await expect(
      a.channel.publish({ type: 'vault.changed', payload: 'x'.repeat(9_000) }),
    ).rejects.toMatchObject({ code: 'INTERNAL' });
    await a.channel.publish({ type: 'after', payload: null });
    await until('the next one arrives', () => b.got.length > 0);
    expect(b.got.map((e) => e.type)).toEqual(['after']);
  });
});
