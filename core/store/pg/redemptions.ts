/** The redemptions port on PostgreSQL: the twin of sqlite/redemptions.ts. */
import type { Sats } from '../../money';
import type { Async } from '../ports';
import type {
  CandidateRow,
  OwedPayout,
  OwedToSend,
  PayoutRow,
  RedemptionRow,
  RedemptionsRepo,
  VaultPayoutRow,
} from '../redemptions';
import { owedPayoutFromRow, type OwedPayoutRow } from '../rows/redemptions';
import type { PgExecutor } from './executor';

/** SQLite reads a negative LIMIT as no limit; PostgreSQL refuses one and reads NULL so. */
const limitOf = (limit: number): number | null => (limit < 0 ? null : limit);

export class PgRedemptions implements Async<RedemptionsRepo> {
  constructor(private readonly x: PgExecutor) {}

  async owedPayouts(vaultId: number): Promise<OwedPayout[]> {
    const rows = await this.x.rows<OwedPayoutRow>(
      `SELECT p.id, p.redemption_id, r.btc_address, p.sats FROM redemption_payouts p
         JOIN redemptions r ON r.id = p.redemption_id
        WHERE p.vault_id = $1 AND p.state = 'owed' ORDER BY p.id`,
      [vaultId],
    );
    return rows.map(owedPayoutFromRow);
  }

  async owedUnsentSats(vaultId: number): Promise<Sats> {
    return (await this.x.value<number>(
      `SELECT COALESCE(SUM(p.sats), 0)::bigint FROM redemption_payouts p
        WHERE p.vault_id = $1 AND p.state = 'owed'
          AND NOT EXISTS (SELECT 1 FROM spends s WHERE s.id = p.spend_id
                           AND s.state IN ('signed', 'broadcast', 'confirmed'))`,
      [vaultId],
    )) as Sats;
  }

  async isOwed(vaultId: number): Promise<boolean> {
    return (
      (await this.x.row(
        "SELECT 1 FROM redemption_payouts WHERE vault_id = $1 AND state = 'owed' LIMIT 1",
        [vaultId],
      )) !== undefined
    );
  }

  async owedBy(vaultId: number): Promise<{ id: number; sats: number } | undefined> {
    return this.x.row<{ id: number; sats: number }>(
      "SELECT id, sats FROM redemption_payouts WHERE vault_id = $1 AND state = 'owed' ORDER BY id LIMIT 1",
      [vaultId],
    );
  }

  async owedToSend(): Promise<OwedToSend[]> {
    return this.x.rows<OwedToSend>(
      `SELECT p.id, p.vault_id, p.sats, r.btc_address FROM redemption_payouts p
         JOIN redemptions r ON r.id = p.redemption_id
        WHERE p.state = 'owed' ORDER BY p.id`,
    );
  }

  async candidatesPage(
    state: string,
    network: string,
    key: number,
    afterId: number,
  ): Promise<CandidateRow[]> {
    return this.x.rows<CandidateRow>(
      `SELECT id, collateral_sats, liquidation_price_cents FROM vaults
        WHERE state = $1 AND liquidation_price_cents IS NOT NULL AND network = $2
          AND (liquidation_price_cents < $3 OR (liquidation_price_cents = $3 AND id > $4))
        ORDER BY liquidation_price_cents DESC, id ASC LIMIT 32`,
      [state, network, key, afterId],
    );
  }

  async insertRedemption(
    accountId: string,
    btcAddress: string,
    redeemedCents: number,
    feeCents: number,
    priceCents: number,
    sats: number,
    ts: number,
  ): Promise<number> {
    return (await this.x.value<number>(
      `INSERT INTO redemptions (account_id, btc_address, redeemed_cents, fee_cents, price_cents, sats, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
      [accountId, btcAddress, redeemedCents, feeCents, priceCents, sats, ts],
    )) as number;
  }

  async insertOwedPayout(
    redemptionId: number,
    vaultId: number,
    debtCents: number,
    sats: number,
  ): Promise<void> {
    await this.x.run(
      "INSERT INTO redemption_payouts (redemption_id, vault_id, debt_cents, sats, state) VALUES ($1, $2, $3, $4, 'owed')",
      [redemptionId, vaultId, debtCents, sats],
    );
  }

  async setRedeemedVault(
    vaultId: number,
    collateralSats: number,
    debtCents: number,
    debtArt: number,
    state: string,
    liquidationPriceCents: number | null,
    warningPriceCents: number | null,
    ts: number,
  ): Promise<void> {
    await this.x.run(
      'UPDATE vaults SET collateral_sats = $1, debt_cents = $2, debt_art = $3, state = $4, liquidation_price_cents = $5, warning_price_cents = $6, updated_at = $7 WHERE id = $8',
      [
        collateralSats,
        debtCents,
        debtArt,
        state,
        liquidationPriceCents,
        warningPriceCents,
        ts,
        vaultId,
      ],
    );
  }

  async setPayoutSpend(payoutId: number, spendId: number): Promise<void> {
    await this.x.run('UPDATE redemption_payouts SET spend_id = $1 WHERE id = $2', [
      spendId,
      payoutId,
    ]);
  }

  async markPaid(
    payoutId: number | undefined,
    txid: string | null,
    spendId: number,
    ts: number,
  ): Promise<boolean> {
    // An undefined payout id binds as NULL in both drivers: nothing matches.
    return (
      (await this.x.run(
        "UPDATE redemption_payouts SET state = 'paid', txid = $1, spend_id = $2, paid_at = $3 WHERE id = $4 AND state = 'owed'",
        [txid, spendId, ts, payoutId ?? null],
      )) > 0
    );
  }

  async markUnpaid(payoutId: number | undefined, spendId: number): Promise<void> {
    await this.x.run(
      "UPDATE redemption_payouts SET state = 'owed', txid = NULL, paid_at = NULL WHERE id = $1 AND state = 'paid' AND spend_id = $2",
      [payoutId ?? null, spendId],
    );
  }

  async get(id: number): Promise<RedemptionRow | undefined> {
    return this.x.row<RedemptionRow>('SELECT * FROM redemptions WHERE id = $1', [id]);
  }

  async listFor(accountId: string, limit: number): Promise<RedemptionRow[]> {
    return this.x.rows<RedemptionRow>(
      'SELECT * FROM redemptions WHERE account_id = $1 ORDER BY id DESC LIMIT $2',
      [accountId, limitOf(limit)],
    );
  }

  async forVault(vaultId: number, limit: number): Promise<VaultPayoutRow[]> {
    return this.x.rows<VaultPayoutRow>(
      `SELECT p.id, p.redemption_id, p.debt_cents, p.sats, p.state, p.txid, r.price_cents, r.created_at
         FROM redemption_payouts p JOIN redemptions r ON r.id = p.redemption_id
        WHERE p.vault_id = $1 ORDER BY p.id DESC LIMIT $2`,
      [vaultId, limitOf(limit)],
    );
  }

  async payoutsOf(redemptionId: number): Promise<PayoutRow[]> {
    return this.x.rows<PayoutRow>(
      `SELECT p.id, p.vault_id, p.debt_cents, p.sats, p.state,
              COALESCE(p.txid, (SELECT txid FROM spends s WHERE s.id = p.spend_id AND s.state IN ('signed', 'broadcast', 'confirmed'))) AS txid
         FROM redemption_payouts p WHERE p.redemption_id = $1 ORDER BY p.id`,
      [redemptionId],
    );
  }
}
