/** The vaults port on PostgreSQL: the twin of sqlite/vaults.ts. */
import type { NetworkName } from '../../config/networks';
import type { Sats } from '../../money';
import type { Async } from '../ports';
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
import { EMPTY_PENDING, placeholders, vaultListWhere } from '../rows/vault-list';
import type { PgExecutor } from './executor';

const FEE_ROW = 'SELECT id, network, state, debt_cents, debt_art FROM vaults';

export class PgVaults implements Async<VaultsRepo> {
  constructor(private readonly x: PgExecutor) {}

  // — vaults and key sets —

  async byId(vaultId: number): Promise<Vault | undefined> {
    const row = await this.x.row<VaultRow>('SELECT * FROM vaults WHERE id = $1', [vaultId]);
    return row && vaultFromRow(row);
  }

  async list(network: NetworkName, accountId?: string): Promise<Vault[]> {
    const rows =
      accountId === undefined
        ? await this.x.rows<VaultRow>('SELECT * FROM vaults WHERE network = $1 ORDER BY id DESC', [
            network,
          ])
        : await this.x.rows<VaultRow>(
            'SELECT * FROM vaults WHERE network = $1 AND account_id = $2 ORDER BY id DESC',
            [network, accountId],
          );
    return rows.map(vaultFromRow);
  }

  async listPage(
    network: NetworkName,
    accountId: string | undefined,
    filter: VaultListFilter,
    page?: { offset: number; limit: number; order: 'asc' | 'desc' },
  ): Promise<{ rows: VaultListRow[]; total: number; hiddenEmptyPending: number }> {
    const { where, params } = vaultListWhere('postgres', network, accountId, filter);
    const counts = (await this.x.row<{ n: number | string; empty: number | string }>(
      placeholders(
        `SELECT count(*) AS n, coalesce(sum(CASE WHEN ${EMPTY_PENDING} THEN 1 ELSE 0 END), 0) AS empty FROM vaults WHERE ${where}`,
        'postgres',
      ),
      params,
    ))!;
    const [n, empty] = [Number(counts.n), Number(counts.empty)];
    const hide = filter.hideEmptyPending;
    const shown = hide ? `${where} AND NOT ${EMPTY_PENDING}` : where;
    const order = page?.order === 'asc' ? 'ASC' : 'DESC';
    const rows = page
      ? await this.x.rows<VaultListDbRow>(
          placeholders(
            `SELECT ${VAULT_LIST_COLUMNS} FROM vaults WHERE ${shown} ORDER BY id ${order} LIMIT ? OFFSET ?`,
            'postgres',
          ),
          [...params, page.limit, page.offset],
        )
      : await this.x.rows<VaultListDbRow>(
          placeholders(
            `SELECT ${VAULT_LIST_COLUMNS} FROM vaults WHERE ${shown} ORDER BY id DESC`,
            'postgres',
          ),
          params,
        );
    return {
      rows: rows.map(vaultListRow),
      total: hide ? n - empty : n,
      hiddenEmptyPending: hide ? empty : 0,
    };
  }

  async listTotals(network: NetworkName, accountId?: string) {
    const { where, params } = vaultListWhere('postgres', network, accountId, {
      hideEmptyPending: false,
    });
    const byState = await this.x.rows<{
      state: string;
      count: number | string;
      collateral: number | string;
    }>(
      placeholders(
        `SELECT state, count(*) AS count, coalesce(sum(collateral_sats), 0) AS collateral FROM vaults WHERE ${where} GROUP BY state ORDER BY state COLLATE "C"`,
        'postgres',
      ),
      params,
    );
    const debts = await this.x.rows<{ state: string; debt_cents: number; debt_art: number }>(
      placeholders(
        `SELECT state, debt_cents, debt_art FROM vaults WHERE ${where} AND (debt_art > 0 OR debt_cents > 0) ORDER BY id`,
        'postgres',
      ),
      params,
    );
    return {
      byState: byState.map((r) => ({
        state: r.state,
        count: Number(r.count),
        collateralSats: Number(r.collateral),
      })),
      debts: debts.map((r) => ({
        state: r.state,
        debtCents: Number(r.debt_cents),
        debtArt: Number(r.debt_art),
      })),
    };
  }

