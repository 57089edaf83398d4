/** The auctions port on SQLite (better-sqlite3). */
import type { NetworkName } from '../../config/networks';
import type { Sqlite } from '../../db/database';
import { Statements, type Statement } from './statements';
import { OPEN_SPEND_SQL } from '../../spends/state';
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

/** The health pass's statements, prepared once per database (the pass is benchmarked). */
interface HealthStatements {
  row: Statement;
  liquidate: Statement;
  warn: Statement;
  recover: Statement;
  setState: Statement;
}

export class SqliteAuctions implements AuctionsRepo {
  private readonly statements: Statements;
  private health?: HealthStatements;

  constructor(readonly db: Sqlite) {
    this.statements = new Statements(db);
  }

  private st(sql: string): Statement {
    return this.statements.row(sql);
  }

  private pluck(sql: string): Statement {
    return this.statements.pluck(sql);
  }

  private healthStatements(): HealthStatements {
    if (!this.health) {
      const ids = (sql: string) => this.db.prepare(sql).pluck();
      this.health = {
        row: this.db.prepare(
          'SELECT state, collateral_sats, debt_cents, debt_art FROM vaults WHERE id = ?',
        ),
        liquidate: ids(
          `SELECT id FROM vaults WHERE state = 'active' AND liquidation_price_cents > @p
       UNION ALL
       SELECT id FROM vaults WHERE state = 'warning' AND liquidation_price_cents > @p`,
        ),
        warn: ids(
          "SELECT id FROM vaults WHERE state = 'active' AND warning_price_cents > @p AND liquidation_price_cents <= @p",
        ),
        recover: ids("SELECT id FROM vaults WHERE state = 'warning' AND warning_price_cents <= @p"),
        setState: this.db.prepare('UPDATE vaults SET state = ?, updated_at = ? WHERE id = ?'),
      };
    }
    return this.health;
  }

  // --- the health pass ---

  healthCandidatesAt(p: number): HealthChanges {
    const h = this.healthStatements();
    return {
      toLiquidating: h.liquidate.all({ p }) as number[],
      toWarning: h.warn.all({ p }) as number[],
      toActive: h.recover.all({ p }) as number[],
    };
  }

  vaultHealth(vaultId: number): VaultHealthRow {
    return this.healthStatements().row.get(vaultId) as VaultHealthRow;
  }

  everyVaultBand(): [number, string, number, number][] {
    return this.db
      .prepare('SELECT id, state, collateral_sats, debt_cents FROM vaults')
      .raw()
      .all() as [number, string, number, number][];
  }

  setVaultBand(vaultId: number, state: 'warning' | 'active', ts: number): void {
    this.healthStatements().setState.run(state, ts, vaultId);
  }

  // --- auctions ---

  list(live: boolean): LiquidationRow[] {
    return this.st(
      `SELECT * FROM liquidations ${live ? "WHERE state = 'running'" : ''} ORDER BY id DESC`,
    ).all() as LiquidationRow[];
  }

  running(): LiquidationRow[] {
    return this.st("SELECT * FROM liquidations WHERE state = 'running'").all() as LiquidationRow[];
  }

  settling(): LiquidationRow[] {
    return this.st("SELECT * FROM liquidations WHERE state = 'settling'").all() as LiquidationRow[];
  }

  byId(id: number): LiquidationRow | undefined {
    return this.st('SELECT * FROM liquidations WHERE id = ?').get(id) as LiquidationRow | undefined;
  }

  latestOf(vaultId: number): LiquidationRow | undefined {
    return this.st('SELECT * FROM liquidations WHERE vault_id = ? ORDER BY id DESC LIMIT 1').get(
      vaultId,
    ) as LiquidationRow | undefined;
  }

  runningOf(vaultId: number): LiquidationRow | undefined {
    return this.st("SELECT * FROM liquidations WHERE vault_id = ? AND state = 'running'").get(
      vaultId,
    ) as LiquidationRow | undefined;
  }

  start(a: NewLiquidation): void {
    this.st(
      `INSERT INTO liquidations (vault_id, started_at, price_cents, debt_cents, tab_cents, lot_sats, state, top_price_cents,
           floor_price_cents, cycle_started_at, duration_ms, return_address)
         VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?)`,
    ).run(
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
    );
  }

  markVaultLiquidating(vaultId: number, ts: number): void {
    this.st("UPDATE vaults SET state = 'liquidating', updated_at = ? WHERE id = ?").run(
      ts,
      vaultId,
    );
  }

  setLot(id: number, lotSats: number): void {
    this.st('UPDATE liquidations SET lot_sats = ? WHERE id = ?').run(lotSats, id);
  }

  resetCycle(id: number, topPriceCents: number, floorPriceCents: number, ts: number): void {
    this.st(
      'UPDATE liquidations SET top_price_cents = ?, floor_price_cents = ?, cycle_started_at = ?, resets = resets + 1 WHERE id = ?',
    ).run(topPriceCents, floorPriceCents, ts, id);
  }

  end(id: number, ts: number, deficitCents: number): void {
    this.st(
      "UPDATE liquidations SET state = 'settling', ended_at = ?, deficit_cents = ? WHERE id = ?",
    ).run(ts, deficitCents, id);
  }

  recordTake(t: NewTake): void {
    this.st(
      'INSERT INTO auction_takes (liquidation_id, taker, btc_address, sats, paid_cents, price_cents, ts, via_pool) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(
      t.liquidationId,
      t.taker,
      t.btcAddress,
      t.sats,
      t.paidCents,
      t.priceCents,
      t.ts,
      t.viaPool ? 1 : 0,
    );
  }

