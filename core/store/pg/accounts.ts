/** The accounts port on PostgreSQL: the twin of `sqlite/accounts.ts`. */
import type { Account, AccountsRepo } from '../accounts';
import type { Async } from '../ports';
import type { PgExecutor } from './executor';

/** The settings key prefix of a playground account (the key names the account, the value its label). */
const PLAYGROUND_PREFIX = 'playground:';

export class PgAccounts implements Async<AccountsRepo> {
  constructor(private readonly x: PgExecutor) {}

  async insert(
    accountId: string,
    pubkeyHex: string,
    label: string | null,
    ts: number,
  ): Promise<void> {
    await this.x.run(
      'INSERT INTO accounts (id, pubkey, label, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING',
      [accountId, pubkeyHex, label, ts],
    );
  }

  async get(accountId: string): Promise<Account | null> {
    const row = await this.x.row<{ id: string; label: string | null; created_at: number }>(
      'SELECT id, label, created_at FROM accounts WHERE id = $1',
      [accountId],
    );
    return row ? { id: row.id, label: row.label, createdAt: row.created_at } : null;
  }

  async deleteExpiredSessions(ts: number): Promise<void> {
    await this.x.run('DELETE FROM sessions WHERE expires_at <= $1', [ts]);
  }

  async insertSession(
    tokenHash: string,
    accountId: string,
    ts: number,
    expiresAt: number,
  ): Promise<void> {
    await this.x.run(
      'INSERT INTO sessions (token_hash, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4)',
      [tokenHash, accountId, ts, expiresAt],
    );
  }

  async session(tokenHash: string): Promise<{ accountId: string; expiresAt: number } | null> {
    const row = await this.x.row<{ account_id: string; expires_at: number }>(
      'SELECT account_id, expires_at FROM sessions WHERE token_hash = $1',
      [tokenHash],
    );
    return row ? { accountId: row.account_id, expiresAt: row.expires_at } : null;
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.x.run('DELETE FROM sessions WHERE token_hash = $1', [tokenHash]);
  }

  async insertInvite(codeHash: string, ts: number): Promise<void> {
    await this.x.run('INSERT INTO invites (code_hash, created_at) VALUES ($1, $2)', [codeHash, ts]);
  }

  async useInvite(codeHash: string, accountId: string, ts: number): Promise<boolean> {
    return (
      (await this.x.run(
        'UPDATE invites SET used_by = $1, used_at = $2 WHERE code_hash = $3 AND used_by IS NULL',
        [accountId, ts, codeHash],
      )) === 1
    );
  }

  async nodeId(network: string): Promise<string | null> {
    return (
      (await this.x.value<string>(
        "SELECT value FROM settings WHERE network = $1 AND key = 'node_id'",
        [network],
      )) ?? null
    );
  }

  async saveNodeId(network: string, nodeId: string): Promise<void> {
    await this.x.run(
      "INSERT INTO settings (network, key, value) VALUES ($1, 'node_id', $2) ON CONFLICT DO NOTHING",
      [network, nodeId],
    );
  }

  async ledgerAccountExists(ledgerAccountId: string): Promise<boolean> {
    return !!(await this.x.value<number>('SELECT 1 FROM ledger_accounts WHERE id = $1', [
      ledgerAccountId,
    ]));
  }

  async adoptVaultsWithoutAccount(accountId: string): Promise<void> {
    await this.x.run('UPDATE vaults SET account_id = $1 WHERE account_id IS NULL', [accountId]);
  }

  /**
   * SQLite orders these by rowid; settings has none here, and its heap order is not the order
   * of insertion once `active_account` has been rewritten a few times. A playground account is
   * registered in the transaction that adds it (core/accounts/playground.ts), so the account's
   * created_at is when it was added; the heap order only breaks a tie within one millisecond.
   * ILIKE: SQLite's LIKE ignores ASCII case.
   */
  async playgroundAccounts(network: string): Promise<{ accountId: string; label: string }[]> {
    const rows = await this.x.rows<{ key: string; value: string }>(
      `SELECT s.key, s.value FROM settings s
         LEFT JOIN accounts a ON a.id = substr(s.key, ${PLAYGROUND_PREFIX.length + 1})
        WHERE s.network = $1 AND s.key ILIKE $2
        ORDER BY a.created_at NULLS LAST, s.ctid`,
      [network, `${PLAYGROUND_PREFIX}%`],
    );
    return rows.map((r) => ({ accountId: r.key.slice(PLAYGROUND_PREFIX.length), label: r.value }));
  }

  async addPlaygroundAccount(network: string, accountId: string, label: string): Promise<void> {
    await this.x.run('INSERT INTO settings (network, key, value) VALUES ($1, $2, $3)', [
      network,
      `${PLAYGROUND_PREFIX}${accountId}`,
      label,
    ]);
  }

  async activePlaygroundAccount(network: string): Promise<string | null> {
    return (
      (await this.x.value<string>('SELECT value FROM settings WHERE network = $1 AND key = $2', [
        network,
        'active_account',
      ])) ?? null
    );
  }

  async setActivePlaygroundAccount(network: string, accountId: string): Promise<void> {
    await this.x.run(
      "INSERT INTO settings (network, key, value) VALUES ($1, 'active_account', $2) ON CONFLICT (network, key) DO UPDATE SET value = excluded.value",
      [network, accountId],
    );
  }
}