  async accountOf(vaultId: number): Promise<string | null | undefined> {
    return this.x.value<string | null>('SELECT account_id FROM vaults WHERE id = $1', [vaultId]);
  }

  async keySet(keySetId: number): Promise<KeySetRow | undefined> {
    const r = await this.x.row<KeySetDbRow>('SELECT * FROM key_sets WHERE id = $1', [keySetId]);
    return r && keySetRow(r);
  }

  async keySets(network: NetworkName): Promise<KeySetRow[]> {
    const rows = await this.x.rows<KeySetDbRow>(
      'SELECT * FROM key_sets WHERE network = $1 ORDER BY id',
      [network],
    );
    return rows.map(keySetRow);
  }

  async keySetIdOf(
    network: NetworkName,
    ownerKey: string,
    protocolKey: string,
    guardianKey: string,
  ): Promise<number | undefined> {
    return this.x.value<number>(
      'SELECT id FROM key_sets WHERE network = $1 AND owner_key = $2 AND protocol_key = $3 AND guardian_key = $4',
      [network, ownerKey, protocolKey, guardianKey],
    );
  }

  async insertKeySet(
    network: NetworkName,
    ownerKey: string,
    protocolKey: string,
    guardianKey: string,
    ts: number,
  ): Promise<number> {
    return (await this.x.value<number>(
      'INSERT INTO key_sets (network, owner_key, protocol_key, guardian_key, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id',
      [network, ownerKey, protocolKey, guardianKey, ts],
    ))!;
  }

  async setKeySetNextIndex(keySetId: number, nextIndex: number): Promise<void> {
    await this.x.run('UPDATE key_sets SET next_index = $1 WHERE id = $2', [nextIndex, keySetId]);
  }

  async raiseKeySetWatchedEnd(keySetId: number, end: number): Promise<void> {
    await this.x.run('UPDATE key_sets SET watched_end = GREATEST(watched_end, $1) WHERE id = $2', [
      end,
      keySetId,
    ]);
  }

  async insert(v: NewVault): Promise<number> {
    return (await this.x.value<number>(
      `INSERT INTO vaults (key_set_id, idx, network, address, descriptor, state, planned_deposit_sats,
               return_address, label, account_id, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $9, $10, $10) RETURNING id`,
      [
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
      ],
    ))!;
  }

  async openLedgerAccount(vaultId: number): Promise<void> {
    await this.x.run("INSERT INTO ledger_accounts (id, kind, vault_id) VALUES ($1, 'vault', $2)", [
      `vault:${vaultId}`,
      vaultId,
    ]);
  }

  async setReturnAddress(vaultId: number, address: string, ts: number): Promise<void> {
    await this.x.run('UPDATE vaults SET return_address = $1, updated_at = $2 WHERE id = $3', [
      address,
      ts,
      vaultId,
    ]);
  }

  // — coins and collateral —

  async idByAddress(address: string, network: NetworkName): Promise<number | undefined> {
    return this.x.value<number>('SELECT id FROM vaults WHERE address = $1 AND network = $2', [
      address,
      network,
    ]);
  }

  async idsWithCoins(network: NetworkName): Promise<number[]> {
    // ORDER BY id: SQLite answers in rowid order (a scan), PostgreSQL in no given order.
    return this.x.column<number>(
      `SELECT id FROM vaults WHERE network = $1
          AND (collateral_sats > 0 OR incoming_sats > 0 OR id IN (SELECT vault_id FROM vault_utxos))
        ORDER BY id`,
      [network],
    );
  }

  async vaultsWithTransaction(txid: string): Promise<number[]> {
    const ids = await this.x.column<number | string>(
      'SELECT vault_id FROM vault_utxos WHERE txid = $1 UNION SELECT vault_id FROM spends WHERE txid = $1 ORDER BY 1',
      [txid],
    );
    return ids.map(Number);
  }

