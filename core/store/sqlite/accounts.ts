/** The accounts port on SQLite (better-sqlite3). */
import type { Sqlite } from '../../db/database';
import { Statements, type Statement } from './statements';
import type { Account, AccountsRepo } from '../accounts';

/** The settings key prefix of a playground account (the key names the account, the value its label). */
const PLAYGROUND_PREFIX = 'playground:';

export class SqliteAccounts implements AccountsRepo {
  private readonly statements: Statements;

  constructor(readonly db: Sqlite) {
    this.statements = new Statements(db);
  }

  private st(sql: string, pluck = false): Statement {
    return this.statements.get(sql, pluck);
  }

  insert(accountId: string, pubkeyHex: string, label: string | null, ts: number): void {
    this.st(
      'INSERT INTO accounts (id, pubkey, label, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
    ).run(accountId, pubkeyHex, label, ts);
  }

  get(accountId: string): Account | null {
    const row = this.st('SELECT id, label, created_at FROM accounts WHERE id = ?').get(
      accountId,
    ) as { id: string; label: string | null; created_at: number } | undefined;
    return row ? { id: row.id, label: row.label, createdAt: row.created_at } : null;
  }

  deleteExpiredSessions(ts: number): void {
    this.st('DELETE FROM sessions WHERE expires_at <= ?').run(ts);
  }

  insertSession(tokenHash: string, accountId: string, ts: number, expiresAt: number): void {
    this.st(
      'INSERT INTO sessions (token_hash, account_id, created_at, expires_at) VALUES (?, ?, ?, ?)',
    ).run(tokenHash, accountId, ts, expiresAt);
  }

  session(tokenHash: string): { accountId: string; expiresAt: number } | null {
    const row = this.st('SELECT account_id, expires_at FROM sessions WHERE token_hash = ?').get(
      tokenHash,
    ) as { account_id: string; expires_at: number } | undefined;
    return row ? { accountId: row.account_id, expiresAt: row.expires_at } : null;
  }

  deleteSession(tokenHash: string): void {
    this.st('DELETE FROM sessions WHERE token_hash = ?').run(tokenHash);
  }

  insertInvite(codeHash: string, ts: number): void {
    this.st('INSERT INTO invites (code_hash, created_at) VALUES (?, ?)').run(codeHash, ts);
  }

  useInvite(codeHash: string, accountId: string, ts: number): boolean {
    return (
      this.st(
        'UPDATE invites SET used_by = ?, used_at = ? WHERE code_hash = ? AND used_by IS NULL',
      ).run(accountId, ts, codeHash).changes === 1
    );
  }

  nodeId(network: string): string | null {
    return (
      (this.st("SELECT value FROM settings WHERE network = ? AND key = 'node_id'", true).get(
        network,
      ) as string | undefined) ?? null
    );
  }

  saveNodeId(network: string, nodeId: string): void {
    this.st(
      "INSERT INTO settings (network, key, value) VALUES (?, 'node_id', ?) ON CONFLICT DO NOTHING",
    ).run(network, nodeId);
  }

  ledgerAccountExists(ledgerAccountId: string): boolean {
    return !!this.st('SELECT 1 FROM ledger_accounts WHERE id = ?', true).get(ledgerAccountId);
  }

  adoptVaultsWithoutAccount(accountId: string): void {
    this.st('UPDATE vaults SET account_id = ? WHERE account_id IS NULL').run(accountId);
  }

  playgroundAccounts(network: string): { accountId: string; label: string }[] {
    return (
      this.st(
        'SELECT key, value FROM settings WHERE network = ? AND key LIKE ? ORDER BY rowid',
      ).all(network, `${PLAYGROUND_PREFIX}%`) as { key: string; value: string }[]
    ).map((r) => ({ accountId: r.key.slice(PLAYGROUND_PREFIX.length), label: r.value }));
  }

  addPlaygroundAccount(network: string, accountId: string, label: string): void {
    this.st('INSERT INTO settings (network, key, value) VALUES (?, ?, ?)').run(
      network,
      `${PLAYGROUND_PREFIX}${accountId}`,
      label,
    );
  }

  activePlaygroundAccount(network: string): string | null {
    return (
      (this.st('SELECT value FROM settings WHERE network = ? AND key = ?', true).get(
        network,
        'active_account',
      ) as string | undefined) ?? null
    );
  }

  setActivePlaygroundAccount(network: string, accountId: string): void {
    this.st(
      "INSERT INTO settings (network, key, value) VALUES (?, 'active_account', ?) ON CONFLICT (network, key) DO UPDATE SET value = excluded.value",
    ).run(network, accountId);
  }
}
