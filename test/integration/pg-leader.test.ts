/**
 * One leader among gateway instances, by a PostgreSQL advisory lock (issue "A protocol node that
 * outgrows one machine" item 2), on a real private cluster: of instances contending at once
 * exactly one leads; a leader that stops hands over within one retry; a leader process killed
 * with SIGKILL is replaced within 10 s, and its fence no longer holds.
 */
import { describe, expect, it } from 'vitest';
import { LeaderLease } from '../../core/db/pg/leader';
import { pgRuns, until, usePostgres } from '../helpers/postgres';
import { startScript, type Child } from '../helpers/process';

const leases: LeaderLease[] = [];
const children: Child[] = [];
// Children and leases stop before the pools and the cluster do.
const pg = usePostgres(async () => {
  await Promise.all(children.map((c) => c.stop()));
  await Promise.all(leases.map((l) => l.stop()));
});
const lease = (retryMs = 100) => {
  const l = new LeaderLease(pg.pool(), { retryMs });
  leases.push(l);
  return l;
};

describe.skipIf(!pgRuns)('the leader lease', () => {
  it('of three instances contending at once exactly one leads; when it stops another leads within a retry', async () => {
    const three = [lease(), lease(), lease()];
    await Promise.all(three.map((l) => l.start()));
    expect(three.filter((l) => l.leading)).toHaveLength(1);
    // Sampled for a while: never two.
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 30));
      expect(three.filter((l) => l.leading).length).toBeLessThanOrEqual(1);
    }
    const first = three.find((l) => l.leading)!;
    await first.stop();
    await until('another instance leads', () => three.some((l) => l !== first && l.leading), 1_000);
    expect(three.filter((l) => l.leading)).toHaveLength(1);
    await Promise.all(three.map((l) => l.stop()));
  });

  it('a leader process killed with SIGKILL is replaced within 10 s, and its fence no longer holds', async () => {
    const child = startScript('../test/fixtures/pg/lease-child.ts', [pg.cluster().url]);
    children.push(child);
    const [, pid] = await child.waitFor(/leading pid=(\d+)/, 30_000);
    const mine = lease(200);
    await mine.start();
    expect(mine.leading).toBe(false);
    const pool = pg.pool();
    const fenceOf = async (backendPid: number) => {
      const f = mine.fence();
      const { rows } = await pool.query<{ holds: boolean }>(`SELECT ${f.sql} AS holds`, [
        f.params[0],
        backendPid,
      ]);
      return rows[0]!.holds;
    };
    expect(await fenceOf(Number(pid))).toBe(true);

    const killedAt = Date.now();
    process.kill(-child.child.pid!, 'SIGKILL');
    await until('this instance leads after the kill', () => mine.leading, 10_000);
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    expect(await fenceOf(Number(pid))).toBe(false);
    expect(await fenceOf(mine.backendPid!)).toBe(true);
  }, 60_000);
});
