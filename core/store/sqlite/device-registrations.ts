/** Ledger policy registrations (`RegistrationStore`) in the app's SQLite database. */
import type { KeyOrigin } from '../../bitcoin/keys';
import type { Sqlite } from '../../db/database';
import type {
  LedgerRegistration,
  RegistrationStore,
} from '../../signers/ledger/registration-store';

/** A RegistrationStore in the app's SQLite database (tables device_registrations, ledger_owner_keys). */
export class SqliteRegistrationStore implements RegistrationStore {
  constructor(private readonly db: Sqlite) {}

  async ownerKey(network: string): Promise<KeyOrigin | undefined> {
    return this.db
      .prepare('SELECT fingerprint, path, xpub FROM ledger_owner_keys WHERE network = ?')
      .get(network) as KeyOrigin | undefined;
  }

  async rememberOwnerKey(network: string, key: KeyOrigin): Promise<void> {
    this.db
      .prepare(
        'INSERT INTO ledger_owner_keys (network, fingerprint, path, xpub, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (network) DO NOTHING',
      )
      .run(network, key.fingerprint, key.path, key.xpub, Date.now());
  }

  async get(fingerprint: string, descriptor: string): Promise<LedgerRegistration | undefined> {
    const row = this.db
      .prepare(
        'SELECT fingerprint, descriptor, name, policy_id AS policyId, hmac FROM device_registrations WHERE fingerprint = ? AND descriptor = ?',
      )
      .get(fingerprint.toLowerCase(), descriptor) as LedgerRegistration | undefined;
    return row;
  }

  async put(r: LedgerRegistration): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO device_registrations (fingerprint, descriptor, name, policy_id, hmac, created_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (fingerprint, descriptor) DO UPDATE SET name = excluded.name, policy_id = excluded.policy_id, hmac = excluded.hmac`,
      )
      .run(r.fingerprint.toLowerCase(), r.descriptor, r.name, r.policyId, r.hmac, Date.now());
  }

  async delete(fingerprint: string, descriptor: string): Promise<void> {
    this.db
      .prepare('DELETE FROM device_registrations WHERE fingerprint = ? AND descriptor = ?')
      .run(fingerprint.toLowerCase(), descriptor);
  }
}