  async isOwnSpendTx(txid: string): Promise<boolean> {
    return (
      (await this.x.value(
        "SELECT 1 FROM spends WHERE txid = $1 AND state IN ('signed', 'broadcast', 'confirmed')",
        [txid],
      )) !== undefined
    );
  }

  async isClosing(vaultId: number): Promise<boolean> {
    return (
      (await this.x.value(
        "SELECT 1 FROM spends WHERE vault_id = $1 AND kind IN ('close', 'emergency-exit') AND state IN ('signed', 'broadcast')",
        [vaultId],
      )) !== undefined
    );
  }

  async replaceCoins(vaultId: number, coins: readonly VaultCoin[]): Promise<void> {
    await this.x.run('DELETE FROM vault_utxos WHERE vault_id = $1', [vaultId]);
    if (coins.length === 0) return;
    // One statement for all the coins (SQLite runs one insert per coin).
    await this.x.run(
      `INSERT INTO vault_utxos (txid, vout, vault_id, amount_sats, confirmations)
         SELECT t, o, $1, a, c FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::bigint[]) AS u (t, o, a, c)`,
      [
        vaultId,
        coins.map((c) => c.txid),
        coins.map((c) => c.vout),
        coins.map((c) => c.amountSats),
        coins.map((c) => c.confirmations),
      ],
    );
  }

  async setCollateral(
    vaultId: number,
    c: {
      collateralSats: number;
      incomingSats: number;
      state: string;
      liquidationPriceCents: number | null;
      warningPriceCents: number | null;
    },
    ts: number,
  ): Promise<void> {
    await this.x.run(
      `UPDATE vaults SET collateral_sats = $1, incoming_sats = $2, state = $3, liquidation_price_cents = $4,
           warning_price_cents = $5, updated_at = $6 WHERE id = $7`,
      [
        c.collateralSats,
        c.incomingSats,
        c.state,
        c.liquidationPriceCents,
        c.warningPriceCents,
        ts,
        vaultId,
      ],
    );
  }

  // — debt —

  async debtBasis(
    vaultId: number,
  ): Promise<{ collateralSats: Sats; network: NetworkName } | undefined> {
    const v = await this.x.row<{ collateral_sats: Sats; network: NetworkName }>(
      'SELECT collateral_sats, network FROM vaults WHERE id = $1',
      [vaultId],
    );
    return v && { collateralSats: v.collateral_sats, network: v.network };
  }

  async debtCents(vaultId: number): Promise<number | undefined> {
    return this.x.value<number>('SELECT debt_cents FROM vaults WHERE id = $1', [vaultId]);
  }

  async setDebt(
    vaultId: number,
    debt: number,
    art: number,
    liquidationPriceCents: number | null,
    warningPriceCents: number | null,
    ts: number,
  ): Promise<void> {
    await this.x.run(
      'UPDATE vaults SET debt_cents = $1, debt_art = $2, liquidation_price_cents = $3, warning_price_cents = $4, updated_at = $5 WHERE id = $6',
      [debt, art, liquidationPriceCents, warningPriceCents, ts, vaultId],
    );
  }

  async setDebtAndState(
    vaultId: number,
    debt: number,
    art: number,
    state: string,
    liquidationPriceCents: number | null,
    warningPriceCents: number | null,
    ts: number,
  ): Promise<void> {
    await this.x.run(
      'UPDATE vaults SET debt_cents = $1, debt_art = $2, state = $3, liquidation_price_cents = $4, warning_price_cents = $5, updated_at = $6 WHERE id = $7',
      [debt, art, state, liquidationPriceCents, warningPriceCents, ts, vaultId],
    );
  }

