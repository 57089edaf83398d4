/**
 * The PostgreSQL twins of the auctions, pool and redemptions repositories against their SQLite
 * originals: the same calls on the same data, on a migrated temporary SQLite file and on a
 * private PostgreSQL cluster, give equal answers — every method, with several rows, ties in the
 * orderings, nulls and writes that change what the reads see.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, type Sqlite } from '../../core/db/database';
import { migratePostgres } from '../../core/db/pg/database';
import type { Async } from '../../core/store/ports';
import { PgExecutor } from '../../core/store/pg/executor';
import { PgAuctions } from '../../core/store/pg/auctions';
import { PgPool } from '../../core/store/pg/pool';
import { PgRedemptions } from '../../core/store/pg/redemptions';
import { SqliteAuctions } from '../../core/store/sqlite/auctions';
import { SqlitePool } from '../../core/store/sqlite/pool';
import { SqliteRedemptions } from '../../core/store/sqlite/redemptions';
import type {
  AuctionsRepo,
  NewLiquidation,
  NewTake,
  VaultCoinRow,
} from '../../core/store/auctions';
import type { PoolRepo } from '../../core/store/pool';
import type { RedemptionsRepo } from '../../core/store/redemptions';
import { pgRuns, usePostgres } from '../helpers/postgres';

const pg = usePostgres();
const opened: { db: Sqlite; dir: string }[] = [];
let executor: PgExecutor | undefined;

afterAll(() => {
  for (const { db, dir } of opened) {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Both databases, empty and migrated: a new SQLite file, and the cluster's tables truncated. */
async function fresh(): Promise<{ db: Sqlite; x: PgExecutor }> {
  const dir = mkdtempSync(join(tmpdir(), 'bitstable-pg-store-auctions-'));
  const db = openDatabase(join(dir, 'node.db'));
  opened.push({ db, dir });
  if (!executor) {
    const pool = pg.pool(4);
    await migratePostgres(pool);
    executor = new PgExecutor(pool);
  } else {
    const tables = await executor.column<string>(
      "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'bitstable_schema'",
    );
    await executor.run(`TRUNCATE ${tables.join(', ')} RESTART IDENTITY CASCADE`);
  }
  return { db, x: executor };
}

type Method<R, K extends keyof R> = R[K] extends (...a: infer A) => infer T
  ? { args: A; result: T }
  : never;

/**
 * A caller of the same method on both adapters that expects equal answers (and returns
 * SQLite's); `called` is every method it ran, to check that a test covers them all.
 */
function twin<R extends object>(s: R, p: Async<R>) {
  const called = new Set<string>();
  const call = async <K extends keyof R & string>(
    k: K,
    ...args: Method<R, K>['args']
  ): Promise<Method<R, K>['result']> => {
    called.add(k);
    const want = (s[k] as (...a: unknown[]) => unknown).apply(s, args);
    const got = await (p[k] as unknown as (...a: unknown[]) => Promise<unknown>).apply(p, args);
    expect(got, `${k}(${JSON.stringify(args)})`).toEqual(want);
    return want as Method<R, K>['result'];
  };
  return { call, called };
}

/** Every method of a repository class. */
function methodsOf(cls: { prototype: object }): string[] {
  return Object.getOwnPropertyNames(cls.prototype)
    .filter((n) => n !== 'constructor')
    .sort();
}

/** Runs `sql` (with `?` placeholders) on both databases: the prerequisite rows. */
function seeder(db: Sqlite, x: PgExecutor) {
  return async (sql: string, ...params: unknown[]): Promise<void> => {
    db.prepare(sql).run(...params);
    let n = 0;
    await x.run(
      sql.replace(/\?/g, () => `$${(n += 1)}`),
      params,
    );
  };
}

/** Both databases' whole table, by id: what a write changed, including what no read returns. */
async function sameTable(db: Sqlite, x: PgExecutor, table: string): Promise<void> {
  const want = db.prepare(`SELECT * FROM ${table} ORDER BY id`).all();
  expect(await x.rows(`SELECT * FROM ${table} ORDER BY id`), table).toEqual(want);
}

interface VaultSeed {
  state: string;
  liq: number | null;
  warn: number | null;
  network?: string;
  collateral?: number;
  debt?: number;
}

