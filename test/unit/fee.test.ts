/**
 * The stability fee's accumulator (core/vaults/fee.ts) against vectors computed independently
 * with Python's decimal at 60 digits (test/fixtures/fees/accumulator.json, written by
 * scripts/fixtures/fee-vectors.py), and its books on a real SQLite database.
 */
import { describe, expect, it } from 'vitest';
import vectors from '../fixtures/fees/accumulator.json';
import { openDatabase } from '../../core/db/database';
import { holderAccount, vaultAccount } from '../../core/ledger/bsusd';
import {
  RAY,
  debtOf,
  dutyOf,
  grow,
  artOf,
  rpow,
  feePerYear,
  SECONDS_PER_YEAR,
} from '../../core/vaults/fee';
import { accrueVault, drip, rateAt, setAnnualRate, sweepFees } from '../../core/vaults/fee-book';
import { sqliteStore } from '../../core/store/sqlite';

/** A decimal string as a ray (27 places, truncated). */
const toRay = (s: string) => {
  const [w, f = ''] = s.split('.');
  return BigInt(w!) * RAY + BigInt((f + '0'.repeat(27)).slice(0, 27));
};

describe('the stability fee accumulator, against exact compounding (Python decimal, 60 digits)', () => {
  for (const v of vectors.vectors) {
    it(`${v.annualBps} bps for ${v.seconds} s: the rate is at most the exact one, short of it by at most 2·10^-27 a second; debts round up to the cent exactly as the exact rate does`, () => {
      const exact = toRay(v.rate);
      const ours = grow(RAY, v.annualBps, v.seconds);
      expect(ours <= exact + 1n).toBe(true); // never above the true compound rate (the fixture truncates)
      // The per-second factor is rounded down by under 10^-27, and each step of the power by as
      // much: the rate falls short by at most ~2·10^-27 per second compounded (10^-19 in a year).
      expect(exact - ours <= (exact * BigInt(2 * v.seconds + 100)) / RAY).toBe(true);
      for (const d of v.debts) {
        expect(debtOf(artOf(d.principalCents, RAY, 'repay'), ours)).toBe(d.debtCents);
      }
    });
  }

  it('a year is a year whichever way it is dripped: in one step, by days, or by seconds for an hour then the rest', () => {
    const once = grow(RAY, 200, SECONDS_PER_YEAR);
    let daily = RAY;
    for (let d = 0; d < 365; d++) daily = grow(daily, 200, 86_400);
    let mixed = RAY;
    for (let s = 0; s < 3600; s++) mixed = grow(mixed, 200, 1);
    mixed = grow(mixed, 200, SECONDS_PER_YEAR - 3600);
    const target = (RAY * 10_200n) / 10_000n;
    for (const r of [once, daily, mixed]) {
      expect(r <= target).toBe(true);
      expect(target - r < 10n ** 9n).toBe(true); // 10^-18 of 1.02
      // 2,500.00 bsUSD for a year at 2 % is exactly 2,550.00: the cent is never rounded past.
      expect(debtOf(artOf(250_000, RAY, 'repay'), r)).toBe(255_000);
    }
  });

  it('the per-second factor is the largest whose year does not pass the annual rate', () => {
    for (const bps of [1, 200, 500, 10_000]) {
      const d = dutyOf(bps);
      const target = (RAY * BigInt(10_000 + bps)) / 10_000n;
      expect(rpow(d, SECONDS_PER_YEAR) <= target).toBe(true);
      expect(rpow(d + 1n, SECONDS_PER_YEAR) > target).toBe(true);
    }
    expect(dutyOf(0)).toBe(RAY);
  });

  it('"per year at today\'s debt" rounds up', () => {
    expect(feePerYear(250_000 as never, 200)).toBe(5_000);
    expect(feePerYear(12_345 as never, 200)).toBe(247); // 246.9 → 247
    expect(feePerYear(0 as never, 200)).toBe(0);
  });
});

