/**
 * The PostgreSQL twins of the vaults, spends and ops repositories against their SQLite
 * originals: the same calls on the same data give the same answers (values, order, null and
 * undefined, integers as numbers, the debt sums as bigints).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, SCHEMA_VERSION, type Sqlite } from '../../core/db/database';
import { migratePostgres, openPostgres } from '../../core/db/pg/database';
import { PgExecutor } from '../../core/store/pg/executor';
import { PgNodeOps } from '../../core/store/pg/node-ops';
import { PgSpends } from '../../core/store/pg/spends';
import { PgVaults } from '../../core/store/pg/vaults';
import { SqliteNodeOps } from '../../core/store/sqlite/node-ops';
import { SqliteSpends } from '../../core/store/sqlite/spends';
import { SqliteVaults } from '../../core/store/sqlite/vaults';
import type { Sats } from '../../core/money';
import type { NewVault } from '../../core/store/vaults';
import { codeOf } from '../helpers/errors';
import { pgRuns, usePostgres } from '../helpers/postgres';

const pg = usePostgres();
const tmp = mkdtempSync(join(tmpdir(), 'bitstable-pg-store-vaults-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(!pgRuns)('PostgreSQL vaults, spends and ops repositories', () => {
  let db: Sqlite;
  let x: PgExecutor;
  let s: { vaults: SqliteVaults; spends: SqliteSpends; ops: SqliteNodeOps };
  let p: { vaults: PgVaults; spends: PgSpends; ops: PgNodeOps };

  beforeAll(async () => {
    db = openDatabase(join(tmp, 'node.sqlite'));
    const pool = pg.pool(4);
    await migratePostgres(pool);
    x = new PgExecutor(pool);
    s = { vaults: new SqliteVaults(db), spends: new SqliteSpends(db), ops: new SqliteNodeOps(db) };
    p = { vaults: new PgVaults(x), spends: new PgSpends(x), ops: new PgNodeOps(x) };
  });
  afterAll(() => db?.close());

  type Repos = typeof s;
  /** Calls `method` of repository `repo` with `args` on both; expects equal answers; returns it. */
  async function same<N extends keyof Repos, M extends keyof Repos[N]>(
    repo: N,
    method: M,
    ...args: Repos[N][M] extends (...a: infer A) => unknown ? A : never
  ): Promise<Repos[N][M] extends (...a: never[]) => infer T ? Awaited<T> : never> {
    const call = (r: object) =>
      (r as Record<M, (...a: unknown[]) => unknown>)[method].apply(r, args as unknown[]);
    const fromSqlite = await call(s[repo]);
    const fromPg = await call(p[repo]);
    expect(fromPg, `${String(repo)}.${String(method)}`).toEqual(fromSqlite);
    return fromSqlite as never;
  }
  /** A statement (written with `?`) on both databases, for rows no repository here writes. */
  async function both(sql: string, ...params: unknown[]): Promise<void> {
    db.prepare(sql).run(...params);
    let n = 0;
    await x.run(
      sql.replace(/\?/g, () => `$${++n}`),
      params,
    );
  }
  /** The same read on both (written with `?`); expects equal rows; returns them. */
  async function read(sql: string, ...params: unknown[]): Promise<unknown[]> {
    const a = db.prepare(sql).all(...params);
    let n = 0;
    const b = await x.rows(
      sql.replace(/\?/g, () => `$${++n}`),
      params,
    );
    expect(b, sql).toEqual(a);
    return a;
  }

  const k = (c: string) => c.repeat(66);
  const vault = (over: Partial<NewVault> & { index: number; address: string }): NewVault => ({
    keySetId: 1,
    network: 'regtest',
    descriptor: `wsh(desc${over.index})`,
    plannedDepositSats: null,
    returnAddress: null,
    label: null,
    accountId: null,
    createdAt: 1_000 + over.index,
    ...over,
  });

  it('vaults: key sets, vaults, coins, debt, the fee book', async () => {
    await both(
      'INSERT INTO accounts (id, pubkey, label, created_at) VALUES (?, ?, ?, ?)',
      'acct-a',
      'a'.repeat(64),
      'Alice',
      5,
    );
    await both(
      'INSERT INTO accounts (id, pubkey, label, created_at) VALUES (?, ?, ?, ?)',
      'acct-b',
      'b'.repeat(64),
      null,
      6,
    );

    // Key sets.
    expect(await same('vaults', 'insertKeySet', 'regtest', k('1'), k('2'), k('3'), 100)).toBe(1);
    expect(await same('vaults', 'insertKeySet', 'signet', k('4'), k('5'), k('6'), 101)).toBe(2);
    expect(await same('vaults', 'insertKeySet', 'regtest', k('7'), k('8'), k('9'), 102)).toBe(3);
    await same('vaults', 'keySetIdOf', 'regtest', k('7'), k('8'), k('9'));
    expect(await same('vaults', 'keySetIdOf', 'signet', k('7'), k('8'), k('9'))).toBeUndefined();
    await same('vaults', 'setKeySetNextIndex', 1, 5);
    await same('vaults', 'raiseKeySetWatchedEnd', 1, 20);
    await same('vaults', 'raiseKeySetWatchedEnd', 1, 10); // never lowers
    await same('vaults', 'raiseKeySetWatchedEnd', 3, 7);
    expect(await same('vaults', 'keySet', 1)).toMatchObject({ nextIndex: 5, watchedEnd: 20 });
    expect(await same('vaults', 'keySet', 99)).toBeUndefined();
    expect((await same('vaults', 'keySets', 'regtest')).map((r) => r.id)).toEqual([1, 3]);
    await same('vaults', 'keySets', 'mainnet');

    // Vaults: regtest 1, 2, 3, 4 (4 of key set 3), signet 5.
    await same('vaults', 'insert', vault({ index: 0, address: 'bcrt1a', accountId: 'acct-a' }));
    await same(
      'vaults',
      'insert',
      vault({
        index: 1,
        address: 'bcrt1b',
        accountId: 'acct-b',
        label: 'savings',
        plannedDepositSats: 250_000 as Sats,
        returnAddress: 'bcrt1return',
      }),
    );
    await same('vaults', 'insert', vault({ index: 2, address: 'bcrt1c', accountId: 'acct-a' }));
    await same('vaults', 'insert', vault({ keySetId: 3, index: 0, address: 'bcrt1d' }));
    expect(
      await same(
        'vaults',
        'insert',
        vault({ keySetId: 2, network: 'signet', index: 0, address: 'tb1e' }),
      ),
    ).toBe(5);
    for (const id of [1, 2, 3, 4, 5]) await same('vaults', 'openLedgerAccount', id);
    await same('vaults', 'setReturnAddress', 3, 'bcrt1elsewhere', 2_000);
    await same('vaults', 'byId', 3);
    expect(await same('vaults', 'byId', 42)).toBeUndefined();
    expect((await same('vaults', 'list', 'regtest')).map((v) => v.id)).toEqual([4, 3, 2, 1]);
    expect((await same('vaults', 'list', 'regtest', 'acct-a')).map((v) => v.id)).toEqual([3, 1]);
    await same('vaults', 'list', 'regtest', 'acct-none');
    await same('vaults', 'list', 'signet');
    expect(await same('vaults', 'accountOf', 2)).toBe('acct-b');
    expect(await same('vaults', 'accountOf', 4)).toBeNull();
    expect(await same('vaults', 'accountOf', 77)).toBeUndefined();
    expect(await same('vaults', 'accountRegistered', 'acct-a')).toBe(true);
    expect(await same('vaults', 'accountRegistered', 'acct-z')).toBe(false);

    // Coins and collateral.
    expect(await same('vaults', 'idByAddress', 'bcrt1c', 'regtest')).toBe(3);
    expect(await same('vaults', 'idByAddress', 'bcrt1c', 'signet')).toBeUndefined();
    await same('vaults', 'replaceCoins', 1, [
      { txid: 'aa'.repeat(32), vout: 0, amountSats: 100_000, confirmations: 6 },
      { txid: 'AB'.repeat(32), vout: 3, amountSats: 50_000, confirmations: 1 },
      { txid: 'aa'.repeat(32), vout: 1, amountSats: 70_000, confirmations: 0 },
    ]);
    await same('vaults', 'replaceCoins', 1, [
      { txid: 'bb'.repeat(32), vout: 2, amountSats: 40_000, confirmations: 3 },
      { txid: 'Bb'.repeat(32), vout: 0, amountSats: 30_000, confirmations: 9 },
      { txid: 'ba'.repeat(32), vout: 1, amountSats: 20_000, confirmations: 2 },
      { txid: 'ba'.repeat(32), vout: 0, amountSats: 10_000, confirmations: 2 },
    ]);
    await same('vaults', 'replaceCoins', 4, [
      { txid: 'cc'.repeat(32), vout: 0, amountSats: 5_000, confirmations: 0 },
    ]);
    await same('vaults', 'replaceCoins', 4, []);
    await same('vaults', 'replaceCoins', 3, [
      { txid: 'dd'.repeat(32), vout: 0, amountSats: 8_000, confirmations: 0 },
    ]);
    await read('SELECT * FROM vault_utxos ORDER BY vault_id, txid, vout');
    const collateral = (sats: number, incoming: number, state: string, liq: number | null) => ({
      collateralSats: sats,
      incomingSats: incoming,
      state,
      liquidationPriceCents: liq,
      warningPriceCents: liq === null ? null : liq + 500,
    });
    await same('vaults', 'setCollateral', 1, collateral(100_000, 0, 'active', 2_000_000), 3_000);
    await same('vaults', 'setCollateral', 2, collateral(0, 25_000, 'pending', null), 3_001);
    await same('vaults', 'setCollateral', 4, collateral(60_000, 0, 'warning', 3_000_000), 3_002);
    await same('vaults', 'setCollateral', 5, collateral(90_000, 0, 'active', null), 3_003);
    // 1 (collateral), 2 (incoming), 3 (stored coin only), 4 (collateral).
    expect(await same('vaults', 'idsWithCoins', 'regtest')).toEqual([1, 2, 3, 4]);
    await same('vaults', 'idsWithCoins', 'mainnet');

    // Debt.
    await same('vaults', 'debtBasis', 4);
    expect(await same('vaults', 'debtBasis', 40)).toBeUndefined();
    await same('vaults', 'setDebt', 1, 50_000, 50_000_000_000, 1_900_000, 2_100_000, 4_000);
    await same(
      'vaults',
      'setDebtAndState',
      4,
      12_345,
      12_000_000_000,
      'warning',
      2_500_000,
      null,
      4_001,
    );
    await same('vaults', 'setDebtAndState', 2, 700, 690_000_000, 'pending', null, null, 4_002);
    await same('vaults', 'setDebt', 5, 999, 999_000_000, null, null, 4_003);
    expect(await same('vaults', 'debtCents', 4)).toBe(12_345);
    expect(await same('vaults', 'debtCents', 44)).toBeUndefined();
    expect(await same('vaults', 'debtSums', 'regtest')).toEqual({
      booked: 63_045n,
      accruing_booked: 62_345n,
      accruing_art: 62_000_000_000n,
      collateral: 160_000n,
    });
    await same('vaults', 'debtSums', 'mainnet');

    // The fee book.
    expect(await same('vaults', 'feeRate', 'regtest')).toBeUndefined();
    await same('vaults', 'startFeeRate', 'regtest', '1000000000000000000000000000', 5_000);
    await same('vaults', 'startFeeRate', 'signet', '1000000000000000000000000000', 5_001);
    await same('vaults', 'setFeeRate', 'regtest', '1000000031709791983764586504', 6_000);
    await same('vaults', 'setAnnualBps', 'regtest', 150);
    expect(await same('vaults', 'feeRate', 'regtest')).toEqual({
      rate: '1000000031709791983764586504',
      annual_bps: 150,
      dripped_at: 6_000,
    });
    await same('vaults', 'feeRate', 'signet');
    await same('vaults', 'feeRow', 4);
    expect(await same('vaults', 'feeRow', 404)).toBeUndefined();
    await same('vaults', 'bookFee', 1, 25);
    await same('vaults', 'bookFee', 1, 5);
    await same('vaults', 'bookFee', 4, 11);
    await same('vaults', 'byId', 1);
    expect(await same('vaults', 'bookedFees', 'regtest')).toBe(41);
    expect(await same('vaults', 'bookedFees', 'mainnet')).toBe(0);
    // A spend holding vault 4's coins keeps it out of the sweep.
    expect((await same('vaults', 'sweepable', 'regtest')).map((v) => v.id)).toEqual([1, 4]);
    await s.spends.insertDraft(4, 'withdraw', '{}', 'psbt', null, 7_000, null, 'owner');
    await p.spends.insertDraft(4, 'withdraw', '{}', 'psbt', null, 7_000, null, 'owner');
    expect((await same('vaults', 'sweepable', 'regtest')).map((v) => v.id)).toEqual([1]);
    await same('vaults', 'sweepable', 'signet');

    // Spends seen from the vaults.
    expect(await same('vaults', 'isClosing', 4)).toBe(false);
    expect(await same('vaults', 'isOwnSpendTx', 'ee'.repeat(32))).toBe(false);
    await same('spends', 'moveState', 1, 'draft', 'signed', 7_100, {
      txid: 'ee'.repeat(32),
      tx_hex: '0200',
    });
    expect(await same('vaults', 'isOwnSpendTx', 'ee'.repeat(32))).toBe(true);
    expect(await same('vaults', 'isClosing', 4)).toBe(false); // a withdraw, not a close
    await same('vaults', 'insert', vault({ index: 3, address: 'bcrt1f' }));

    // The vault list's queries: totals, pages by id, the empty Pending left out, searches.
    expect(await same('vaults', 'vaultsWithTransaction', 'ee'.repeat(32))).toEqual([4]);
    const totals = await same('vaults', 'listTotals', 'regtest');
    expect(totals.byState.reduce((n, r) => n + r.count, 0)).toBeGreaterThan(2);
    const everything = await same('vaults', 'listPage', 'regtest', undefined, {
      hideEmptyPending: false,
    });
    expect(everything.total).toBe(everything.rows.length);
    const paged = await same(
      'vaults',
      'listPage',
      'regtest',
      undefined,
      { hideEmptyPending: true },
      { offset: 1, limit: 2, order: 'asc' },
    );
    expect(paged.total + paged.hiddenEmptyPending).toBe(everything.total);
    const byAddress = await same('vaults', 'listPage', 'regtest', undefined, {
      hideEmptyPending: false,
      search: { kind: 'text', text: 'bcrt1f' },
    });
    expect(byAddress.rows.map((v) => v.address)).toEqual(['bcrt1f']);
    await same('vaults', 'listPage', 'regtest', undefined, {
      hideEmptyPending: false,
      search: { kind: 'id', id: 4, text: '4' },
    });
    await same('vaults', 'listPage', 'regtest', 'nobody', {
      hideEmptyPending: false,
      search: { kind: 'ids', ids: [4] },
    });
    await s.spends.insertDraft(6, 'close', '{}', 'psbt', 'bcrt1dest', 7_200, null, 'owner');
    await p.spends.insertDraft(6, 'close', '{}', 'psbt', 'bcrt1dest', 7_200, null, 'owner');
    expect(await same('vaults', 'isClosing', 6)).toBe(false); // a draft
    await same('spends', 'moveState', 2, 'draft', 'broadcast', 7_300, { txid: 'ff'.repeat(32) });
    expect(await same('vaults', 'isClosing', 6)).toBe(true);

    // The API's steps.
    for (const [id, ts, kind] of [
      [1, 8_000, 'mint'],
      [2, 8_000, 'stability_fee'],
      [3, 7_500, 'repay'],
    ] as const) {
      await both(
        'INSERT INTO ledger_entries (id, ts, kind, vault_id) VALUES (?, ?, ?, ?)',
        id,
        ts,
        kind,
        1,
      );
    }
    await both(
      "INSERT INTO ledger_accounts (id, kind, balance_cents) VALUES ('holder:acct-a', 'holder', 0)",
    );
    for (const [entry, account, amount] of [
      [1, 'vault:1', -50_000],
      [1, 'holder:acct-a', 50_000],
      [2, 'vault:1', -30],
      [3, 'vault:1', 1_000],
    ] as const) {
      await both(
        'INSERT INTO ledger_postings (entry_id, account_id, amount_cents) VALUES (?, ?, ?)',
        entry,
        account,
        amount,
      );
    }
    expect(await same('vaults', 'debtSteps', 1)).toEqual([
      { ts: 7_500, amount: 1_000, kind: 'repay' },
      { ts: 8_000, amount: -50_000, kind: 'mint' },
      { ts: 8_000, amount: -30, kind: 'stability_fee' },
    ]);
    await same('vaults', 'debtSteps', 2);
    await same('ops', 'journal', 'vault.collateral', 1, { sats: 100_000 }, 9_000);
    await same('ops', 'journal', 'vault.debt', 1, { cents: 5 }, 9_001);
    await same('ops', 'journal', 'vault.collateral', 2, { sats: 1 }, 9_002);
    await same('ops', 'journal', 'vault.collateral', 1, { sats: 90_000, why: 'withdraw' }, 8_500);
    expect(await same('vaults', 'collateralSteps', 1)).toEqual([
      { ts: 9_000, data: '{"sats":100000}' },
      { ts: 8_500, data: '{"sats":90000,"why":"withdraw"}' },
    ]);
    await same('vaults', 'collateralSteps', 3);
    await read('SELECT * FROM vaults ORDER BY id');
    await read('SELECT * FROM key_sets ORDER BY id');
  });

  it('spends: drafts, moves, tracking, and their vaults', async () => {
    const draft = (vaultId: number, kind: 'withdraw' | 'close' | 'emergency-exit', ts: number) =>
      same(
        'spends',
        'insertDraft',
        vaultId,
        kind,
        `{"v":${vaultId}}`,
        `psbt${ts}`,
        null,
        ts,
        ts + 1_000,
        'owner',
      );
    // From the first test: 1 (vault 4, signed), 2 (vault 6, close, broadcast).
    expect(await same('spends', 'get', 1)).toMatchObject({
      state: 'signed',
      txid: 'ee'.repeat(32),
    });
    expect(await same('spends', 'get', 100)).toBeUndefined();
    expect(await draft(1, 'emergency-exit', 10_000)).toBe(3);
    await same('spends', 'moveState', 3, 'draft', 'awaiting-guardian', 10_100, {
      signing_by: 'guardian',
    });
    await same('spends', 'moveState', 3, 'awaiting-guardian', 'cancelled', 10_200, {
      signing_by: null,
    });
    await draft(1, 'emergency-exit', 11_000); // 4
    await same('spends', 'moveState', 4, 'draft', 'cancelled', 11_500, {});
    await draft(1, 'withdraw', 12_000); // 5
    await same('spends', 'moveState', 5, 'draft', 'signing', 12_100, { psbt: 'psbt-signing' });
    await same('spends', 'moveState', 5, 'signing', 'awaiting-guardian', 12_200, {});
    await draft(2, 'close', 13_000); // 6
    await same('spends', 'moveState', 6, 'draft', 'expired', 13_100, {});
    await draft(2, 'withdraw', 14_000); // 7
    await same('spends', 'moveState', 7, 'draft', 'signed', 14_100, {
      txid: '11'.repeat(32),
      tx_hex: '0201',
      cosign_price_cents: 6_500_000,
    });
    await same('spends', 'moveState', 7, 'signed', 'abandoned', 14_200, {});
    await same('spends', 'moveState', 2, 'broadcast', 'confirmed', 14_300, {});
    await same('spends', 'moveState', 1, 'signed', 'broadcast', 14_400, {});
    // Not in `from` any more: nothing changes.
    expect(await same('spends', 'moveState', 7, 'signed', 'broadcast', 15_000, { txid: 'x' })).toBe(
      false,
    );
    await read('SELECT * FROM spends ORDER BY id');

    expect((await same('spends', 'openFor', 1))?.id).toBe(5);
    expect(await same('spends', 'openFor', 2)).toBeUndefined();
    expect((await same('spends', 'openAll', 1)).map((r) => r.id)).toEqual([5]);
    expect((await same('spends', 'openAll', 4)).map((r) => r.id)).toEqual([1]);
    await same('spends', 'openAll', 3);
    expect((await same('spends', 'exitsCancelledSince', 1, 10_000)).map((r) => r.id)).toEqual([
      3, 4,
    ]);
    expect((await same('spends', 'exitsCancelledSince', 1, 11_000)).map((r) => r.id)).toEqual([4]);
    expect(
      (await same('spends', 'inStates', ['awaiting-guardian', 'broadcast', 'cancelled'])).map(
        (r) => r.id,
      ),
    ).toEqual([1, 3, 4, 5]);
    expect(await same('spends', 'inStates', [])).toEqual([]);
    expect(
      (await same('spends', 'ofVault', 1, ['awaiting-guardian', 'cancelled'])).map((r) => r.id),
    ).toEqual([3, 4, 5]);
    expect((await same('spends', 'ofVault', 2, ['expired', 'abandoned'])).map((r) => r.id)).toEqual(
      [6, 7],
    );
    expect(await same('spends', 'ofVault', 1, [])).toEqual([]);
    expect((await same('spends', 'watchedGuardianRequests', 11_000)).map((r) => r.id)).toEqual([
      4, 5,
    ]);
    expect((await same('spends', 'watchedGuardianRequests', 0)).map((r) => r.id)).toEqual([
      3, 4, 5,
    ]);
    expect((await same('spends', 'tracked', 14_000)).map((r) => r.id)).toEqual([1, 2]);
    expect((await same('spends', 'tracked', 14_300)).map((r) => r.id)).toEqual([1]);
    expect((await same('spends', 'droppedSince', 14_000)).map((r) => r.id)).toEqual([7]);
    expect(await same('spends', 'droppedSince', 14_200)).toEqual([]);
    expect(await same('spends', 'isOwnTransaction', 'ff'.repeat(32))).toBe(true);
    expect(await same('spends', 'isOwnTransaction', '11'.repeat(32))).toBe(false); // abandoned
    expect(await same('spends', 'hasTransaction', '11'.repeat(32))).toBe(true);
    expect(await same('spends', 'hasTransaction', '22'.repeat(32))).toBe(false);
    expect(await same('spends', 'latestInFlight', 1)).toEqual({
      kind: 'withdraw',
      txid: null,
      state: 'awaiting-guardian',
    });
    expect(await same('spends', 'latestInFlight', 4)).toMatchObject({ state: 'broadcast' });
    expect(await same('spends', 'latestInFlight', 2)).toBeUndefined();

    expect(await same('spends', 'isVaultCoin', 'bb'.repeat(32), 2)).toBe(true);
    expect(await same('spends', 'isVaultCoin', 'bb'.repeat(32), 0)).toBe(false);
    // Bytewise order of the txids ('Bb…' before 'ba…' before 'bb…'), then vout.
    expect(
      (await same('spends', 'confirmedCoins', 1, 2)).map((c) => `${c.txid.slice(0, 2)}:${c.vout}`),
    ).toEqual(['Bb:0', 'ba:0', 'ba:1', 'bb:2']);
    expect(await same('spends', 'confirmedCoins', 1, 4)).toHaveLength(1);
    await same('spends', 'confirmedCoins', 3, 1);

    await same('spends', 'reopenClosedVault', 1, 16_000); // not closed: stays as it is
    await same('spends', 'closeVault', 1, 16_100);
    expect(await same('vaults', 'byId', 1)).toMatchObject({ state: 'closed', updatedAt: 16_100 });
    await same('spends', 'reopenClosedVault', 1, 16_200);
    expect(await same('vaults', 'byId', 1)).toMatchObject({ state: 'active', updatedAt: 16_200 });
    await read('SELECT * FROM vaults ORDER BY id');
  });

  it('ops: journal, metrics readings, health, backups', async () => {
    await same(
      'ops',
      'journal',
      'node.started',
      null,
      { version: '1.0', nested: { a: [1, 2] } },
      20_000,
    );
    const before = Date.now();
    await same('ops', 'journal', 'node.tick', null, {});
    const [last] = await read(
      "SELECT type, vault_id, data FROM events WHERE type = 'node.tick' ORDER BY id",
    );
    expect(last).toEqual({ type: 'node.tick', vault_id: null, data: '{}' });
    const ts = await x.value<number>("SELECT ts FROM events WHERE type = 'node.tick'");
    expect(ts).toBeGreaterThanOrEqual(before);
    await read(
      "SELECT id, ts, type, vault_id, data FROM events WHERE type <> 'node.tick' ORDER BY id",
    );

    // Vaults: 1 active, 2 pending, 3 pending, 4 warning, 6 pending (regtest); 5 active (signet).
    expect(await same('ops', 'vaultCountsByState', 'regtest')).toEqual([
      { state: 'active', n: 1 },
      { state: 'pending', n: 3 },
      { state: 'warning', n: 1 },
    ]);
    await same('ops', 'vaultCountsByState', 'mainnet');
    expect(await same('ops', 'totalCollateralSats', 'regtest')).toBe(160_000);
    expect(await same('ops', 'totalCollateralSats', 'mainnet')).toBe(0);
    expect(await same('ops', 'totalDebtCents', 'regtest')).toBe(50_030 + 12_356 + 700);
    await same('ops', 'totalDebtCents', 'signet');

    expect(await same('ops', 'liquidationCountsByState')).toEqual([]);
    for (const [vaultId, state] of [
      [1, 'settled'],
      [2, 'running'],
      [1, 'settled'],
      [4, 'settling'],
      [3, 'running'],
      [5, 'settled'],
    ] as const) {
      await both(
        'INSERT INTO liquidations (vault_id, started_at, price_cents, debt_cents, tab_cents, lot_sats, state) VALUES (?, 1, 100, 1, 1, 1, ?)',
        vaultId,
        state,
      );
    }
    expect(await same('ops', 'liquidationCountsByState')).toEqual([
      { state: 'running', n: 2 },
      { state: 'settled', n: 3 },
      { state: 'settling', n: 1 },
    ]);

    expect(await same('ops', 'healthCheck')).toEqual({ schemaVersion: SCHEMA_VERSION });
    expect(await same('ops', 'isOpen')).toBe(true);
    const closed = openPostgres(pg.cluster().url, { max: 1 });
    await closed.end();
    expect(await new PgNodeOps(new PgExecutor(closed)).isOpen()).toBe(false);

    // A backup file is SQLite's; PostgreSQL is backed up with its own tools.
    await s.ops.backupTo(join(tmp, 'backup.sqlite'));
    expect(existsSync(join(tmp, 'backup.sqlite'))).toBe(true);
    expect(await codeOf(() => p.ops.backupTo(join(tmp, 'backup-pg.sqlite')))).toBe(
      'DATABASE_ERROR',
    );
    expect(existsSync(join(tmp, 'backup-pg.sqlite'))).toBe(false);

    // The repositories inside a transaction: the executor's connection, rolled back as one.
    await expect(
      x.transaction(async () => {
        await p.ops.journal('doomed', null, {}, 1);
        await p.spends.closeVault(4, 1);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await p.vaults.byId(4)).toEqual(s.vaults.byId(4));
    expect(await x.value("SELECT count(*) FROM events WHERE type = 'doomed'")).toBe(0);
  });
});
