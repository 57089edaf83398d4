import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, migrate, SCHEMA_VERSION, schemaVersion } from '../../core/db/database';
import type { BitStableError } from '../../core/errors';

const dirs: string[] = [];
const tempDb = () => {
  const dir = mkdtempSync(join(tmpdir(), 'bitstable-db-'));
  dirs.push(dir);
  return join(dir, 'bitstable.sqlite');
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('database', () => {
  it('opens durable: WAL, synchronous=FULL, foreign keys on, fully migrated', () => {
    const db = openDatabase(tempDb());
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    db.close();
  });

  it('migrates a database from every older schema and keeps its vaults', () => {
    for (let from = 1; from < SCHEMA_VERSION; from++) {
      const path = tempDb();
      const old = openDatabase(path, { targetVersion: from });
      old
        .prepare(
          "INSERT INTO key_sets (network, owner_key, protocol_key, guardian_key, created_at) VALUES ('regtest','o','p','g',1)",
        )
        .run();
      old
        .prepare(
          "INSERT INTO vaults (key_set_id, idx, network, address, descriptor, state, collateral_sats, created_at, updated_at) VALUES (1, 0, 'regtest', 'bcrt1qexample', 'wsh(...)', 'active', 12345, 1, 1)",
        )
        .run();
      old.close();
      const db = openDatabase(path);
      expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
      expect(
        db
          .prepare('SELECT collateral_sats FROM vaults WHERE address = ?')
          .pluck()
          .get('bcrt1qexample'),
      ).toBe(12345);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      db.close();
    }
  });

  it('migrating to schema 5 keeps every spend and lets a spend wait for the guardian', () => {
    const path = tempDb();
    const old = openDatabase(path, { targetVersion: 4 });
    old.exec(`
      INSERT INTO key_sets (network, owner_key, protocol_key, guardian_key, created_at) VALUES ('regtest','o','p','g',1);
      INSERT INTO vaults (key_set_id, idx, network, address, descriptor, state, collateral_sats, created_at, updated_at)
        VALUES (1, 0, 'regtest', 'bcrt1qexample', 'wsh(...)', 'active', 12345, 1, 1);
      INSERT INTO spends (vault_id, kind, state, plan, psbt, tx_hex, txid, destination, created_at, updated_at)
        VALUES (1, 'withdraw', 'broadcast', '{}', 'cHNidP8=', '00', 'aa', 'bcrt1qdest', 2, 3);
    `);
    const insertAwaiting =
      "INSERT INTO spends (vault_id, kind, state, plan, psbt, created_at, updated_at) VALUES (1, 'settlement', 'awaiting-guardian', '{}', 'cHNidP8=', 4, 4)";
    expect(() => old.exec(insertAwaiting)).toThrow(/CHECK/);
    old.close();
    const db = openDatabase(path, { targetVersion: 5 });
    expect(db.prepare('SELECT * FROM spends').all()).toEqual([
      {
        id: 1,
        vault_id: 1,
        kind: 'withdraw',
        state: 'broadcast',
        plan: '{}',
        psbt: 'cHNidP8=',
        tx_hex: '00',
        txid: 'aa',
        destination: 'bcrt1qdest',
        created_at: 2,
        updated_at: 3,
      },
    ]);
    db.exec(insertAwaiting);
    expect(
      db
        .prepare(
          "SELECT count(*) FROM spends INDEXED BY spends_open WHERE vault_id = 1 AND state IN ('draft', 'awaiting-guardian', 'signed', 'broadcast')",
        )
        .pluck()
        .get(),
    ).toBe(2);
    expect(db.pragma('foreign_key_check')).toEqual([]);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });

  it('migrating to schema 6 keeps the newest unsent spend of a vault and then allows only one', () => {
    const path = tempDb();
    const old = openDatabase(path, { targetVersion: 5 });
    old.exec(`
      INSERT INTO key_sets (network, owner_key, protocol_key, guardian_key, created_at) VALUES ('regtest','o','p','g',1);
      INSERT INTO vaults (key_set_id, idx, network, address, descriptor, state, collateral_sats, created_at, updated_at)
        VALUES (1, 0, 'regtest', 'bcrt1qexample', 'wsh(...)', 'active', 12345, 1, 1);
      INSERT INTO spends (vault_id, kind, state, plan, psbt, created_at, updated_at)
        VALUES (1, 'emergency-exit', 'draft', '{}', 'cHNidP8=', 1, 1);
      INSERT INTO spends (vault_id, kind, state, plan, psbt, created_at, updated_at)
        VALUES (1, 'emergency-exit', 'awaiting-guardian', '{}', 'cHNidP8=', 2, 2);
      INSERT INTO spends (vault_id, kind, state, plan, psbt, tx_hex, txid, created_at, updated_at)
        VALUES (1, 'withdraw', 'broadcast', '{}', 'cHNidP8=', '00', 'aa', 3, 3);
      INSERT INTO liquidations (vault_id, started_at, price_cents, debt_cents, tab_cents, lot_sats, state)
        VALUES (1, 1, 100, 0, 0, 0, 'settling');
    `);
    old.close();
    const db = openDatabase(path);
    expect(db.prepare('SELECT id, state FROM spends ORDER BY id').all()).toEqual([
      { id: 1, state: 'abandoned' },
      { id: 2, state: 'awaiting-guardian' },
      { id: 3, state: 'broadcast' },
    ]);
    // The vault's lock: a second open spend of the vault is refused by the database itself.
    expect(() =>
      db.exec(
        "INSERT INTO spends (vault_id, kind, state, plan, psbt, created_at, updated_at) VALUES (1, 'close', 'signing', '{}', 'cHNidP8=', 4, 4)",
      ),
    ).toThrow(/UNIQUE/);
    db.exec("UPDATE spends SET state = 'cancelled' WHERE id = 2");
    db.exec(
      "INSERT INTO spends (vault_id, kind, state, plan, psbt, created_at, updated_at, expires_at) VALUES (1, 'sweep', 'draft', '{}', 'cHNidP8=', 5, 5, 60)",
    );
    expect(db.prepare('SELECT last_error, error_count FROM liquidations').get()).toEqual({
      last_error: null,
      error_count: 0,
    });
    expect(db.pragma('foreign_key_check')).toEqual([]);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });

  it('refuses a database written by a newer app and leaves it alone', () => {
    const path = tempDb();
    const db = openDatabase(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    let code = '';
    try {
      migrate(db);
    } catch (err) {
      code = (err as BitStableError).code;
    }
    expect(code).toBe('MIGRATION_FAILED');
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION + 1);
    db.close();
  });

  it('enforces money invariants in the schema: no negative collateral, no unknown state', () => {
    const db = openDatabase(tempDb());
    db.prepare(
      "INSERT INTO key_sets (network, owner_key, protocol_key, guardian_key, created_at) VALUES ('regtest','o','p','g',1)",
    ).run();
    const insert = (state: string, sats: number) =>
      db
        .prepare(
          "INSERT INTO vaults (key_set_id, idx, network, address, descriptor, state, collateral_sats, created_at, updated_at) VALUES (1, ?, 'regtest', ?, 'd', ?, ?, 1, 1)",
        )
        .run(Math.floor(Math.random() * 1e9), `a${Math.random()}`, state, sats);
    expect(() => insert('active', -1)).toThrow(/CHECK/);
    expect(() => insert('sleeping', 1)).toThrow(/CHECK/);
    db.close();
  });
});
