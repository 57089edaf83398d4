/**
 * The PostgreSQL ledger, oracle and accounts repositories answer as their SQLite twins do: each
 * test runs one sequence of calls against both, on a fresh SQLite file and a fresh PostgreSQL
 * schema, and compares every answer (and every refusal) and, at the end, the rows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pool } from 'pg';
import { openDatabase, type Sqlite } from '../../core/db/database';
import { migratePostgres } from '../../core/db/pg/database';
import type { Cents } from '../../core/money';
import type { RoundRecord } from '../../core/store/oracle';
import { PgAccounts } from '../../core/store/pg/accounts';
import { PgExecutor } from '../../core/store/pg/executor';
import { PgLedger } from '../../core/store/pg/ledger';
import { PgOracleRounds } from '../../core/store/pg/oracle';
import { SqliteAccounts } from '../../core/store/sqlite/accounts';
import { SqliteLedger } from '../../core/store/sqlite/ledger';
import { SqliteOracleRounds } from '../../core/store/sqlite/oracle';
import { pgRuns, usePostgres } from '../helpers/postgres';

const pg = usePostgres();

let dir: string;
let db: Sqlite;
let pool: Pool;
let x: PgExecutor;
/** The calls both refused, in this test so far. */
let refusals: string[] = [];

/** What a call gave: its value, or that it threw (code and message for a BitStableError). */
type Outcome = { value: unknown } | { threw: string };
function describeError(err: unknown): string {
  const e = err as { code?: unknown; message?: string; data?: unknown };
  // SQLite's own refusals are SqliteErrors, PostgreSQL's DATABASE_ERRORs: both are "refused".
  if (e.code === 'DATABASE_ERROR' || (typeof e.code === 'string' && e.code.startsWith('SQLITE_')))
    return 'refused by the database';
  return `${String(e.code)} ${JSON.stringify(e.data)}: ${e.message}`;
}
function sync<T>(fn: () => T): Outcome {
  try {
    return { value: fn() };
  } catch (err) {
    return { threw: describeError(err) };
  }
}
async function async<T>(fn: () => Promise<T>): Promise<Outcome> {
  try {
    return { value: await fn() };
  } catch (err) {
    return { threw: describeError(err) };
  }
}

/** Runs the same call on both and expects the same outcome; the value. */
async function same<T>(what: string, onSqlite: () => T, onPg: () => Promise<T>): Promise<T> {
  const a = sync(onSqlite);
  const b = await async(onPg);
  expect(b, what).toEqual(a);
  if ('threw' in a) refusals.push(`${what} → ${a.threw}`);
  return 'value' in a ? (a.value as T) : (undefined as T);
}

/** One statement, `?` placeholders, run on both databases (prerequisite rows, tampering). */
async function exec(sql: string, params: unknown[] = []): Promise<void> {
  db.prepare(sql).run(...params);
  let n = 0;
  await pool.query(
    sql.replace(/\?/g, () => `$${(n += 1)}`),
    params,
  );
}

/** The rows of a table on both databases, expected equal (in any order). */
async function sameRows(sql: string): Promise<void> {
  const sorted = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).sort();
  expect(sorted((await pool.query(sql)).rows), sql).toEqual(sorted(db.prepare(sql).all()));
}

/** A key set and `n` vaults with their ledger accounts, ids 1…n on both. */
async function vaults(n: number, accountId: string | null = null): Promise<void> {
  await exec(
    "INSERT INTO key_sets (id, network, owner_key, protocol_key, guardian_key, created_at) VALUES (1, 'regtest', 'o', 'p', 'g', 1)",
  );
  for (let i = 1; i <= n; i++) {
    await exec(
      `INSERT INTO vaults (id, key_set_id, idx, network, address, descriptor, state, account_id, created_at, updated_at)
       VALUES (?, 1, ?, 'regtest', ?, 'wsh()', 'active', ?, 1, 1)`,
      [i, i - 1, `bcrt1vault${i}`, i % 2 === 0 ? accountId : null],
    );
    await exec("INSERT INTO ledger_accounts (id, kind, vault_id) VALUES (?, 'vault', ?)", [
      `vault:${i}`,
      i,
    ]);
  }
}

