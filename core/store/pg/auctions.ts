/** The auctions port on PostgreSQL: the twin of sqlite/auctions.ts. */
import type { NetworkName } from '../../config/networks';
import { OPEN_SPEND_SQL } from '../../spends/state';
import type { Async } from '../ports';
import type {
  AuctionsRepo,
  FailingSettlementRow,
  HealthChanges,
  LiquidationRow,
  NewLiquidation,
  NewTake,
  SettlementSpendRow,
  VaultCoinRow,
  VaultHealthRow,
} from '../auctions';
import type { PgExecutor } from './executor';

/*
 * Orderings: where the SQLite statement has no ORDER BY, its answer comes in the order of the
 * index (or table) it scans; each statement here says that order explicitly, so both give the
 * same list (vaultCoins excepted, see there).
 */
export class PgAuctions implements Async<AuctionsRepo> {
  constructor(private readonly x: PgExecutor) {}

  // --- the health pass ---

  async healthCandidatesAt(p: number): Promise<HealthChanges> {
    return {
      // SQLite: active then warning (UNION ALL), each in (state, liquidation price) index order.
      toLiquidating: await this.x.column<number>(
        `SELECT id FROM vaults WHERE state IN ('active', 'warning') AND liquidation_price_cents > $1
          ORDER BY state = 'warning', liquidation_price_cents, id`,
        [p],
      ),
      // SQLite: (state, warning price, liquidation price) index order.
      toWarning: await this.x.column<number>(
        `SELECT id FROM vaults WHERE state = 'active' AND warning_price_cents > $1 AND liquidation_price_cents <= $1
          ORDER BY warning_price_cents, liquidation_price_cents, id`,
        [p],
      ),
      toActive: await this.x.column<number>(
        `SELECT id FROM vaults WHERE state = 'warning' AND warning_price_cents <= $1
          ORDER BY warning_price_cents, liquidation_price_cents, id`,
        [p],
      ),
    };
  }

  async vaultHealth(vaultId: number): Promise<VaultHealthRow> {
    return (await this.x.row<VaultHealthRow>(
      'SELECT state, collateral_sats, debt_cents, debt_art FROM vaults WHERE id = $1',
      [vaultId],
    )) as VaultHealthRow;
  }

  async everyVaultBand(): Promise<[number, string, number, number][]> {
    const rows = await this.x.rows<{
      id: number;
      state: string;
      collateral_sats: number;
      debt_cents: number;
    }>('SELECT id, state, collateral_sats, debt_cents FROM vaults ORDER BY id');
    return rows.map((r) => [r.id, r.state, r.collateral_sats, r.debt_cents]);
  }

  async setVaultBand(vaultId: number, state: 'warning' | 'active', ts: number): Promise<void> {
    await this.x.run('UPDATE vaults SET state = $1, updated_at = $2 WHERE id = $3', [
      state,
      ts,
      vaultId,
    ]);
  }

  // --- auctions ---

  async list(live: boolean): Promise<LiquidationRow[]> {
    return this.x.rows<LiquidationRow>(
      `SELECT * FROM liquidations ${live ? "WHERE state = 'running'" : ''} ORDER BY id DESC`,
    );
  }

  async running(): Promise<LiquidationRow[]> {
    return this.x.rows<LiquidationRow>(
      "SELECT * FROM liquidations WHERE state = 'running' ORDER BY id",
    );
  }

  async settling(): Promise<LiquidationRow[]> {
    return this.x.rows<LiquidationRow>(
      "SELECT * FROM liquidations WHERE state = 'settling' ORDER BY id",
    );
  }

  async byId(id: number): Promise<LiquidationRow | undefined> {
    return this.x.row<LiquidationRow>('SELECT * FROM liquidations WHERE id = $1', [id]);
  }

  async latestOf(vaultId: number): Promise<LiquidationRow | undefined> {
    return this.x.row<LiquidationRow>(
      'SELECT * FROM liquidations WHERE vault_id = $1 ORDER BY id DESC LIMIT 1',
      [vaultId],
    );
  }

  async runningOf(vaultId: number): Promise<LiquidationRow | undefined> {
    return this.x.row<LiquidationRow>(
      "SELECT * FROM liquidations WHERE vault_id = $1 AND state = 'running' ORDER BY id LIMIT 1",
      [vaultId],
    );
  }