/** A key set and its vaults, ids 1, 2, … in order. */
async function seedVaults(seed: ReturnType<typeof seeder>, vaults: VaultSeed[]): Promise<void> {
  await seed(
    "INSERT INTO key_sets (network, owner_key, protocol_key, guardian_key, created_at) VALUES ('regtest', 'o', 'p', 'g', 1)",
  );
  for (const [i, v] of vaults.entries()) {
    await seed(
      `INSERT INTO vaults (key_set_id, idx, network, address, descriptor, state, collateral_sats, debt_cents, debt_art,
                           liquidation_price_cents, warning_price_cents, created_at, updated_at)
       VALUES (1, ?, ?, ?, 'wsh(x)', ?, ?, ?, ?, ?, ?, 10, 10)`,
      i,
      v.network ?? 'regtest',
      `bcrt1q-vault-${i}`,
      v.state,
      v.collateral ?? 100_000 + i,
      v.debt ?? 5_000 + i,
      v.debt ?? 5_000 + i,
      v.liq,
      v.warn,
    );
  }
}

/** A spend row of a vault (ids 1, 2, … in order). */
async function seedSpend(
  seed: ReturnType<typeof seeder>,
  vaultId: number,
  kind: string,
  state: string,
  txid: string | null,
): Promise<void> {
  await seed(
    "INSERT INTO spends (vault_id, kind, state, plan, psbt, txid, created_at, updated_at) VALUES (?, ?, ?, '{}', 'psbt', ?, 1, 1)",
    vaultId,
    kind,
    state,
    txid,
  );
}

const auction = (vaultId: number, at: number, returnAddress: string | null): NewLiquidation => ({
  vaultId,
  startedAt: at,
  priceCents: 3_000_000,
  debtCents: 10_000 + vaultId,
  tabCents: 11_300 + vaultId,
  lotSats: 400_000,
  topPriceCents: 3_600_000,
  floorPriceCents: 2_000_000,
  cycleStartedAt: at,
  durationMs: 600_000,
  returnAddress,
});

const take = (
  liquidationId: number,
  taker: string,
  btcAddress: string,
  sats: number,
  viaPool = false,
): NewTake => ({
  liquidationId,
  taker,
  btcAddress,
  sats,
  paidCents: Math.floor(sats / 30),
  priceCents: 3_000_000,
  ts: 1_000 + sats,
  viaPool,
});