describe('the fee books on SQLite', () => {
  /** A database with one active vault owing `debt` at rate 1.0, fee `bps` from t=0. */
  async function withVault(debt: number, bps: number) {
    const db = openDatabase(':memory:');
    db.prepare(
      "INSERT INTO key_sets (id, network, owner_key, protocol_key, guardian_key, next_index, created_at) VALUES (1, 'regtest', 'o', 'p', 'g', 1, 0)",
    ).run();
    db.prepare(
      `INSERT INTO vaults (id, key_set_id, idx, network, address, descriptor, state, collateral_sats, debt_cents, debt_art, created_at, updated_at)
       VALUES (1, 1, 0, 'regtest', 'bcrt1qtest', 'wsh()', 'active', 10000000, 0, 0, 0, 0)`,
    ).run();
    db.prepare(
      "INSERT INTO ledger_accounts (id, kind, vault_id) VALUES ('vault:1', 'vault', 1)",
    ).run();
    await sqliteStore(db).ledger.ensureHolder('alice');
    await sqliteStore(db).transaction(async () => {
      await setAnnualRate(sqliteStore(db), 'regtest', bps, 0);
      await sqliteStore(db).ledger.post(
        'mint',
        1,
        [
          [holderAccount('alice'), debt],
          [vaultAccount(1), -debt],
        ],
        undefined,
        0,
      );
      db.prepare('UPDATE vaults SET debt_cents = ?, debt_art = ? WHERE id = 1').run(
        debt,
        debt * 1_000_000,
      );
    });
    return db;
  }
  const surplus = (db: ReturnType<typeof openDatabase>) =>
    db
      .prepare("SELECT balance_cents FROM ledger_accounts WHERE id = 'surplus'")
      .pluck()
      .get() as number;
  const YEAR_MS = SECONDS_PER_YEAR * 1000;

  it('a year at 2 % books exactly 2 % of the debt into surplus, once, however often the vault is touched', async () => {
    const db = await withVault(250_000, 200);
    for (let month = 1; month <= 12; month++) {
      await sqliteStore(db).transaction(
        async () => await accrueVault(sqliteStore(db), 1, Math.round((YEAR_MS * month) / 12)),
      );
      await sqliteStore(db).transaction(
        async () => await accrueVault(sqliteStore(db), 1, Math.round((YEAR_MS * month) / 12)),
      ); // twice: nothing more
    }
    expect(db.prepare('SELECT debt_cents, fees_cents FROM vaults WHERE id = 1').get()).toEqual({
      debt_cents: 255_000,
      fees_cents: 5_000,
    });
    expect(surplus(db)).toBe(5_000);
    expect(await sqliteStore(db).ledger.checkInvariant()).toMatchObject({ ok: true });
  });

  it('a sweep books every vault in one entry and the same total a touch would', async () => {
    const db = await withVault(1_000_000, 500);
    const out = await sqliteStore(db).transaction(
      async () => await sweepFees(sqliteStore(db), 'regtest', YEAR_MS / 2),
    );
    // 10,000.00 × (1.05^0.5 − 1) = 246.95…, rounded up.
    expect(out).toEqual({ vaults: 1, cents: 24_696 });
    expect(
      await sqliteStore(db).transaction(
        async () => await accrueVault(sqliteStore(db), 1, YEAR_MS / 2),
      ),
    ).toBe(1_024_696);
    expect(await sqliteStore(db).ledger.checkInvariant()).toMatchObject({
      ok: true,
      surplusCents: 24_696,
    });
  });

  it('a clock that steps back accrues nothing and un-books nothing; a rate change applies from then on only', async () => {
    const db = await withVault(250_000, 200);
    await sqliteStore(db).transaction(async () => await accrueVault(sqliteStore(db), 1, YEAR_MS));
    await sqliteStore(db).transaction(
      async () => await accrueVault(sqliteStore(db), 1, YEAR_MS / 2),
    );
    expect(surplus(db)).toBe(5_000);
    await sqliteStore(db).transaction(
      async () => await setAnnualRate(sqliteStore(db), 'regtest', 0, YEAR_MS),
    );
    await sqliteStore(db).transaction(
      async () => await accrueVault(sqliteStore(db), 1, 3 * YEAR_MS),
    );
    expect(surplus(db)).toBe(5_000);
    expect((await rateAt(sqliteStore(db), 'regtest', 3 * YEAR_MS)).annualBps).toBe(0);
    expect((await drip(sqliteStore(db), 'regtest', 3 * YEAR_MS)).rate).toBe(
      grow(RAY, 200, SECONDS_PER_YEAR),
    );
  });

  it('a liquidating vault accrues nothing: its tab was fixed when its auction started', async () => {
    const db = await withVault(250_000, 200);
    db.prepare("UPDATE vaults SET state = 'liquidating' WHERE id = 1").run();
    expect(
      await sqliteStore(db).transaction(async () => await accrueVault(sqliteStore(db), 1, YEAR_MS)),
    ).toBe(250_000);
    expect(
      await sqliteStore(db).transaction(
        async () => await sweepFees(sqliteStore(db), 'regtest', YEAR_MS),
      ),
    ).toEqual({
      vaults: 0,
      cents: 0,
    });
  });

  it('refuses a rate out of range with INVALID_CONFIG and changes nothing', async () => {
    const db = await withVault(250_000, 200);
    await expect(setAnnualRate(sqliteStore(db), 'regtest', 10_001, 0)).rejects.toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG' }),
    );
    expect((await rateAt(sqliteStore(db), 'regtest', 0)).annualBps).toBe(200);
  });
});