  async debtSums(network: NetworkName): Promise<DebtSums> {
    // SQLite reads these as bigints (safeIntegers). SUM of bigint is numeric here: read as text,
    // exact at any size, and made bigints.
    const r = (await this.x.row<Record<keyof DebtSums, string>>(
      `SELECT COALESCE(SUM(debt_cents), 0)::text AS booked,
              COALESCE(SUM(CASE WHEN state IN ('active', 'warning') THEN debt_cents END), 0)::text AS accruing_booked,
              COALESCE(SUM(CASE WHEN state IN ('active', 'warning') THEN debt_art END), 0)::text AS accruing_art,
              COALESCE(SUM(CASE WHEN debt_cents > 0 THEN collateral_sats END), 0)::text AS collateral
         FROM vaults WHERE network = $1 AND debt_cents > 0`,
      [network],
    ))!;
    return {
      booked: BigInt(r.booked),
      accruing_booked: BigInt(r.accruing_booked),
      accruing_art: BigInt(r.accruing_art),
      collateral: BigInt(r.collateral),
    };
  }

  // — the stability fee book —

  async feeRate(network: NetworkName): Promise<FeeRateRow | undefined> {
    return this.x.row<FeeRateRow>(
      'SELECT rate, annual_bps, dripped_at FROM fee_rates WHERE network = $1',
      [network],
    );
  }

  async startFeeRate(network: NetworkName, rate: string, ts: number): Promise<void> {
    await this.x.run(
      'INSERT INTO fee_rates (network, rate, annual_bps, dripped_at) VALUES ($1, $2, 0, $3)',
      [network, rate, ts],
    );
  }

  async setFeeRate(network: NetworkName, rate: string, drippedAt: number): Promise<void> {
    await this.x.run('UPDATE fee_rates SET rate = $1, dripped_at = $2 WHERE network = $3', [
      rate,
      drippedAt,
      network,
    ]);
  }

  async setAnnualBps(network: NetworkName, annualBps: number): Promise<void> {
    await this.x.run('UPDATE fee_rates SET annual_bps = $1 WHERE network = $2', [
      annualBps,
      network,
    ]);
  }

  async feeRow(vaultId: number): Promise<VaultFeeRow | undefined> {
    return this.x.row<VaultFeeRow>(`${FEE_ROW} WHERE id = $1`, [vaultId]);
  }

  async bookFee(vaultId: number, fee: number): Promise<void> {
    await this.x.run(
      'UPDATE vaults SET debt_cents = debt_cents + $1, fees_cents = fees_cents + $1 WHERE id = $2',
      [fee, vaultId],
    );
  }

  async sweepable(network: NetworkName): Promise<VaultFeeRow[]> {
    // ORDER BY id: SQLite's order is the rowid scan's.
    return this.x.rows<VaultFeeRow>(
      `${FEE_ROW}
        WHERE network = $1 AND debt_art > 0 AND state IN ('active', 'warning')
          AND id NOT IN (SELECT vault_id FROM spends
                          WHERE state IN ('draft', 'signing', 'awaiting-guardian', 'signed'))
        ORDER BY id`,
      [network],
    );
  }

  async bookedFees(network: NetworkName): Promise<number> {
    return (await this.x.value<number>(
      'SELECT COALESCE(SUM(fees_cents), 0)::bigint FROM vaults WHERE network = $1',
      [network],
    ))!;
  }

  // — for the API and the vault operations —

  async debtSteps(vaultId: number): Promise<DebtStep[]> {
    return this.x.rows<DebtStep>(
      `SELECT e.ts AS ts, p.amount_cents AS amount, e.kind AS kind FROM ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id
            WHERE p.account_id = $1 ORDER BY e.ts, e.id`,
      [`vault:${vaultId}`],
    );
  }

  async collateralSteps(vaultId: number): Promise<{ ts: number; data: string }[]> {
    return this.x.rows<{ ts: number; data: string }>(
      "SELECT ts, data FROM events WHERE vault_id = $1 AND type = 'vault.collateral' ORDER BY id",
      [vaultId],
    );
  }

  async accountRegistered(accountId: string): Promise<boolean> {
    return (await this.x.value('SELECT 1 FROM accounts WHERE id = $1', [accountId])) !== undefined;
  }
}