  setProgress(id: number, coveredCents: number, soldSats: number, lotSats: number): void {
    this.st(
      'UPDATE liquidations SET covered_cents = ?, sold_sats = ?, lot_sats = ? WHERE id = ?',
    ).run(coveredCents, soldSats, lotSats, id);
  }

  takerAddresses(id: number): string[] {
    return this.pluck(
      'SELECT DISTINCT btc_address FROM auction_takes WHERE liquidation_id = ?',
    ).all(id) as string[];
  }

  payouts(id: number): { btc_address: string; sats: number }[] {
    return this.st(
      'SELECT btc_address, SUM(sats) AS sats FROM auction_takes WHERE liquidation_id = ? GROUP BY btc_address ORDER BY MIN(id)',
    ).all(id) as { btc_address: string; sats: number }[];
  }

  vaultCoins(vaultId: number): VaultCoinRow[] {
    return this.st(
      'SELECT txid, vout, amount_sats, confirmations FROM vault_utxos WHERE vault_id = ?',
    ).all(vaultId) as VaultCoinRow[];
  }

  settlementSpendOf(vaultId: number): SettlementSpendRow | undefined {
    return this.st(
      "SELECT txid, state, plan, updated_at FROM spends WHERE vault_id = ? AND kind = 'settlement' AND state NOT IN ('abandoned', 'expired', 'cancelled') ORDER BY id DESC LIMIT 1",
    ).get(vaultId) as SettlementSpendRow | undefined;
  }

  spendBlockingSettlement(vaultId: number): number | undefined {
    return this.pluck(
      `SELECT id FROM spends WHERE vault_id = ? AND (state IN ${OPEN_SPEND_SQL} OR (kind = 'settlement' AND state = 'confirmed'))`,
    ).get(vaultId) as number | undefined;
  }

  setReturnAddress(id: number, address: string): void {
    this.st('UPDATE liquidations SET return_address = ? WHERE id = ?').run(address, id);
  }

  recordSettlementError(id: number, message: string, code: string, at: number): void {
    this.st(
      'UPDATE liquidations SET last_error = ?, last_error_code = ?, last_error_at = ?, error_count = error_count + 1 WHERE id = ?',
    ).run(message, code, at, id);
  }

  clearSettlementError(id: number): void {
    this.st(
      'UPDATE liquidations SET last_error = NULL, last_error_code = NULL, last_error_at = NULL WHERE id = ?',
    ).run(id);
  }

  failingSettlements(): FailingSettlementRow[] {
    return this.st(
      "SELECT id, vault_id, last_error_code, last_error, error_count FROM liquidations WHERE state = 'settling' AND last_error IS NOT NULL",
    ).all() as FailingSettlementRow[];
  }

  // --- settlement state ---

  settlingIdOf(vaultId: number): number | undefined {
    return this.pluck("SELECT id FROM liquidations WHERE vault_id = ? AND state = 'settling'").get(
      vaultId,
    ) as number | undefined;
  }

  markSettled(id: number): void {
    this.st("UPDATE liquidations SET state = 'settled' WHERE id = ?").run(id);
  }

  markVaultLiquidated(vaultId: number, ts: number): void {
    this.st("UPDATE vaults SET state = 'liquidated', updated_at = ? WHERE id = ?").run(ts, vaultId);
  }

  unsettledIdOf(vaultId: number): number | undefined {
    return this.pluck("SELECT id FROM liquidations WHERE vault_id = ? AND state <> 'settled'").get(
      vaultId,
    ) as number | undefined;
  }

  endWithoutCoins(id: number, ts: number, deficitCents: number): void {
    this.st(
      "UPDATE liquidations SET state = 'settled', ended_at = COALESCE(ended_at, ?), deficit_cents = deficit_cents + ? WHERE id = ?",
    ).run(ts, deficitCents, id);
  }

  unmarkVaultLiquidated(vaultId: number, ts: number): void {
    this.st(
      "UPDATE vaults SET state = 'liquidating', updated_at = ? WHERE id = ? AND state = 'liquidated'",
    ).run(ts, vaultId);
  }

  reopenLatest(vaultId: number): void {
    this.st(
      `UPDATE liquidations SET state = 'settling' WHERE id = (SELECT MAX(id) FROM liquidations WHERE vault_id = ?)
       AND state = 'settled'`,
    ).run(vaultId);
  }

  // --- cures ---

  untouchedOf(vaultId: number): { id: number } | undefined {
    return this.st(
      "SELECT id FROM liquidations WHERE vault_id = ? AND state = 'running' AND covered_cents = 0 AND sold_sats = 0",
    ).get(vaultId) as { id: number } | undefined;
  }

  markCured(id: number, ts: number): void {
    this.st(
      "UPDATE liquidations SET state = 'settled', ended_at = ?, cured_at = ? WHERE id = ? AND state = 'running' AND covered_cents = 0",
    ).run(ts, ts, id);
  }

  vaultNetwork(vaultId: number): NetworkName {
    return this.pluck('SELECT network FROM vaults WHERE id = ?').get(vaultId) as NetworkName;
  }

  restoreCuredVault(
    vaultId: number,
    debtArt: number,
    liquidationPriceCents: number | null,
    warningPriceCents: number | null,
    ts: number,
  ): void {
    this.st(
      "UPDATE vaults SET state = 'active', debt_art = ?, liquidation_price_cents = ?, warning_price_cents = ?, updated_at = ? WHERE id = ?",
    ).run(debtArt, liquidationPriceCents, warningPriceCents, ts, vaultId);
  }
}
