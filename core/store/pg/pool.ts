/** The pool port on PostgreSQL: the twin of sqlite/pool.ts. */
import type { Cents } from '../../money';
import type { Async } from '../ports';
import type { PoolAuctionRow, PoolDepositor, PoolRepo } from '../pool';
import type { PgExecutor } from './executor';

export class PgPool implements Async<PoolRepo> {
  constructor(private readonly x: PgExecutor) {}

  async depositors(): Promise<PoolDepositor[]> {
    // COLLATE "C": SQLite orders text by its bytes, PostgreSQL by the database's locale.
    const rows = await this.x.rows<{
      account_id: string;
      btc_address: string;
      balance_cents: number;
    }>(
      `SELECT d.account_id, d.btc_address, a.balance_cents FROM pool_depositors d
         JOIN ledger_accounts a ON a.id = 'pool:' || d.account_id
        WHERE a.balance_cents > 0 ORDER BY d.account_id COLLATE "C"`,
    );
    return rows.map((r) => ({
      accountId: r.account_id,
      btcAddress: r.btc_address,
      balanceCents: r.balance_cents as Cents,
    }));
  }

  async depositAddress(accountId: string): Promise<string | undefined> {
    return this.x.value<string>('SELECT btc_address FROM pool_depositors WHERE account_id = $1', [
      accountId,
    ]);
  }

  async upsertDepositor(accountId: string, btcAddress: string, ts: number): Promise<void> {
    await this.x.run(
      `INSERT INTO pool_depositors (account_id, btc_address, created_at, updated_at) VALUES ($1, $2, $3, $3)
         ON CONFLICT (account_id) DO UPDATE SET btc_address = excluded.btc_address, updated_at = excluded.updated_at`,
      [accountId, btcAddress, ts],
    );
  }

  async openPoolAccount(poolAccountId: string): Promise<void> {
    await this.x.run(
      "INSERT INTO ledger_accounts (id, kind) VALUES ($1, 'pool') ON CONFLICT DO NOTHING",
      [poolAccountId],
    );
  }

  async totalCents(): Promise<number> {
    return (await this.x.value<number>(
      "SELECT COALESCE(SUM(balance_cents), 0)::bigint FROM ledger_accounts WHERE kind = 'pool'",
    )) as number;
  }

  async depositorCount(): Promise<number> {
    return (await this.x.value<number>(
      "SELECT COUNT(*) FROM ledger_accounts WHERE kind = 'pool' AND balance_cents > 0",
    )) as number;
  }

  async takenBy(accountId: string): Promise<{ cents: number; sats: number }> {
    return (await this.x.row<{ cents: number; sats: number }>(
      `SELECT COALESCE(SUM(paid_cents), 0)::bigint AS cents, COALESCE(SUM(sats), 0)::bigint AS sats
         FROM auction_takes WHERE taker = $1 AND via_pool = 1`,
      [accountId],
    )) as { cents: number; sats: number };
  }

  async auctionsTaken(accountId: string): Promise<PoolAuctionRow[]> {
    return this.x.rows<PoolAuctionRow>(
      `SELECT t.liquidation_id AS auction_id, l.vault_id, SUM(t.sats)::bigint AS pool_sats,
              SUM(t.paid_cents)::bigint AS pool_cents,
              SUM(CASE WHEN t.taker = $1 THEN t.sats ELSE 0 END)::bigint AS your_sats,
              SUM(CASE WHEN t.taker = $1 THEN t.paid_cents ELSE 0 END)::bigint AS your_cents
         FROM auction_takes t JOIN liquidations l ON l.id = t.liquidation_id
        WHERE t.via_pool = 1 GROUP BY t.liquidation_id, l.vault_id ORDER BY t.liquidation_id DESC LIMIT 50`,
      [accountId],
    );
  }
}
