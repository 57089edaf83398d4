/** The vaults port on SQLite (better-sqlite3). */
import type { NetworkName } from '../../config/networks';
import type { Sqlite } from '../../db/database';
import { Statements, type Statement } from './statements';
import type { Sats } from '../../money';
import type {
  DebtStep,
  DebtSums,
  FeeRateRow,
  KeySetRow,
  NewVault,
  Vault,
  VaultCoin,
  VaultFeeRow,
  VaultListFilter,
  VaultListRow,
  VaultsRepo,
} from '../vaults';
import {
  keySetRow,
  VAULT_LIST_COLUMNS,
  vaultFromRow,
  vaultListRow,
  type KeySetDbRow,
  type VaultListDbRow,
  type VaultRow,
} from '../rows/vaults';
import { EMPTY_PENDING, vaultListWhere } from '../rows/vault-list';

export class SqliteVaults implements VaultsRepo {
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

  // — vaults and key sets —

  byId(vaultId: number): Vault | undefined {
    const row = this.st('SELECT * FROM vaults WHERE id = ?').get(vaultId) as VaultRow | undefined;
    return row && vaultFromRow(row);
  }

  list(network: NetworkName, accountId?: string): Vault[] {
    const rows =
      accountId === undefined
        ? this.st('SELECT * FROM vaults WHERE network = ? ORDER BY id DESC').all(network)
        : this.st('SELECT * FROM vaults WHERE network = ? AND account_id = ? ORDER BY id DESC').all(
            network,
            accountId,
          );
    return (rows as VaultRow[]).map(vaultFromRow);
  }

  listPage(
    network: NetworkName,
    accountId: string | undefined,
    filter: VaultListFilter,
    page?: { offset: number; limit: number; order: 'asc' | 'desc' },
  ): { rows: VaultListRow[]; total: number; hiddenEmptyPending: number } {
    const { where, params } = vaultListWhere('sqlite', network, accountId, filter);
    const counts = this.st(
      `SELECT count(*) AS n, coalesce(sum(CASE WHEN ${EMPTY_PENDING} THEN 1 ELSE 0 END), 0) AS empty FROM vaults WHERE ${where}`,
    ).get(...params) as { n: number; empty: number };
    const hide = filter.hideEmptyPending;
    const shown = hide ? `${where} AND NOT ${EMPTY_PENDING}` : where;
    const order = page?.order === 'asc' ? 'ASC' : 'DESC';
    const rows = (
      page
        ? this.st(
            `SELECT ${VAULT_LIST_COLUMNS} FROM vaults WHERE ${shown} ORDER BY id ${order} LIMIT ? OFFSET ?`,
          ).all(...params, page.limit, page.offset)
        : this.st(`SELECT ${VAULT_LIST_COLUMNS} FROM vaults WHERE ${shown} ORDER BY id DESC`).all(
            ...params,
          )
    ) as VaultListDbRow[];
    return {
      rows: rows.map(vaultListRow),
      total: hide ? counts.n - counts.empty : counts.n,
      hiddenEmptyPending: hide ? counts.empty : 0,
    };
  }

  listTotals(network: NetworkName, accountId?: string) {
    const { where, params } = vaultListWhere('sqlite', network, accountId, {
      hideEmptyPending: false,
    });
    const byState = this.st(
      `SELECT state, count(*) AS count, coalesce(sum(collateral_sats), 0) AS collateral FROM vaults WHERE ${where} GROUP BY state ORDER BY state`,
    ).all(...params) as { state: string; count: number; collateral: number }[];
    const debts = this.st(
      `SELECT state, debt_cents, debt_art FROM vaults WHERE ${where} AND (debt_art > 0 OR debt_cents > 0) ORDER BY id`,
    ).all(...params) as { state: string; debt_cents: number; debt_art: number }[];
    return {
      byState: byState.map((r) => ({
        state: r.state,
        count: r.count,
        collateralSats: r.collateral,
      })),
      debts: debts.map((r) => ({ state: r.state, debtCents: r.debt_cents, debtArt: r.debt_art })),
    };
  }

  /** (Held apart: the API's event fan-out asks it for every vault event.) */
  private accountOfStatement: Statement | undefined;

  accountOf(vaultId: number): string | null | undefined {
    this.accountOfStatement ??= this.db
      .prepare('SELECT account_id FROM vaults WHERE id = ?')
      .pluck();
    return this.accountOfStatement.get(vaultId) as string | null | undefined;
  }

  keySet(keySetId: number): KeySetRow | undefined {
    const r = this.st('SELECT * FROM key_sets WHERE id = ?').get(keySetId) as
      KeySetDbRow | undefined;
    return r && keySetRow(r);
  }

  keySets(network: NetworkName): KeySetRow[] {
    const rows = this.st('SELECT * FROM key_sets WHERE network = ? ORDER BY id').all(network);
    return (rows as KeySetDbRow[]).map(keySetRow);
  }

