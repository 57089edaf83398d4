import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../core/db/database';
import { SqliteRegistrationStore } from '../../core/store/sqlite/device-registrations';

const dir = mkdtempSync(join(tmpdir(), 'bitstable-reg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Ledger registrations in SQLite', () => {
  it('survive a reopen, so the owner registers a vault set once per device', async () => {
    const path = join(dir, 'db.sqlite');
    const reg = {
      fingerprint: 'F5ACC2FD',
      descriptor: 'wsh(sortedmulti(2,[a]x/**,[b]y/**,[c]z/**))',
      name: 'BitStable 1a2b3c',
      policyId: 'ab'.repeat(32),
      hmac: 'cd'.repeat(32),
    };
    let db = openDatabase(path);
    await new SqliteRegistrationStore(db).put(reg);
    db.close();
    db = openDatabase(path);
    const store = new SqliteRegistrationStore(db);
    expect(await store.get('f5acc2fd', reg.descriptor)).toEqual({
      ...reg,
      fingerprint: 'f5acc2fd',
    });
    expect(await store.get('f5acc2fd', 'another policy')).toBeUndefined();
    await store.put({ ...reg, hmac: 'ef'.repeat(32) });
    expect((await store.get('f5acc2fd', reg.descriptor))!.hmac).toBe('ef'.repeat(32));
    await store.delete('F5ACC2FD', reg.descriptor);
    expect(await store.get('f5acc2fd', reg.descriptor)).toBeUndefined();
    db.close();
  });
});
