/** The pool port on SQLite (better-sqlite3). */
import type { Sqlite } from '../../db/database';
import { Statements, type Statement } from './statements';
import type { Cents } from '../../money';
import type { PoolAuctionRow, PoolDepositor, PoolRepo } from '../pool';

export class SqlitePool implements PoolRepo {
  private readonly statements: Statements;

  constructor(readonly db: Sqlite) {
    this.statements = new Statements(db);
  }

  private st(sql: string): Statement {
    return this.statements.row(sql);
  }

  private pluck(sql: string): Statement {
    return this.statements.pluck(sql);
  }

  depositors(): PoolDepositor[] {
    return (
      this.st(
        `SELECT d.account_id, d.btc_address, a.balance_cents FROM pool_depositors d
           JOIN ledger_accounts a ON a.id = 'pool:' || d.account_id
          WHERE a.balance_cents > 0 ORDER BY d.account_id`,
      ).all() as { account_id: string; btc_address: string; balance_cents: number }[]
    ).map((r) => ({
      accountId: r.account_id,
      btcAddress: r.btc_address,
      balanceCents: r.balance_cents as Cents,
    }));
  }

  depositAddress(accountId: string): string | undefined {
    return this.pluck('SELECT btc_address FROM pool_depositors WHERE account_id = ?').get(
      accountId,
    ) as string | undefined;
  }

  upsertDepositor(accountId: string, btcAddress: string, ts: number): void {
    this.st(
      `INSERT INTO pool_depositors (account_id, btc_address, created_at, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (account_id) DO UPDATE SET btc_address = excluded.btc_address, updated_at = excluded.updated_at`,
    ).run(accountId, btcAddress, ts, ts);
  }

  openPoolAccount(poolAccountId: string): void {
    this.st("INSERT OR IGNORE INTO ledger_accounts (id, kind) VALUES (?, 'pool')").run(
      poolAccountId,
    );
  }

  totalCents(): number {
    return this.pluck(
      "SELECT COALESCE(SUM(balance_cents), 0) FROM ledger_accounts WHERE kind = 'pool'",
    ).get() as number;
  }

  depositorCount(): number {
    return this.pluck(
      "SELECT COUNT(*) FROM ledger_accounts WHERE kind = 'pool' AND balance_cents > 0",
    ).get() as number;
  }

  takenBy(accountId: string): { cents: number; sats: number } {
    return this.st(
      'SELECT COALESCE(SUM(paid_cents), 0) AS cents, COALESCE(SUM(sats), 0) AS sats FROM auction_takes WHERE taker = ? AND via_pool = 1',
    ).get(accountId) as { cents: number; sats: number };
  }

  auctionsTaken(accountId: string): PoolAuctionRow[] {
    return this.st(
      `SELECT t.liquidation_id AS auction_id, l.vault_id, SUM(t.sats) AS pool_sats, SUM(t.paid_cents) AS pool_cents,
                SUM(CASE WHEN t.taker = ? THEN t.sats ELSE 0 END) AS your_sats,
                SUM(CASE WHEN t.taker = ? THEN t.paid_cents ELSE 0 END) AS your_cents
           FROM auction_takes t JOIN liquidations l ON l.id = t.liquidation_id
          WHERE t.via_pool = 1 GROUP BY t.liquidation_id ORDER BY t.liquidation_id DESC LIMIT 50`,
    ).all(accountId, accountId) as PoolAuctionRow[];
  }
}