beforeEach(async () => {
  if (!pgRuns) return;
  dir = mkdtempSync(join(tmpdir(), 'pg-store-ledger-'));
  db = openDatabase(join(dir, 'node.db'));
  pool ??= pg.pool(4);
  await pool.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
  await migratePostgres(pool);
  // SQLite's migration 1 creates these two; PostgreSQL's migration 13 does not (yet).
  await pool.query(
    "INSERT INTO ledger_accounts (id, kind) VALUES ('surplus', 'surplus'), ('deficit', 'deficit') ON CONFLICT DO NOTHING",
  );
  x = new PgExecutor(pool);
  refusals = [];
});

afterEach(() => {
  if (!pgRuns) return;
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!pgRuns)('PostgreSQL repositories answer as the SQLite ones', () => {
  it('ledger: holders, entries, netting, transfers, refusals, the invariant, statements, the books', async () => {
    const sq = new SqliteLedger(db);
    const pl = new PgLedger(x);
    const invariant = () =>
      same(
        'checkInvariant',
        () => sq.checkInvariant(),
        () => pl.checkInvariant(),
      );
    const balances = async () => {
      for (const a of [
        'holder:alice',
        'holder:bob',
        'holder:carol',
        'holder:nobody',
        'surplus',
        'deficit',
        'vault:1',
        'vault:2',
      ])
        await same(
          `balance ${a}`,
          () => sq.balance(a),
          () => pl.balance(a),
        );
    };

    expect(await invariant()).toMatchObject({ ok: true, holdersCents: 0, deficitCents: 0 });
    await vaults(5);
    for (const name of ['alice', 'bob', 'carol', 'alice'])
      await same(
        `ensureHolder ${name}`,
        () => sq.ensureHolder(name),
        () => pl.ensureHolder(name),
      );

    const post = (...args: Parameters<SqliteLedger['post']>) =>
      same(
        `post ${args[0]}`,
        () => sq.post(...args),
        () => pl.post(...args),
      );
    await post(
      'mint',
      1,
      [
        ['vault:1', -100_000],
        ['holder:alice', 100_000],
      ],
      'first mint',
      1000,
    );
    await post(
      'mint',
      2,
      [
        ['vault:2', -50_000],
        ['holder:bob', 50_000],
      ],
      undefined,
      1001,
    );
    await exec('UPDATE vaults SET debt_cents = 100000 WHERE id = 1');
    await exec('UPDATE vaults SET debt_cents = 50000 WHERE id = 2');
    await same(
      'transfer',
      () => sq.transfer('alice', 'bob', 2500, 'rent', 1002),
      () => pl.transfer('alice', 'bob', 2500, 'rent', 1002),
    );
    await same(
      'transfer',
      () => sq.transfer('bob', 'carol', 1000, null, 1003),
      () => pl.transfer('bob', 'carol', 1000, null, 1003),
    );
    await same(
      'transfer',
      () => sq.transfer('carol', 'alice', 1000, 'all of it', 1004),
      () => pl.transfer('carol', 'alice', 1000, 'all of it', 1004),
    );
    // A penalty to surplus, then bad debt: the netting entry follows it.
    await post(
      'penalty',
      1,
      [
        ['vault:1', -500],
        ['surplus', 500],
      ],
      'penalty',
      1005,
    );
    await exec('UPDATE vaults SET debt_cents = 100500 WHERE id = 1');
    await post(
      'bad_debt',
      2,
      [
        ['deficit', -800],
        ['vault:2', 800],
      ],
      'written off',
      1006,
    );
    await exec('UPDATE vaults SET debt_cents = 49200 WHERE id = 2');
    await post(
      'stability_fee',
      1,
      [
        ['vault:1', -300],
        ['surplus', 300],
      ],
      undefined,
      1007,
    );
    await post(
      'repay',
      1,
      [
        ['holder:alice', -1500],
        ['vault:1', 1500],
      ],
      'repay',
      1008,
    );
    await exec('UPDATE vaults SET debt_cents = 99300 WHERE id = 1');
    await balances();
    expect(await invariant()).toMatchObject({ ok: true, surplusCents: 0, deficitCents: 0 });

    // Refusals, each the same words.
    await same(
      'short',
      () => sq.transfer('carol', 'alice', 1, null, 1010),
      () => pl.transfer('carol', 'alice', 1, null, 1010),
    );
    await same(
      'zero',
      () => sq.transfer('alice', 'bob', 0, null),
      () => pl.transfer('alice', 'bob', 0, null),
    );
    await same(
      'fraction',
      () => sq.transfer('alice', 'bob', 1.5, null),
      () => pl.transfer('alice', 'bob', 1.5, null),
    );
    await same(
      'self',
      () => sq.transfer('alice', 'alice', 5, null),
      () => pl.transfer('alice', 'alice', 5, null),
    );
    await post('mint', null, [
      ['holder:alice', 5],
      ['surplus', -4],
    ]);
    await post('mint', null, [
      ['holder:alice', 0],
      ['surplus', 0],
    ]);
    await post('redemption', null, [
      ['holder:bob', 10],
      ['pool:bob', -10],
    ]);
    // A posting to an account that does not exist: the database refuses it, and inside a
    // transaction the entry goes with it.
    await same(
      'unknown account',
      () =>
        db.transaction(() =>
          sq.post(
            'mint',
            null,
            [
              ['holder:nobody', 7],
              ['holder:alice', -7],
            ],
            'x',
            1011,
          ),
        )(),
      () =>
        x.transaction(() =>
          pl.post(
            'mint',
            null,
            [
              ['holder:nobody', 7],
              ['holder:alice', -7],
            ],
            'x',
            1011,
          ),
        ),
    );
    await balances();

    // Statements: pages, a holder with none, an unknown one.
    for (const [holder, offset, limit] of [
      ['alice', 0, 50],
      ['alice', 1, 2],
      ['bob', 0, 50],
      ['carol', 0, 1],
      ['carol', 5, 10],
      ['nobody', 0, 10],
    ] as const)
      await same(
        `statement ${holder} ${offset} ${limit}`,
        () => sq.statement(holder, offset, limit),
        () => pl.statement(holder, offset, limit),
      );
    expect((await pl.statement('alice', 0, 50)).items.map((i) => i.counterparty)).toEqual([
      null,
      'carol',
      'bob',
      null,
    ]);
    for (const limit of [50, 2, 0])
      await same(
        `booksHistory ${limit}`,
        () => sq.booksHistory(limit),
        () => pl.booksHistory(limit),
      );
    expect((await pl.booksHistory(50)).map((b) => b.kind)).toEqual([
      'netting',
      'stability_fee',
      'netting',
      'bad_debt',
      'penalty',
    ]);

    // Tampered books: every check fires, with its ids in the same order.
    await exec(
      "UPDATE ledger_accounts SET balance_cents = balance_cents + 7 WHERE id IN ('holder:carol', 'holder:bob', 'surplus')",
    );
    await exec("UPDATE ledger_accounts SET balance_cents = -2 WHERE id = 'deficit'");
    await exec('INSERT INTO ledger_entries (id, ts, kind) VALUES (100, 2000, ?)', ['mint']);
    await exec(
      "INSERT INTO ledger_accounts (id, kind) VALUES ('holder:Zed', 'holder'), ('holder:_a', 'holder')",
    );
    await exec(
      "INSERT INTO ledger_postings (entry_id, account_id, amount_cents) VALUES (100, 'holder:Zed', 3), (100, 'holder:_a', 4)",
    );
    await exec(
      "UPDATE vaults SET debt_cents = 10, state = 'closed', warning_price_cents = 500 WHERE id = 3",
    );
    await exec("UPDATE vaults SET debt_cents = 5, state = 'closed' WHERE id = 4");
    await exec(
      "UPDATE vaults SET debt_cents = 6, state = 'closed', warning_price_cents = 400, liquidation_price_cents = 300 WHERE id = 5",
    );
    await exec('UPDATE vaults SET debt_cents = 1 WHERE id = 2');
    await exec("UPDATE vaults SET state = 'liquidated' WHERE id = 1");
    const report = await invariant();
    expect(report.ok).toBe(false);
    expect(report.problems).toHaveLength(6);
    // SQLite lists these in its index's order (state, warning price, liquidation price, id).
    expect(report.problems).toContain('debt on vaults without collateral: 4, 5, 3, 1');
    expect(refusals.map((r) => r.split(' → ')[1]!.split(' ')[0])).toEqual([
      'INSUFFICIENT_BALANCE',
      'INVALID_AMOUNT',
      'INVALID_AMOUNT',
      'INVALID_ARGUMENT',
      'INTERNAL',
      'INTERNAL',
      'INSUFFICIENT_BALANCE',
      'refused',
    ]);
  });

  it('oracle: rounds, answers, prices, history, metrics readings', async () => {
    const sq = new SqliteOracleRounds(db);
    const po = new PgOracleRounds(x);
    await same(
      'lastRoundId',
      () => sq.lastRoundId(),
      () => po.lastRoundId(),
    );
    await same(
      'history empty',
      () => sq.history('regtest', 0, 10_000, 10),
      () => po.history('regtest', 0, 10_000, 10),
    );

    const c = (n: number) => n as Cents;
    const round = (
      ts: number,
      price: number | null,
      accepted: boolean,
      network: RoundRecord['network'] = 'regtest',
    ): RoundRecord => ({
      network,
      ts,
      priceCents: price === null ? null : c(price),
      medianCents: price === null ? null : c(price + 3),
      status: price === null ? 'insufficient-sources' : accepted ? 'ok' : 'held',
      accepted,
      threshold: ts % 2 === 0 ? 2 : (null as unknown as number),
      moveBps: ts === 1000 ? null : ts % 700,
      sourcesUsed: price === null ? [] : ['kraken', 'a "quoted", {braced} \\ source'],
      answers: [
        {
          source: 'kraken',
          priceCents: price === null ? null : c(price),
          sourceTs: ts - 5,
          error: null,
          errorReason: null,
          dropped: null,
        },
        {
          source: 'Zeta',
          priceCents: null,
          sourceTs: null,
          error: 'HTTP 500: {"a":"b,c"} \\ "q"',
          errorReason: 'network',
          dropped: 'error',
        },
        {
          source: 'alpha',
          priceCents: c(1),
          sourceTs: null,
          error: 'weird',
          errorReason: null,
          dropped: 'error',
        },
        {
          source: 'bitstamp',
          priceCents: c(999_999),
          sourceTs: ts + 99_000,
          error: null,
          errorReason: null,
          dropped: 'future',
        },
        {
          source: 'NULL',
          priceCents: c(2),
          sourceTs: 1,
          error: null,
          errorReason: null,
          dropped: 'outlier',
        },
      ],
    });
    const records: RoundRecord[] = [
      round(1000, 6_500_000, true),
      round(1500, 6_510_000, true),
      round(1500, 6_520_000, true), // same time: the later id wins
      round(2000, null, false),
      round(2600, 7_000_000, false),
      round(3000, 6_530_000, true, 'signet'),
      round(4000, 6_400_000, true),
      round(4001, 6_410_000, true),
      { ...round(5000, 6_420_000, true), answers: [] },
      round(9000, 6_300_000, true),
    ];
    const ids: number[] = [];
    for (const r of records)
      ids.push(
        await same(
          'saveRound',
          () => sq.saveRound(r),
          () => po.saveRound(r),
        ),
      );
    expect(ids).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // A duplicate source: refused, and nothing of the round stays.
    const dup = {
      ...round(9500, 6_000_000, true),
      answers: [...round(9500, 1, true).answers.slice(0, 2), round(9500, 1, true).answers[0]!],
    };
    await same(
      'saveRound duplicate',
      () => sq.saveRound(dup),
      () => po.saveRound(dup),
    );

    for (const n of ['regtest', 'signet', 'mainnet'] as const) {
      await same(
        `lastAccepted ${n}`,
        () => sq.lastAccepted(n),
        () => po.lastAccepted(n),
      );
      await same(
        `latestRound ${n}`,
        () => sq.latestRound(n),
        () => po.latestRound(n),
      );
      for (const from of [0, 1000, 1500, 1501, 4001, 10_000]) {
        await same(
          `acceptedBefore ${n} ${from}`,
          () => sq.acceptedBefore(n, from),
          () => po.acceptedBefore(n, from),
        );
        await same(
          `acceptedFrom ${n} ${from}`,
          () => sq.acceptedFrom(n, from),
          () => po.acceptedFrom(n, from),
        );
      }
    }
    for (const id of [...ids, 11, 0])
      await same(
        `round ${id}`,
        () => sq.round(id),
        () => po.round(id),
      );
    expect((await po.round(1))!.answers.map((a) => a.source)).toEqual([
      'kraken',
      'Zeta',
      'alpha',
      'bitstamp',
      'NULL',
    ]);
    for (const [from, to, limit] of [
      [0, 100_000, 100],
      [1500, 4000, 100],
      [1000, 9000, 3],
      [9001, 9999, 5],
    ])
      await same(
        `rounds ${from} ${to} ${limit}`,
        () => sq.rounds('regtest', from!, to!, limit!),
        () => po.rounds('regtest', from!, to!, limit!),
      );
    for (const [from, to, points] of [
      [0, 10_000, 1],
      [0, 10_000, 3],
      [1000, 9000, 4],
      [1000, 9000, 1000],
      [1500, 1500, 10],
      [1000, 4001, 7],
    ])
      await same(
        `history ${from} ${to} ${points}`,
        () => sq.history('regtest', from!, to!, points!),
        () => po.history('regtest', from!, to!, points!),
      );
    await same(
      'lastRoundId',
      () => sq.lastRoundId(),
      () => po.lastRoundId(),
    );
    for (const after of [0, 3, 10])
      await same(
        `answerOutcomesAfter ${after}`,
        () => sq.answerOutcomesAfter(after),
        () => po.answerOutcomesAfter(after),
      );
    for (const after of [0, 4, 10])
      await same(
        `roundStatusesAfter ${after}`,
        () => sq.roundStatusesAfter(after),
        () => po.roundStatusesAfter(after),
      );
    await sameRows('SELECT * FROM price_rounds');
    expect(refusals).toEqual(['saveRound duplicate → refused by the database']);
  });

  it('accounts: accounts, sessions, invites, node id, ledger and vault links, playground accounts', async () => {
    const sq = new SqliteAccounts(db);
    const pa = new PgAccounts(x);
    const key = (n: number) => n.toString(16).padStart(64, '0');
    const call = <K extends keyof SqliteAccounts & keyof PgAccounts>(
      k: K,
      ...args: Parameters<SqliteAccounts[K]>
    ) =>
      same(
        `${k} ${JSON.stringify(args)}`,
        () => (sq[k] as (...a: unknown[]) => unknown)(...args),
        () => (pa[k] as (...a: unknown[]) => Promise<unknown>)(...args),
      );

    await call('insert', 'acc:alice', key(1), 'Alice', 100);
    await call('insert', 'acc:bob', key(2), null, 101);
    await call('insert', 'acc:alice', key(3), 'Not Alice', 102);
    await call('insert', 'acc:eve', key(2), 'same key', 103); // refused: the key is taken
    for (const id of ['acc:alice', 'acc:bob', 'acc:eve']) await call('get', id);

    await call('insertSession', 's1', 'acc:alice', 100, 200);
    await call('insertSession', 's2', 'acc:bob', 100, 300);
    await call('insertSession', 's3', 'acc:alice', 100, 400);
    await call('insertSession', 's1', 'acc:bob', 100, 500); // refused: taken
    await call('insertSession', 's4', 'acc:nobody', 100, 500); // refused: no such account
    await call('session', 's1');
    await call('deleteExpiredSessions', 300);
    for (const s of ['s1', 's2', 's3']) await call('session', s);
    await call('deleteSession', 's3');
    await call('deleteSession', 'never');
    await call('session', 's3');

    await call('insertInvite', 'c1', 100);
    await call('insertInvite', 'c2', 101);
    await call('useInvite', 'c1', 'acc:alice', 150);
    await call('useInvite', 'c1', 'acc:bob', 151);
    await call('useInvite', 'nope', 'acc:bob', 152);
    await sameRows('SELECT * FROM invites');

    await call('nodeId', 'regtest');
    await call('saveNodeId', 'regtest', 'node-1');
    await call('saveNodeId', 'regtest', 'node-2');
    await call('nodeId', 'regtest');
    await call('nodeId', 'signet');

    await call('ledgerAccountExists', 'holder:alice');
    await exec("INSERT INTO ledger_accounts (id, kind) VALUES ('holder:alice', 'holder')");
    for (const id of ['holder:alice', 'surplus', 'holder:Alice'])
      await call('ledgerAccountExists', id);
    await vaults(5, 'acc:bob');
    await call('adoptVaultsWithoutAccount', 'acc:alice');
    await call('adoptVaultsWithoutAccount', 'acc:bob');
    await sameRows('SELECT id, account_id FROM vaults');

    // Playground accounts, added in an order that is not their ids' nor their labels', with the
    // active one rewritten often in between (PostgreSQL's heap order then strays from it).
    await call('activePlaygroundAccount', 'regtest');
    await call('playgroundAccounts', 'regtest');
    const added = ['p:m', 'p:c', 'p:x', 'p:a', 'p:b'];
    for (const [i, id] of added.entries()) {
      // As core/accounts/playground.ts does: registered, then added; two in one millisecond.
      await call('insert', id, key(10 + i), `label ${i}`, i === 4 ? 1003 : 1000 + i);
      await call('addPlaygroundAccount', 'regtest', id, i === 2 ? 'Zoë' : `Player ${5 - i}`);
      for (let j = 0; j < 150; j++)
        await call('setActivePlaygroundAccount', 'regtest', j % 2 ? id : 'acc:alice');
      await call('playgroundAccounts', 'regtest');
    }
    await call('addPlaygroundAccount', 'regtest', 'p:m', 'again'); // refused: there already
    await call('addPlaygroundAccount', 'signet', 'p:c', 'C');
    await call('playgroundAccounts', 'signet');
    await call('playgroundAccounts', 'mainnet');
    expect((await pa.playgroundAccounts('regtest')).map((p) => p.accountId)).toEqual(added);
    await call('activePlaygroundAccount', 'regtest');
    await call('setActivePlaygroundAccount', 'signet', 'p:c');
    await call('activePlaygroundAccount', 'signet');
    await sameRows('SELECT network, key, value FROM settings');
    expect(refusals.map((r) => r.split(' [')[0])).toEqual([
      'insert',
      'insertSession',
      'insertSession',
      'addPlaygroundAccount',
    ]);
  });
});