describe.skipIf(!pgRuns)('PostgreSQL repositories: auctions, pool, redemptions', () => {
  it('auctions: the health pass, an auction from start to settlement and back, a cure', async () => {
    const { db, x } = await fresh();
    const seed = seeder(db, x);
    const s = new SqliteAuctions(db);
    const { call, called } = twin<AuctionsRepo>(s, new PgAuctions(x));
    // At p = 100: liquidating are active 1, 8 (both 130: by id), 4 (150), then warning 2, 7;
    // warning are 10 (103, 50), 9 (103, 95), 3 (105); back to active are 11 (90), 5 (95).
    await seedVaults(seed, [
      { state: 'active', liq: 130, warn: 140 }, // 1
      { state: 'warning', liq: 120, warn: 130 }, // 2
      { state: 'active', liq: 90, warn: 105 }, // 3
      { state: 'active', liq: 150, warn: 160 }, // 4
      { state: 'warning', liq: 80, warn: 95 }, // 5
      { state: 'pending', liq: null, warn: null, debt: 0 }, // 6
      { state: 'warning', liq: 200, warn: 210 }, // 7
      { state: 'active', liq: 130, warn: 140 }, // 8
      { state: 'active', liq: 95, warn: 103 }, // 9
      { state: 'active', liq: 50, warn: 103 }, // 10
      { state: 'warning', liq: 70, warn: 90 }, // 11
      { state: 'liquidating', liq: 500, warn: 600, network: 'signet' }, // 12
    ]);

    // --- the health pass ---
    for (const p of [100, 0, 1_000, 103]) await call('healthCandidatesAt', p);
    const changes = await call('healthCandidatesAt', 100);
    expect(changes).toEqual({
      toLiquidating: [1, 8, 4, 2, 7],
      toWarning: [10, 9, 3],
      toActive: [11, 5],
    });
    await call('vaultHealth', 2);
    await call('vaultHealth', 6);
    await call('vaultHealth', 999);
    await call('everyVaultBand');
    await call('setVaultBand', 3, 'warning', 20);
    await call('setVaultBand', 11, 'active', 21);
    await call('everyVaultBand');
    await call('healthCandidatesAt', 100);
    await sameTable(db, x, 'vaults');

    // --- auctions: three vaults enter theirs ---
    await call('list', true);
    await call('running');
    await call('latestOf', 1);
    await call('runningOf', 1);
    for (const [vaultId, at, addr] of [
      [1, 100, 'bcrt1q-return-1'],
      [2, 110, null],
      [4, 120, 'bcrt1q-return-4'],
    ] as const) {
      await call('start', auction(vaultId, at, addr));
      await call('markVaultLiquidating', vaultId, at);
    }
    await sameTable(db, x, 'vaults');
    await call('list', true);
    await call('list', false);
    await call('running');
    await call('byId', 2);
    await call('byId', 99);
    await call('latestOf', 4);
    await call('runningOf', 4);
    await call('runningOf', 3);
    await call('setLot', 1, 350_000);
    await call('resetCycle', 1, 3_300_000, 1_900_000, 700);
    await call('resetCycle', 1, 3_200_000, 1_800_000, 800);
    await call('byId', 1);

    // Takes: an address paid twice, first seen after others, not in alphabetical order.
    await call('takerAddresses', 1);
    await call('payouts', 1);
    for (const t of [
      take(1, 'acct-b', 'bcrt1q-zz', 1_000),
      take(1, 'acct-a', 'bcrt1q-aa', 2_000, true),
      take(1, 'acct-b', 'bcrt1q-zz', 3_000),
      take(1, 'acct-c', 'bcrt1q-mm', 4_000),
      take(2, 'acct-a', 'bcrt1q-aa', 5_000, true),
    ])
      await call('recordTake', t);
    expect(await call('takerAddresses', 1)).toEqual(['bcrt1q-zz', 'bcrt1q-aa', 'bcrt1q-mm']);
    expect(await call('payouts', 1)).toEqual([
      { btc_address: 'bcrt1q-zz', sats: 4_000 },
      { btc_address: 'bcrt1q-aa', sats: 2_000 },
      { btc_address: 'bcrt1q-mm', sats: 4_000 },
    ]);
    await call('takerAddresses', 2);
    await sameTable(db, x, 'auction_takes');
    await call('setProgress', 1, 333, 10_000, 340_000);
    await call('setProgress', 2, 166, 5_000, 395_000);
    await call('setReturnAddress', 2, 'bcrt1q-return-2');
    await call('byId', 2);

    // The vault's coins, inserted out of outpoint order: SQLite answers in insertion (rowid)
    // order, PostgreSQL by outpoint — the same coins (the caller only sums and counts them).
    for (const [txid, vout, amount, conf] of [
      ['cc', 1, 300_000, 6],
      ['aa', 2, 100_000, 0],
      ['aa', 0, 50_000, 3],
      ['bb', 0, 70_000, 1],
    ] as const)
      await seed(
        'INSERT INTO vault_utxos (txid, vout, vault_id, amount_sats, confirmations) VALUES (?, ?, 1, ?, ?)',
        txid,
        vout,
        amount,
        conf,
      );
    await seed(
      "INSERT INTO vault_utxos (txid, vout, vault_id, amount_sats, confirmations) VALUES ('dd', 0, 2, 9, 9)",
    );
    const byOutpoint = (a: VaultCoinRow, b: VaultCoinRow) =>
      a.txid < b.txid ? -1 : a.txid > b.txid ? 1 : a.vout - b.vout;
    const pgAuctions = new PgAuctions(x);
    for (const v of [1, 2, 3]) {
      const want = s.vaultCoins(v);
      expect(await pgAuctions.vaultCoins(v)).toEqual([...want].sort(byOutpoint));
    }
    called.add('vaultCoins');

    // Spends: vault 1 has an abandoned and a sent settlement, vault 4 a confirmed one, vault 2
    // an abandoned withdrawal only.
    await seedSpend(seed, 1, 'settlement', 'abandoned', 'tx-s1');
    await seedSpend(seed, 1, 'settlement', 'broadcast', 'tx-s2');
    await seedSpend(seed, 4, 'withdraw', 'abandoned', null);
    await seedSpend(seed, 4, 'settlement', 'confirmed', 'tx-s4');
    await seedSpend(seed, 2, 'withdraw', 'abandoned', null);
    await seedSpend(seed, 2, 'settlement', 'signing', null);
    for (const v of [1, 2, 3, 4]) {
      await call('settlementSpendOf', v);
      await call('spendBlockingSettlement', v);
    }

    // The auctions end; settlements fail, are retried, one clears.
    await call('settling');
    await call('failingSettlements');
    await call('end', 1, 900, 0);
    await call('end', 2, 910, 250);
    await call('settling');
    await call('recordSettlementError', 1, 'no fee estimate', 'NODE_UNAVAILABLE', 920);
    await call('recordSettlementError', 2, 'the node refused it', 'BROADCAST_REFUSED', 930);
    await call('recordSettlementError', 1, 'still no fee estimate', 'NODE_UNAVAILABLE', 940);
    await call('failingSettlements');
    await call('clearSettlementError', 2);
    await call('failingSettlements');
    await call('list', false);

    // --- settlement state: confirmed, then undone by a reorg ---
    await call('settlingIdOf', 1);
    await call('settlingIdOf', 4);
    await call('markSettled', 1);
    await call('markVaultLiquidated', 1, 1_000);
    await call('settlingIdOf', 1);
    await call('unsettledIdOf', 1);
    await call('unsettledIdOf', 2);
    await call('unsettledIdOf', 4);
    // Auction 2 already has an end (kept), auction 3 has none yet (set).
    await call('endWithoutCoins', 2, 1_100, 40);
    await call('endWithoutCoins', 3, 1_200, 75);
    await call('byId', 2);
    await call('byId', 3);
    await call('unmarkVaultLiquidated', 1, 1_300);
    await call('unmarkVaultLiquidated', 3, 1_300); // not Liquidated: unchanged
    await call('reopenLatest', 1);
    await call('reopenLatest', 3); // no auction: nothing
    await call('settling');
    await sameTable(db, x, 'vaults');

    // --- cures: vault 8's auction, untouched, then vault 9's, taken ---
    await call('untouchedOf', 8);
    await call('start', auction(8, 2_000, null));
    await call('start', auction(9, 2_010, null));
    await call('recordTake', take(5, 'acct-d', 'bcrt1q-dd', 700));
    await call('setProgress', 5, 23, 700, 399_300);
    await call('untouchedOf', 8);
    await call('untouchedOf', 9);
    await call('markCured', 5, 2_100); // covered: not cured
    await call('markCured', 4, 2_200);
    await call('markCured', 4, 2_300); // already settled: unchanged
    await call('byId', 4);
    await call('vaultNetwork', 8);
    await call('vaultNetwork', 12);
    await call('restoreCuredVault', 8, 9_000, 140, 150, 2_200);
    await call('restoreCuredVault', 9, 9_500, null, null, 2_210);
    await call('vaultHealth', 8);
    await call('everyVaultBand');
    await call('healthCandidatesAt', 100);
    await call('list', false);
    await call('list', true);
    await sameTable(db, x, 'liquidations');
    await sameTable(db, x, 'vaults');

    expect([...called].sort()).toEqual(methodsOf(PgAuctions));
  });

  it('pool: depositors, their addresses and accounts, the totals and the takes', async () => {
    const { db, x } = await fresh();
    const seed = seeder(db, x);
    const { call, called } = twin<PoolRepo>(new SqlitePool(db), new PgPool(x));
    const auctions = twin<AuctionsRepo>(new SqliteAuctions(db), new PgAuctions(x)).call;

    await call('totalCents');
    await call('depositorCount');
    await call('depositors');
    await call('depositAddress', 'alice');
    await call('takenBy', 'alice');
    await call('auctionsTaken', 'alice');

    // Ids whose byte order is not a locale's: upper case before '_' before lower case. This
    // cluster's locale is C; a database made under a language locale is what the column's ICU
    // collation stands for here.
    await x.run(
      'ALTER TABLE pool_depositors ALTER COLUMN account_id TYPE text COLLATE "und-x-icu"',
    );
    for (const id of ['alice', 'Bob', '_x', 'Zed', 'nil']) {
      await call('openPoolAccount', `pool:${id}`);
      await call('upsertDepositor', id, `bcrt1q-${id}-1`, 10);
    }
    await call('openPoolAccount', 'pool:alice'); // already open
    await call('upsertDepositor', 'Bob', 'bcrt1q-Bob-2', 20);
    expect(await x.rows('SELECT * FROM pool_depositors ORDER BY account_id COLLATE "C"')).toEqual(
      db.prepare('SELECT * FROM pool_depositors ORDER BY account_id').all(),
    );
    for (const [id, cents] of [
      ['alice', 700],
      ['Bob', 1_500],
      ['_x', 20],
      ['Zed', 3],
    ] as const)
      await seed('UPDATE ledger_accounts SET balance_cents = ? WHERE id = ?', cents, `pool:${id}`);
    await seed(
      "INSERT INTO ledger_accounts (id, kind, balance_cents) VALUES ('holder:alice', 'holder', 9999)",
    );

    expect((await call('depositors')).map((d) => d.accountId)).toEqual([
      'Bob',
      'Zed',
      '_x',
      'alice',
    ]);
    await call('depositAddress', 'Bob');
    await call('depositAddress', 'nobody');
    expect(await call('totalCents')).toBe(2_223);
    expect(await call('depositorCount')).toBe(4);

    // Takes through the pool in two auctions (and one outside it, and a third auction without
    // the pool).
    await seedVaults(seed, [
      { state: 'active', liq: 10, warn: 20 },
      { state: 'active', liq: 10, warn: 20 },
      { state: 'active', liq: 10, warn: 20 },
    ]);
    for (const v of [1, 2, 3]) await auctions('start', auction(v, 100 * v, null));
    for (const t of [
      take(1, 'alice', 'bcrt1q-alice-1', 3_000, true),
      take(1, 'Bob', 'bcrt1q-Bob-2', 6_000, true),
      take(1, 'alice', 'bcrt1q-alice-own', 900),
      take(2, 'Bob', 'bcrt1q-Bob-2', 1_200, true),
      take(2, 'alice', 'bcrt1q-alice-1', 2_400, true),
      take(2, 'alice', 'bcrt1q-alice-1', 600, true),
      take(3, 'Zed', 'bcrt1q-Zed-1', 5_000),
    ])
      await auctions('recordTake', t);
    expect(await call('takenBy', 'alice')).toEqual({ cents: 200, sats: 6_000 });
    await call('takenBy', 'Zed');
    await call('takenBy', 'nobody');
    for (const who of ['alice', 'Bob', 'nobody']) await call('auctionsTaken', who);
    expect((await call('auctionsTaken', 'alice')).map((r) => r.auction_id)).toEqual([2, 1]);

    expect([...called].sort()).toEqual(methodsOf(PgPool));
  });

  it('redemptions: candidates, redemptions and their payouts owed, paid and undone', async () => {
    const { db, x } = await fresh();
    const seed = seeder(db, x);
    const { call, called } = twin<RedemptionsRepo>(new SqliteRedemptions(db), new PgRedemptions(x));

    // 40 active vaults on regtest with ties in their keys (a page is 32), and others that are
    // not candidates: another state, another network, no key.
    const vaults: VaultSeed[] = [];
    for (let i = 0; i < 40; i++)
      vaults.push({ state: 'active', liq: 1_000 - 10 * (i % 13), warn: 2_000 });
    vaults.push({ state: 'warning', liq: 5_000, warn: 6_000 }); // 41
    vaults.push({ state: 'active', liq: 5_000, warn: 6_000, network: 'signet' }); // 42
    vaults.push({ state: 'active', liq: null, warn: null }); // 43
    await seedVaults(seed, vaults);
    const first = await call('candidatesPage', 'active', 'regtest', Number.MAX_SAFE_INTEGER, 0);
    expect(first).toHaveLength(32);
    const last = first[31]!;
    const second = await call(
      'candidatesPage',
      'active',
      'regtest',
      last.liquidation_price_cents,
      last.id,
    );
    expect(second).toHaveLength(8);
    await call('candidatesPage', 'active', 'regtest', 950, 20);
    await call('candidatesPage', 'warning', 'regtest', Number.MAX_SAFE_INTEGER, 0);
    await call('candidatesPage', 'active', 'signet', Number.MAX_SAFE_INTEGER, 0);
    await call('candidatesPage', 'active', 'mainnet', Number.MAX_SAFE_INTEGER, 0);

    // Nothing owed yet.
    await call('owedPayouts', 1);
    await call('owedUnsentSats', 1);
    await call('isOwed', 1);
    await call('owedBy', 1);
    await call('owedToSend');
    await call('get', 1);
    await call('listFor', 'acct-a', 10);
    await call('forVault', 1, 10);
    await call('payoutsOf', 1);

    // Three redemptions of two accounts, paid by vaults 1, 2 and 3.
    expect(
      await call('insertRedemption', 'acct-a', 'bcrt1q-ra', 10_000, 50, 3_000_000, 331_666, 100),
    ).toBe(1);
    expect(
      await call('insertRedemption', 'acct-b', 'bcrt1q-rb', 2_000, 10, 3_100_000, 64_193, 200),
    ).toBe(2);
    expect(
      await call('insertRedemption', 'acct-a', 'bcrt1q-ra2', 500, 0, 2_900_000, 17_241, 300),
    ).toBe(3);
    await call('insertOwedPayout', 1, 1, 6_000, 200_000); // payout 1
    await call('insertOwedPayout', 1, 2, 3_950, 131_666); // payout 2
    await call('insertOwedPayout', 2, 1, 1_990, 64_193); // payout 3: vault 1 owes two
    await call('insertOwedPayout', 3, 3, 500, 17_241); // payout 4
    await call('setRedeemedVault', 1, 99_000, 1_000, 1_000, 'active', 800, 900, 150);
    await call('setRedeemedVault', 2, 0, 0, 0, 'closed', null, null, 160);
    await sameTable(db, x, 'vaults');
    await call('candidatesPage', 'active', 'regtest', Number.MAX_SAFE_INTEGER, 0);

    for (const v of [1, 2, 3, 4]) {
      await call('owedPayouts', v);
      await call('owedUnsentSats', v);
      await call('isOwed', v);
      await call('owedBy', v);
    }
    await call('owedToSend');

    // Vault 1's payout 1 gets a spend: signing (still unsent), then signed (on its way).
    await seedSpend(seed, 1, 'redemption', 'signing', null); // spend 1
    await call('setPayoutSpend', 1, 1);
    await call('owedUnsentSats', 1);
    await call('payoutsOf', 1);
    await seed("UPDATE spends SET state = 'signed', txid = 'tx-r1' WHERE id = 1");
    await call('owedUnsentSats', 1);
    await call('payoutsOf', 1);
    // It confirms: paid; a second time, or an unknown payout, is not.
    expect(await call('markPaid', 1, 'tx-r1', 1, 500)).toBe(true);
    expect(await call('markPaid', 1, 'tx-r1', 1, 510)).toBe(false);
    expect(await call('markPaid', undefined, 'tx-x', 1, 520)).toBe(false);
    await seedSpend(seed, 3, 'redemption', 'abandoned', null); // spend 2
    await call('markPaid', 4, null, 2, 530);
    await call('payoutsOf', 1);
    await call('payoutsOf', 3);
    await call('owedBy', 1);
    await call('owedPayouts', 1);
    await call('owedToSend');
    await sameTable(db, x, 'redemption_payouts');
    // A reorg: undone by another spend does nothing, by its own spend puts it back to owed.
    await call('markUnpaid', 1, 2);
    await call('markUnpaid', undefined, 1);
    await sameTable(db, x, 'redemption_payouts');
    await call('markUnpaid', 1, 1);
    await call('owedPayouts', 1);
    await call('owedBy', 1);
    await call('owedUnsentSats', 1);
    await call('payoutsOf', 1);
    await sameTable(db, x, 'redemption_payouts');

    await call('get', 2);
    await call('get', 99);
    for (const limit of [1, 2, 10, 0, -1]) {
      await call('listFor', 'acct-a', limit);
      await call('forVault', 1, limit);
    }
    await call('listFor', 'nobody', 10);
    await call('forVault', 2, 10);
    await call('payoutsOf', 99);

    expect([...called].sort()).toEqual(methodsOf(PgRedemptions));
  });
});