  async start(a: NewLiquidation): Promise<void> {
    await this.x.run(
      `INSERT INTO liquidations (vault_id, started_at, price_cents, debt_cents, tab_cents, lot_sats, state, top_price_cents,
           floor_price_cents, cycle_started_at, duration_ms, return_address)
         VALUES ($1, $2, $3, $4, $5, $6, 'running', $7, $8, $9, $10, $11)`,
      [
        a.vaultId,
        a.startedAt,
        a.priceCents,
        a.debtCents,
        a.tabCents,
        a.lotSats,
        a.topPriceCents,
        a.floorPriceCents,
        a.cycleStartedAt,
        a.durationMs,
        a.returnAddress,
      ],
    );
  }

  async markVaultLiquidating(vaultId: number, ts: number): Promise<void> {
    await this.x.run("UPDATE vaults SET state = 'liquidating', updated_at = $1 WHERE id = $2", [
      ts,
      vaultId,
    ]);
  }

  async setLot(id: number, lotSats: number): Promise<void> {
    await this.x.run('UPDATE liquidations SET lot_sats = $1 WHERE id = $2', [lotSats, id]);
  }

  async resetCycle(
    id: number,
    topPriceCents: number,
    floorPriceCents: number,
    ts: number,
  ): Promise<void> {
    await this.x.run(
      'UPDATE liquidations SET top_price_cents = $1, floor_price_cents = $2, cycle_started_at = $3, resets = resets + 1 WHERE id = $4',
      [topPriceCents, floorPriceCents, ts, id],
    );
  }

  async end(id: number, ts: number, deficitCents: number): Promise<void> {
    await this.x.run(
      "UPDATE liquidations SET state = 'settling', ended_at = $1, deficit_cents = $2 WHERE id = $3",
      [ts, deficitCents, id],
    );
  }

