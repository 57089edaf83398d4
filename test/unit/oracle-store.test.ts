import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, schemaVersion } from '../../core/db/database';
import { isBitStableError } from '../../core/errors';
import type { Cents } from '../../core/money';
import { OracleStore, type RoundRecord } from '../../core/oracle/store';
import { tempDb, type TempDb } from '../fixtures/oracle/temp-db';
import { sqliteStore } from '../../core/store/sqlite';

const T0 = Date.UTC(2024, 0, 15, 12);
let t: TempDb | null = null;
afterEach(() => {
  t?.cleanup();
  t = null;
});

function record(
  ts: number,
  priceCents: number | null,
  over: Partial<RoundRecord> = {},
): RoundRecord {
  return {
    network: 'regtest',
    ts,
    priceCents: priceCents as Cents | null,
    medianCents: priceCents as Cents | null,
    status: priceCents === null ? 'insufficient-sources' : 'ok',
    accepted: priceCents !== null,
    threshold: 2,
    moveBps: null,
    sourcesUsed: priceCents === null ? [] : ['a', 'b'],
    answers: [
      {
        source: 'a',
        priceCents: priceCents as Cents | null,
        sourceTs: ts - 1_000,
        error: null,
        errorReason: null,
        dropped: null,
      },
      {
        source: 'b',
        priceCents: null,
        sourceTs: null,
        error: 'Price source b: no answer.',
        errorReason: 'timeout',
        dropped: 'error',
      },
    ],
    ...over,
  };
}

describe('migration 002 (oracle)', () => {
  it('upgrades a schema-1 database that already has rounds, keeping them', async () => {
    t = tempDb({ targetVersion: 1 });
    t.db
      .prepare(
        `INSERT INTO price_rounds (network, ts, price_cents, status, accepted) VALUES ('mainnet', ?, 4000000, 'ok', 1)`,
      )
      .run(T0);
    t.db
      .prepare(
        `INSERT INTO price_answers (round_id, source, price_cents) VALUES (1, 'kraken', 4000000)`,
      )
      .run();
    t.db.close();

    const db = openDatabase(t.path);
    try {
      expect(schemaVersion(db)).toBeGreaterThanOrEqual(2);
      const store = new OracleStore(sqliteStore(db));
      const old = (await store.round(1))!;
      expect(old).toMatchObject({
        priceCents: 4_000_000,
        accepted: true,
        sourcesUsed: [],
        medianCents: null,
      });
      expect(old.answers).toEqual([
        {
          source: 'kraken',
          priceCents: 4_000_000,
          sourceTs: null,
          error: null,
          errorReason: null,
          dropped: null,
        },
      ]);
      expect((await store.lastAccepted('mainnet'))?.id).toBe(1);
    } finally {
      db.close();
    }
  });
});

describe('OracleStore', () => {
  it('stores a round with every answer and reads it back', async () => {
    t = tempDb();
    const store = new OracleStore(sqliteStore(t.db));
    const rec = record(T0, 4_000_000, { moveBps: 12 });
    const id = await store.saveRound(rec);
    expect(await store.round(id)).toEqual({ ...rec, id });
    expect((await store.lastAccepted('regtest'))?.id).toBe(id);
    expect((await store.latestRound('regtest'))?.id).toBe(id);
    expect(await store.lastAccepted('mainnet')).toBeNull();
  });

  it('writes a round all or nothing: a bad answer rolls the round back', async () => {
    t = tempDb();
    const store = new OracleStore(sqliteStore(t.db));
    const rec = record(T0, 4_000_000);
    // Two answers from one source violate the primary key on the second insert.
    rec.answers.push({ ...rec.answers[0]! });
    let err: unknown;
    try {
      await store.saveRound(rec);
    } catch (e) {
      err = e;
    }
    expect(isBitStableError(err, 'DATABASE_ERROR')).toBe(true);
    expect(t.db.prepare('SELECT COUNT(*) AS n FROM price_rounds').get()).toEqual({ n: 0 });
    expect(t.db.prepare('SELECT COUNT(*) AS n FROM price_answers').get()).toEqual({ n: 0 });
  });

  it('the schema refuses a zero price even if code tried to write one', async () => {
    t = tempDb();
    const store = new OracleStore(sqliteStore(t.db));
    await expect(store.saveRound(record(T0, 0))).rejects.toThrow(
      expect.objectContaining({ code: 'DATABASE_ERROR' }),
    );
  });

  it('history returns accepted prices only, downsampled to at most maxPoints buckets', async () => {
    t = tempDb();
    const store = new OracleStore(sqliteStore(t.db));
    // 100 accepted rounds, one per second, price rising 1 cent each; plus rejected rounds between.
    for (let i = 0; i < 100; i++) {
      await store.saveRound(record(T0 + i * 1_000, 4_000_000 + i));
      await store.saveRound(record(T0 + i * 1_000 + 500, null));
      await store.saveRound(
        record(T0 + i * 1_000 + 600, 9_000_000, { status: 'held', accepted: false }),
      );
    }
    await store.saveRound(record(T0 + 1_000, 4_000_500, { network: 'mainnet' }));

    const all = await store.history('regtest', T0, T0 + 99_000, 1_000);
    expect(all).toHaveLength(100);
    expect(all[0]).toEqual({
      ts: T0,
      priceCents: 4_000_000,
      lowCents: 4_000_000,
      highCents: 4_000_000,
      rounds: 1,
    });

    const ten = await store.history('regtest', T0, T0 + 99_999, 10);
    expect(ten).toHaveLength(10);
    // Each bucket is 10 s: its last price, with low and high, and never a held price.
    expect(ten[0]).toEqual({
      ts: T0 + 9_000,
      priceCents: 4_000_009,
      lowCents: 4_000_000,
      highCents: 4_000_009,
      rounds: 10,
    });
    expect(ten.every((p) => p.highCents < 9_000_000)).toBe(true);
    expect(ten.map((p) => p.ts)).toEqual([...ten.map((p) => p.ts)].sort((a, b) => a - b));

    expect(
      (await store.history('regtest', T0 + 10_500, T0 + 12_500, 100)).map((p) => p.priceCents),
    ).toEqual([4_000_011, 4_000_012]);
    expect(await store.history('regtest', T0 + 5_000, T0, 10)).toEqual([]);
    expect(await store.history('mainnet', T0, T0 + 99_999, 10)).toHaveLength(1);
  });

  it('history refuses nonsense arguments with INVALID_ARGUMENT', async () => {
    t = tempDb();
    const store = new OracleStore(sqliteStore(t.db));
    for (const args of [
      [T0, T0 + 1, 0],
      [T0, T0 + 1, 1.5],
      [Number.NaN, T0, 10],
      [T0, T0 + 1, 1_000_000],
    ] as const) {
      await expect(store.history('regtest', args[0], args[1], args[2])).rejects.toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
    }
  });
});
