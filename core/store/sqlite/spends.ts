/** The spends port on SQLite (better-sqlite3). */
import type { Sqlite } from '../../db/database';
import { Statements, type Statement } from './statements';
import { OPEN_SPEND_SQL, type SpendKind, type SpendState } from '../../spends/state';
import type { ConfirmedCoinRow, InFlightSpend, SpendPatch, SpendRow, SpendsRepo } from '../spends';

export class SqliteSpends implements SpendsRepo {
  private readonly statements: Statements;

  constructor(readonly db: Sqlite) {
    this.statements = new Statements(db);
  }

  private q(sql: string, pluck = false): Statement {
    return this.statements.get(sql, pluck);
  }

  get(id: number): SpendRow | undefined {
    return this.q('SELECT * FROM spends WHERE id = ?').get(id) as SpendRow | undefined;
  }

  openFor(vaultId: number): SpendRow | undefined {
    return this.q(
      `SELECT * FROM spends WHERE vault_id = ? AND state IN ${OPEN_SPEND_SQL} ORDER BY id DESC LIMIT 1`,
    ).get(vaultId) as SpendRow | undefined;
  }

  openAll(vaultId: number): SpendRow[] {
    return this.q(`SELECT * FROM spends WHERE vault_id = ? AND state IN ${OPEN_SPEND_SQL}`).all(
      vaultId,
    ) as SpendRow[];
  }

  exitsCancelledSince(vaultId: number, since: number): SpendRow[] {
    return this.q(
      "SELECT * FROM spends WHERE vault_id = ? AND kind = 'emergency-exit' AND state = 'cancelled' AND updated_at > ?",
    ).all(vaultId, since) as SpendRow[];
  }

  isVaultCoin(txid: string, vout: number): boolean {
    return (
      this.q('SELECT 1 FROM vault_utxos WHERE txid = ? AND vout = ?', true).get(txid, vout) !==
      undefined
    );
  }

  insertDraft(
    vaultId: number,
    kind: SpendKind,
    plan: string,
    psbt: string,
    destination: string | null,
    ts: number,
    expiresAt: number | null,
    by: string,
  ): number {
    return Number(
      this.q(
        "INSERT INTO spends (vault_id, kind, state, plan, psbt, destination, created_at, updated_at, expires_at, signing_by) VALUES (?, ?, 'draft', ?, ?, ?, ?, ?, ?, ?)",
      ).run(vaultId, kind, plan, psbt, destination, ts, ts, expiresAt, by).lastInsertRowid,
    );
  }

  moveState(id: number, from: SpendState, to: SpendState, ts: number, patch: SpendPatch): boolean {
    const sets = ['state = @to', 'updated_at = @ts'];
    for (const k of Object.keys(patch)) sets.push(`${k} = @${k}`);
    const moved = this.q(
      `UPDATE spends SET ${sets.join(', ')} WHERE id = @id AND state = @from`,
    ).run({ ...patch, to, ts, id, from });
    return moved.changes !== 0;
  }

  inStates(states: readonly SpendState[]): SpendRow[] {
    return this.q(
      `SELECT * FROM spends WHERE state IN (${states.map(() => '?').join(', ')}) ORDER BY id`,
    ).all(...states) as SpendRow[];
  }

  ofVault(vaultId: number, states: readonly SpendState[]): SpendRow[] {
    return this.q(
      `SELECT * FROM spends WHERE vault_id = ? AND state IN (${states.map(() => '?').join(', ')}) ORDER BY id`,
    ).all(vaultId, ...states) as SpendRow[];
  }

  watchedGuardianRequests(cancelledSince: number): SpendRow[] {
    return this.q(
      "SELECT * FROM spends WHERE state = 'awaiting-guardian' OR (state = 'cancelled' AND updated_at > ?) ORDER BY id",
    ).all(cancelledSince) as SpendRow[];
  }

  tracked(confirmedSince: number): SpendRow[] {
    return this.q(
      "SELECT * FROM spends WHERE state IN ('signed', 'broadcast') OR (state = 'confirmed' AND updated_at > ?) ORDER BY id",
    ).all(confirmedSince) as SpendRow[];
  }

  droppedSince(since: number): SpendRow[] {
    return this.q(
      "SELECT * FROM spends WHERE state = 'abandoned' AND txid IS NOT NULL AND updated_at > ? ORDER BY id",
    ).all(since) as SpendRow[];
  }

  isOwnTransaction(txid: string): boolean {
    return (
      this.q(
        "SELECT 1 FROM spends WHERE txid = ? AND state IN ('signed', 'broadcast', 'confirmed')",
        true,
      ).get(txid) !== undefined
    );
  }

  hasTransaction(txid: string): boolean {
    return !!this.q('SELECT 1 FROM spends WHERE txid = ?', true).get(txid);
  }

  latestInFlight(vaultId: number): InFlightSpend | undefined {
    return this.q(
      "SELECT kind, txid, state FROM spends WHERE vault_id = ? AND state IN ('signing', 'awaiting-guardian', 'signed', 'broadcast') ORDER BY id DESC LIMIT 1",
    ).get(vaultId) as InFlightSpend | undefined;
  }

  closeVault(vaultId: number, ts: number): void {
    this.q("UPDATE vaults SET state = 'closed', updated_at = ? WHERE id = ?").run(ts, vaultId);
  }

  reopenClosedVault(vaultId: number, ts: number): void {
    this.q(
      "UPDATE vaults SET state = 'active', updated_at = ? WHERE id = ? AND state = 'closed'",
    ).run(ts, vaultId);
  }

  confirmedCoins(vaultId: number, confirmations: number): ConfirmedCoinRow[] {
    return this.q(
      'SELECT txid, vout, amount_sats FROM vault_utxos WHERE vault_id = ? AND confirmations >= ? ORDER BY txid, vout',
    ).all(vaultId, confirmations) as ConfirmedCoinRow[];
  }
}