  keySetIdOf(
    network: NetworkName,
    ownerKey: string,
    protocolKey: string,
    guardianKey: string,
  ): number | undefined {
    return this.pluck(
      'SELECT id FROM key_sets WHERE network = ? AND owner_key = ? AND protocol_key = ? AND guardian_key = ?',
    ).get(network, ownerKey, protocolKey, guardianKey) as number | undefined;
  }

  insertKeySet(
    network: NetworkName,
    ownerKey: string,
    protocolKey: string,
    guardianKey: string,
    ts: number,
  ): number {
    const info = this.st(
      'INSERT INTO key_sets (network, owner_key, protocol_key, guardian_key, created_at) VALUES (?, ?, ?, ?, ?)',
    ).run(network, ownerKey, protocolKey, guardianKey, ts);
    return Number(info.lastInsertRowid);
  }

  setKeySetNextIndex(keySetId: number, nextIndex: number): void {
    this.st('UPDATE key_sets SET next_index = ? WHERE id = ?').run(nextIndex, keySetId);
  }

  raiseKeySetWatchedEnd(keySetId: number, end: number): void {
    this.st('UPDATE key_sets SET watched_end = max(watched_end, ?) WHERE id = ?').run(
      end,
      keySetId,
    );
  }

  insert(v: NewVault): number {
    const info = this.st(
      `INSERT INTO vaults (key_set_id, idx, network, address, descriptor, state, planned_deposit_sats,
               return_address, label, account_id, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?)`,
    ).run(
      v.keySetId,
      v.index,
      v.network,
      v.address,
      v.descriptor,
      v.plannedDepositSats,
      v.returnAddress,
      v.label,
      v.accountId,
      v.createdAt,
      v.createdAt,
    );
    return Number(info.lastInsertRowid);
  }

  openLedgerAccount(vaultId: number): void {
    this.st("INSERT INTO ledger_accounts (id, kind, vault_id) VALUES (?, 'vault', ?)").run(
      `vault:${vaultId}`,
      vaultId,
    );
  }

  setReturnAddress(vaultId: number, address: string, ts: number): void {
    this.st('UPDATE vaults SET return_address = ?, updated_at = ? WHERE id = ?').run(
      address,
      ts,
      vaultId,
    );
  }

  // — coins and collateral —

  idByAddress(address: string, network: NetworkName): number | undefined {
    return this.pluck('SELECT id FROM vaults WHERE address = ? AND network = ?').get(
      address,
      network,
    ) as number | undefined;
  }

  idsWithCoins(network: NetworkName): number[] {
    return this.pluck(
      'SELECT id FROM vaults WHERE network = ? AND (collateral_sats > 0 OR incoming_sats > 0 OR id IN (SELECT vault_id FROM vault_utxos)) ORDER BY id',
    ).all(network) as number[];
  }

  vaultsWithTransaction(txid: string): number[] {
    return this.pluck(
      'SELECT vault_id FROM vault_utxos WHERE txid = ? UNION SELECT vault_id FROM spends WHERE txid = ? ORDER BY 1',
    ).all(txid, txid) as number[];
  }

  isOwnSpendTx(txid: string): boolean {
    return !!this.pluck(
      "SELECT 1 FROM spends WHERE txid = ? AND state IN ('signed', 'broadcast', 'confirmed')",
    ).get(txid);
  }

  isClosing(vaultId: number): boolean {
    return !!this.pluck(
      "SELECT 1 FROM spends WHERE vault_id = ? AND kind IN ('close', 'emergency-exit') AND state IN ('signed', 'broadcast')",
    ).get(vaultId);
  }

  replaceCoins(vaultId: number, coins: readonly VaultCoin[]): void {
    this.st('DELETE FROM vault_utxos WHERE vault_id = ?').run(vaultId);
    const insertCoin = this.st(
      'INSERT INTO vault_utxos (txid, vout, vault_id, amount_sats, confirmations) VALUES (?, ?, ?, ?, ?)',
    );
    for (const c of coins) insertCoin.run(c.txid, c.vout, vaultId, c.amountSats, c.confirmations);
  }

  setCollateral(
    vaultId: number,
    c: {
      collateralSats: number;
      incomingSats: number;
      state: string;
      liquidationPriceCents: number | null;
      warningPriceCents: number | null;
    },
    ts: number,
  ): void {
    this.st(
      `UPDATE vaults SET collateral_sats = ?, incoming_sats = ?, state = ?, liquidation_price_cents = ?,
           warning_price_cents = ?, updated_at = ? WHERE id = ?`,
    ).run(
      c.collateralSats,
      c.incomingSats,
      c.state,
      c.liquidationPriceCents,
      c.warningPriceCents,
      ts,
      vaultId,
    );
  }

  // — debt —

  debtBasis(vaultId: number): { collateralSats: Sats; network: NetworkName } | undefined {
    const v = this.st('SELECT collateral_sats, network FROM vaults WHERE id = ?').get(vaultId) as
      { collateral_sats: Sats; network: NetworkName } | undefined;
    return v && { collateralSats: v.collateral_sats, network: v.network };
  }

