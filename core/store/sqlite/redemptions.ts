/** The redemptions port on SQLite (better-sqlite3). */
import type { Sqlite } from '../../db/database';
import { Statements, type Statement } from './statements';
import type { Sats } from '../../money';
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

/**
 * One page of redemption candidates in one state, lowest ratio (highest index key) first, after
 * (key, id): a range scan of the (state, liquidation price) index.
 */
export const CANDIDATES_SQL = `SELECT id, collateral_sats, liquidation_price_cents FROM vaults
  WHERE state = ? AND liquidation_price_cents IS NOT NULL AND network = ?
    AND (liquidation_price_cents < ? OR (liquidation_price_cents = ? AND id > ?))
  ORDER BY liquidation_price_cents DESC, id ASC LIMIT 32`;

export class SqliteRedemptions implements RedemptionsRepo {
  private readonly statements: Statements;

  constructor(readonly db: Sqlite) {
    this.statements = new Statements(db);
  }

  private q(sql: string, pluck = false): Statement {
    return this.statements.get(sql, pluck);
  }

  owedPayouts(vaultId: number): OwedPayout[] {
    return (
      this.q(
        `SELECT p.id, p.redemption_id, r.btc_address, p.sats FROM redemption_payouts p
           JOIN redemptions r ON r.id = p.redemption_id
          WHERE p.vault_id = ? AND p.state = 'owed' ORDER BY p.id`,
      ).all(vaultId) as OwedPayoutRow[]
    ).map(owedPayoutFromRow);
  }

  owedUnsentSats(vaultId: number): Sats {
    return this.q(
      `SELECT COALESCE(SUM(p.sats), 0) FROM redemption_payouts p
        WHERE p.vault_id = ? AND p.state = 'owed'
          AND NOT EXISTS (SELECT 1 FROM spends s WHERE s.id = p.spend_id
                           AND s.state IN ('signed', 'broadcast', 'confirmed'))`,
      true,
    ).get(vaultId) as Sats;
  }

  isOwed(vaultId: number): boolean {
    return !!this.q("SELECT 1 FROM redemption_payouts WHERE vault_id = ? AND state = 'owed'").get(
      vaultId,
    );
  }

  owedBy(vaultId: number): { id: number; sats: number } | undefined {
    return this.q(
      "SELECT id, sats FROM redemption_payouts WHERE vault_id = ? AND state = 'owed'",
    ).get(vaultId) as { id: number; sats: number } | undefined;
  }

  owedToSend(): OwedToSend[] {
    return this.q(
      `SELECT p.id, p.vault_id, p.sats, r.btc_address FROM redemption_payouts p
             JOIN redemptions r ON r.id = p.redemption_id
            WHERE p.state = 'owed' ORDER BY p.id`,
    ).all() as OwedToSend[];
  }

  candidatesPage(state: string, network: string, key: number, afterId: number): CandidateRow[] {
    return this.q(CANDIDATES_SQL).all(state, network, key, key, afterId) as CandidateRow[];
  }

  insertRedemption(
    accountId: string,
    btcAddress: string,
    redeemedCents: number,
    feeCents: number,
    priceCents: number,
    sats: number,
    ts: number,
  ): number {
    return Number(
      this.q(
        'INSERT INTO redemptions (account_id, btc_address, redeemed_cents, fee_cents, price_cents, sats, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ).run(accountId, btcAddress, redeemedCents, feeCents, priceCents, sats, ts).lastInsertRowid,
    );
  }

  insertOwedPayout(redemptionId: number, vaultId: number, debtCents: number, sats: number): void {
    this.q(
      "INSERT INTO redemption_payouts (redemption_id, vault_id, debt_cents, sats, state) VALUES (?, ?, ?, ?, 'owed')",
    ).run(redemptionId, vaultId, debtCents, sats);
  }

  setRedeemedVault(
    vaultId: number,
    collateralSats: number,
    debtCents: number,
    debtArt: number,
    state: string,
    liquidationPriceCents: number | null,
    warningPriceCents: number | null,
    ts: number,
  ): void {
    this.q(
      'UPDATE vaults SET collateral_sats = ?, debt_cents = ?, debt_art = ?, state = ?, liquidation_price_cents = ?, warning_price_cents = ?, updated_at = ? WHERE id = ?',
    ).run(
      collateralSats,
      debtCents,
      debtArt,
      state,
      liquidationPriceCents,
      warningPriceCents,
      ts,
      vaultId,
    );
  }

  setPayoutSpend(payoutId: number, spendId: number): void {
    this.q('UPDATE redemption_payouts SET spend_id = ? WHERE id = ?').run(spendId, payoutId);
  }

  markPaid(
    payoutId: number | undefined,
    txid: string | null,
    spendId: number,
    ts: number,
  ): boolean {
    return (
      this.q(
        "UPDATE redemption_payouts SET state = 'paid', txid = ?, spend_id = ?, paid_at = ? WHERE id = ? AND state = 'owed'",
      ).run(txid, spendId, ts, payoutId).changes > 0
    );
  }

  markUnpaid(payoutId: number | undefined, spendId: number): void {
    this.q(
      "UPDATE redemption_payouts SET state = 'owed', txid = NULL, paid_at = NULL WHERE id = ? AND state = 'paid' AND spend_id = ?",
    ).run(payoutId, spendId);
  }

  get(id: number): RedemptionRow | undefined {
    return this.q('SELECT * FROM redemptions WHERE id = ?').get(id) as RedemptionRow | undefined;
  }

  listFor(accountId: string, limit: number): RedemptionRow[] {
    return this.q('SELECT * FROM redemptions WHERE account_id = ? ORDER BY id DESC LIMIT ?').all(
      accountId,
      limit,
    ) as RedemptionRow[];
  }

  forVault(vaultId: number, limit: number): VaultPayoutRow[] {
    return this.q(
      `SELECT p.id, p.redemption_id, p.debt_cents, p.sats, p.state, p.txid, r.price_cents, r.created_at
             FROM redemption_payouts p JOIN redemptions r ON r.id = p.redemption_id
            WHERE p.vault_id = ? ORDER BY p.id DESC LIMIT ?`,
    ).all(vaultId, limit) as VaultPayoutRow[];
  }

  payoutsOf(redemptionId: number): PayoutRow[] {
    return this.q(
      `SELECT p.id, p.vault_id, p.debt_cents, p.sats, p.state,
                COALESCE(p.txid, (SELECT txid FROM spends s WHERE s.id = p.spend_id AND s.state IN ('signed', 'broadcast', 'confirmed'))) AS txid
           FROM redemption_payouts p WHERE p.redemption_id = ? ORDER BY p.id`,
    ).all(redemptionId) as PayoutRow[];
  }
}