  async recordTake(t: NewTake): Promise<void> {
    await this.x.run(
      'INSERT INTO auction_takes (liquidation_id, taker, btc_address, sats, paid_cents, price_cents, ts, via_pool) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [
        t.liquidationId,
        t.taker,
        t.btcAddress,
        t.sats,
        t.paidCents,
        t.priceCents,
        t.ts,
        t.viaPool ? 1 : 0,
      ],
    );
  }

  async setProgress(
    id: number,
    coveredCents: number,
    soldSats: number,
    lotSats: number,
  ): Promise<void> {
    await this.x.run(
      'UPDATE liquidations SET covered_cents = $1, sold_sats = $2, lot_sats = $3 WHERE id = $4',
      [coveredCents, soldSats, lotSats, id],
    );
  }

  async takerAddresses(id: number): Promise<string[]> {
    // SQLite's DISTINCT keeps the scan's order: each address where its first take is.
    return this.x.column<string>(
      'SELECT btc_address FROM auction_takes WHERE liquidation_id = $1 GROUP BY btc_address ORDER BY MIN(id)',
      [id],
    );
  }

  async payouts(id: number): Promise<{ btc_address: string; sats: number }[]> {
    return this.x.rows<{ btc_address: string; sats: number }>(
      'SELECT btc_address, SUM(sats)::bigint AS sats FROM auction_takes WHERE liquidation_id = $1 GROUP BY btc_address ORDER BY MIN(id)',
      [id],
    );
  }

  async vaultCoins(vaultId: number): Promise<VaultCoinRow[]> {
    // SQLite answers in rowid (insertion) order, which PostgreSQL has no column for; by outpoint
    // here. The caller only sums and counts them.
    return this.x.rows<VaultCoinRow>(
      'SELECT txid, vout, amount_sats, confirmations FROM vault_utxos WHERE vault_id = $1 ORDER BY txid, vout',
      [vaultId],
    );
  }

  async settlementSpendOf(vaultId: number): Promise<SettlementSpendRow | undefined> {
    return this.x.row<SettlementSpendRow>(
      "SELECT txid, state, plan, updated_at FROM spends WHERE vault_id = $1 AND kind = 'settlement' AND state NOT IN ('abandoned', 'expired', 'cancelled') ORDER BY id DESC LIMIT 1",
      [vaultId],
    );
  }

  async spendBlockingSettlement(vaultId: number): Promise<number | undefined> {
    return this.x.value<number>(
      `SELECT id FROM spends WHERE vault_id = $1 AND (state IN ${OPEN_SPEND_SQL} OR (kind = 'settlement' AND state = 'confirmed'))
        ORDER BY id LIMIT 1`,
      [vaultId],
    );
  }

  async setReturnAddress(id: number, address: string): Promise<void> {
    await this.x.run('UPDATE liquidations SET return_address = $1 WHERE id = $2', [address, id]);
  }

  async recordSettlementError(
    id: number,
    message: string,
    code: string,
    at: number,
  ): Promise<void> {
    await this.x.run(
      'UPDATE liquidations SET last_error = $1, last_error_code = $2, last_error_at = $3, error_count = error_count + 1 WHERE id = $4',
      [message, code, at, id],
    );
  }

  async clearSettlementError(id: number): Promise<void> {
    await this.x.run(
      'UPDATE liquidations SET last_error = NULL, last_error_code = NULL, last_error_at = NULL WHERE id = $1',
      [id],
    );
  }

  async failingSettlements(): Promise<FailingSettlementRow[]> {
    return this.x.rows<FailingSettlementRow>(
      "SELECT id, vault_id, last_error_code, last_error, error_count FROM liquidations WHERE state = 'settling' AND last_error IS NOT NULL ORDER BY id",
    );
  }

  // --- settlement state ---

  async settlingIdOf(vaultId: number): Promise<number | undefined> {
    return this.x.value<number>(
      "SELECT id FROM liquidations WHERE vault_id = $1 AND state = 'settling' ORDER BY id LIMIT 1",
      [vaultId],
    );
  }

  async markSettled(id: number): Promise<void> {
    await this.x.run("UPDATE liquidations SET state = 'settled' WHERE id = $1", [id]);
  }

  async markVaultLiquidated(vaultId: number, ts: number): Promise<void> {
    await this.x.run("UPDATE vaults SET state = 'liquidated', updated_at = $1 WHERE id = $2", [
      ts,
      vaultId,
    ]);
  }

  async unsettledIdOf(vaultId: number): Promise<number | undefined> {
    return this.x.value<number>(
      "SELECT id FROM liquidations WHERE vault_id = $1 AND state <> 'settled' ORDER BY id LIMIT 1",
      [vaultId],
    );
  }

  async endWithoutCoins(id: number, ts: number, deficitCents: number): Promise<void> {
    await this.x.run(
      "UPDATE liquidations SET state = 'settled', ended_at = COALESCE(ended_at, $1), deficit_cents = deficit_cents + $2 WHERE id = $3",
      [ts, deficitCents, id],
    );
  }

  async unmarkVaultLiquidated(vaultId: number, ts: number): Promise<void> {
    await this.x.run(
      "UPDATE vaults SET state = 'liquidating', updated_at = $1 WHERE id = $2 AND state = 'liquidated'",
      [ts, vaultId],
    );
  }

  async reopenLatest(vaultId: number): Promise<void> {
    await this.x.run(
      `UPDATE liquidations SET state = 'settling' WHERE id = (SELECT MAX(id) FROM liquidations WHERE vault_id = $1)
       AND state = 'settled'`,
      [vaultId],
    );
  }

  // --- cures ---

  async untouchedOf(vaultId: number): Promise<{ id: number } | undefined> {
    return this.x.row<{ id: number }>(
      "SELECT id FROM liquidations WHERE vault_id = $1 AND state = 'running' AND covered_cents = 0 AND sold_sats = 0 ORDER BY id LIMIT 1",
      [vaultId],
    );
  }

  async markCured(id: number, ts: number): Promise<void> {
    await this.x.run(
      "UPDATE liquidations SET state = 'settled', ended_at = $1, cured_at = $1 WHERE id = $2 AND state = 'running' AND covered_cents = 0",
      [ts, id],
    );
  }

  async vaultNetwork(vaultId: number): Promise<NetworkName> {
    return (await this.x.value<NetworkName>('SELECT network FROM vaults WHERE id = $1', [
      vaultId,
    ])) as NetworkName;
  }

  async restoreCuredVault(
    vaultId: number,
    debtArt: number,
    liquidationPriceCents: number | null,
    warningPriceCents: number | null,
    ts: number,
  ): Promise<void> {
    await this.x.run(
      "UPDATE vaults SET state = 'active', debt_art = $1, liquidation_price_cents = $2, warning_price_cents = $3, updated_at = $4 WHERE id = $5",
      [debtArt, liquidationPriceCents, warningPriceCents, ts, vaultId],
    );
  }
}