  debtCents(vaultId: number): number | undefined {
    return this.pluck('SELECT debt_cents FROM vaults WHERE id = ?').get(vaultId) as
      number | undefined;
  }

  setDebt(
    vaultId: number,
    debt: number,
    art: number,
    liquidationPriceCents: number | null,
    warningPriceCents: number | null,
    ts: number,
  ): void {
    this.st(
      'UPDATE vaults SET debt_cents = ?, debt_art = ?, liquidation_price_cents = ?, warning_price_cents = ?, updated_at = ? WHERE id = ?',
    ).run(debt, art, liquidationPriceCents, warningPriceCents, ts, vaultId);
  }

  setDebtAndState(
    vaultId: number,
    debt: number,
    art: number,
    state: string,
    liquidationPriceCents: number | null,
    warningPriceCents: number | null,
    ts: number,
  ): void {
    this.st(
      'UPDATE vaults SET debt_cents = ?, debt_art = ?, state = ?, liquidation_price_cents = ?, warning_price_cents = ?, updated_at = ? WHERE id = ?',
    ).run(debt, art, state, liquidationPriceCents, warningPriceCents, ts, vaultId);
  }

  private debtSumsStatement: Statement | undefined;

  debtSums(network: NetworkName): DebtSums {
    this.debtSumsStatement ??= this.db
      .prepare(
        `SELECT COALESCE(SUM(debt_cents), 0) AS booked,
              COALESCE(SUM(CASE WHEN state IN ('active', 'warning') THEN debt_cents END), 0) AS accruing_booked,
              COALESCE(SUM(CASE WHEN state IN ('active', 'warning') THEN debt_art END), 0) AS accruing_art,
              COALESCE(SUM(CASE WHEN debt_cents > 0 THEN collateral_sats END), 0) AS collateral
         FROM vaults WHERE network = ? AND debt_cents > 0`,
      )
      .safeIntegers(true);
    return this.debtSumsStatement.get(network) as DebtSums;
  }

  // — the stability fee book —

  feeRate(network: NetworkName): FeeRateRow | undefined {
    return this.st('SELECT rate, annual_bps, dripped_at FROM fee_rates WHERE network = ?').get(
      network,
    ) as FeeRateRow | undefined;
  }

  startFeeRate(network: NetworkName, rate: string, ts: number): void {
    this.st(
      'INSERT INTO fee_rates (network, rate, annual_bps, dripped_at) VALUES (?, ?, 0, ?)',
    ).run(network, rate, ts);
  }

  setFeeRate(network: NetworkName, rate: string, drippedAt: number): void {
    this.st('UPDATE fee_rates SET rate = ?, dripped_at = ? WHERE network = ?').run(
      rate,
      drippedAt,
      network,
    );
  }

  setAnnualBps(network: NetworkName, annualBps: number): void {
    this.st('UPDATE fee_rates SET annual_bps = ? WHERE network = ?').run(annualBps, network);
  }

  feeRow(vaultId: number): VaultFeeRow | undefined {
    return this.st('SELECT id, network, state, debt_cents, debt_art FROM vaults WHERE id = ?').get(
      vaultId,
    ) as VaultFeeRow | undefined;
  }

  bookFee(vaultId: number, fee: number): void {
    this.st(
      'UPDATE vaults SET debt_cents = debt_cents + ?, fees_cents = fees_cents + ? WHERE id = ?',
    ).run(fee, fee, vaultId);
  }

  sweepable(network: NetworkName): VaultFeeRow[] {
    return this.st(
      `SELECT id, network, state, debt_cents, debt_art FROM vaults
        WHERE network = ? AND debt_art > 0 AND state IN ('active', 'warning')
          AND id NOT IN (SELECT vault_id FROM spends
                          WHERE state IN ('draft', 'signing', 'awaiting-guardian', 'signed'))
        ORDER BY id`,
    ).all(network) as VaultFeeRow[];
  }

  bookedFees(network: NetworkName): number {
    return this.pluck('SELECT COALESCE(SUM(fees_cents), 0) FROM vaults WHERE network = ?').get(
      network,
    ) as number;
  }

  // — for the API and the vault operations —

  debtSteps(vaultId: number): DebtStep[] {
    return this.st(
      `SELECT e.ts AS ts, p.amount_cents AS amount, e.kind AS kind FROM ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id
            WHERE p.account_id = ? ORDER BY e.ts, e.id`,
    ).all(`vault:${vaultId}`) as DebtStep[];
  }

  collateralSteps(vaultId: number): { ts: number; data: string }[] {
    return this.st(
      "SELECT ts, data FROM events WHERE vault_id = ? AND type = 'vault.collateral' ORDER BY id",
    ).all(vaultId) as { ts: number; data: string }[];
  }

  accountRegistered(accountId: string): boolean {
    return !!this.pluck('SELECT 1 FROM accounts WHERE id = ?').get(accountId);
  }
}
