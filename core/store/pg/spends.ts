/** The spends port on PostgreSQL: the twin of sqlite/spends.ts. */
import { BitStableError } from '../../errors';
import { OPEN_SPEND_SQL, type SpendKind, type SpendState } from '../../spends/state';
import type { Async } from '../ports';
import type { ConfirmedCoinRow, InFlightSpend, SpendPatch, SpendRow, SpendsRepo } from '../spends';
import type { PgExecutor } from './executor';

/** The columns a move may set (the keys of SpendPatch): they are named in the statement. */
const PATCH_COLUMNS: ReadonlySet<string> = new Set<keyof SpendPatch>([
  'psbt',
  'tx_hex',
  'txid',
  'signing_by',
  'cosign_price_cents',
]);

export class PgSpends implements Async<SpendsRepo> {
  constructor(private readonly x: PgExecutor) {}

  async get(id: number): Promise<SpendRow | undefined> {
    return this.x.row<SpendRow>('SELECT * FROM spends WHERE id = $1', [id]);
  }

  async openFor(vaultId: number): Promise<SpendRow | undefined> {
    return this.x.row<SpendRow>(
      `SELECT * FROM spends WHERE vault_id = $1 AND state IN ${OPEN_SPEND_SQL} ORDER BY id DESC LIMIT 1`,
      [vaultId],
    );
  }

  async openAll(vaultId: number): Promise<SpendRow[]> {
    // ORDER BY id: SQLite's order is that of its (vault_id, id) index.
    return this.x.rows<SpendRow>(
      `SELECT * FROM spends WHERE vault_id = $1 AND state IN ${OPEN_SPEND_SQL} ORDER BY id`,
      [vaultId],
    );
  }

  async exitsCancelledSince(vaultId: number, since: number): Promise<SpendRow[]> {
    return this.x.rows<SpendRow>(
      "SELECT * FROM spends WHERE vault_id = $1 AND kind = 'emergency-exit' AND state = 'cancelled' AND updated_at > $2 ORDER BY id",
      [vaultId, since],
    );
  }

  async isVaultCoin(txid: string, vout: number): Promise<boolean> {
    return (
      (await this.x.value('SELECT 1 FROM vault_utxos WHERE txid = $1 AND vout = $2', [
        txid,
        vout,
      ])) !== undefined
    );
  }

  async insertDraft(
    vaultId: number,
    kind: SpendKind,
    plan: string,
    psbt: string,
    destination: string | null,
    ts: number,
    expiresAt: number | null,
    by: string,
  ): Promise<number> {
    return (await this.x.value<number>(
      "INSERT INTO spends (vault_id, kind, state, plan, psbt, destination, created_at, updated_at, expires_at, signing_by) VALUES ($1, $2, 'draft', $3, $4, $5, $6, $6, $7, $8) RETURNING id",
      [vaultId, kind, plan, psbt, destination, ts, expiresAt, by],
    ))!;
  }

  async moveState(
    id: number,
    from: SpendState,
    to: SpendState,
    ts: number,
    patch: SpendPatch,
  ): Promise<boolean> {
    const params: unknown[] = [to, ts, id, from];
    const sets = ['state = $1', 'updated_at = $2'];
    for (const [k, v] of Object.entries(patch)) {
      if (!PATCH_COLUMNS.has(k))
        throw new BitStableError('INTERNAL', `A spend has no field ${k} to set.`, { field: k });
      params.push(v);
      sets.push(`${k} = $${params.length}`);
    }
    const moved = await this.x.run(
      `UPDATE spends SET ${sets.join(', ')} WHERE id = $3 AND state = $4`,
      params,
    );
    return moved !== 0;
  }

  async inStates(states: readonly SpendState[]): Promise<SpendRow[]> {
    // = ANY of an array: also right for no states (SQLite takes `IN ()`, PostgreSQL does not).
    return this.x.rows<SpendRow>('SELECT * FROM spends WHERE state = ANY($1::text[]) ORDER BY id', [
      states,
    ]);
  }

  async ofVault(vaultId: number, states: readonly SpendState[]): Promise<SpendRow[]> {
    return this.x.rows<SpendRow>(
      'SELECT * FROM spends WHERE vault_id = $1 AND state = ANY($2::text[]) ORDER BY id',
      [vaultId, states],
    );
  }

  async watchedGuardianRequests(cancelledSince: number): Promise<SpendRow[]> {
    return this.x.rows<SpendRow>(
      "SELECT * FROM spends WHERE state = 'awaiting-guardian' OR (state = 'cancelled' AND updated_at > $1) ORDER BY id",
      [cancelledSince],
    );
  }

  async tracked(confirmedSince: number): Promise<SpendRow[]> {
    return this.x.rows<SpendRow>(
      "SELECT * FROM spends WHERE state IN ('signed', 'broadcast') OR (state = 'confirmed' AND updated_at > $1) ORDER BY id",
      [confirmedSince],
    );
  }

  async droppedSince(since: number): Promise<SpendRow[]> {
    return this.x.rows<SpendRow>(
      "SELECT * FROM spends WHERE state = 'abandoned' AND txid IS NOT NULL AND updated_at > $1 ORDER BY id",
      [since],
    );
  }

  async isOwnTransaction(txid: string): Promise<boolean> {
    return (
      (await this.x.value(
        "SELECT 1 FROM spends WHERE txid = $1 AND state IN ('signed', 'broadcast', 'confirmed')",
        [txid],
      )) !== undefined
    );
  }

  async hasTransaction(txid: string): Promise<boolean> {
    return (await this.x.value('SELECT 1 FROM spends WHERE txid = $1', [txid])) !== undefined;
  }

  async latestInFlight(vaultId: number): Promise<InFlightSpend | undefined> {
    return this.x.row<InFlightSpend>(
      "SELECT kind, txid, state FROM spends WHERE vault_id = $1 AND state IN ('signing', 'awaiting-guardian', 'signed', 'broadcast') ORDER BY id DESC LIMIT 1",
      [vaultId],
    );
  }

  async closeVault(vaultId: number, ts: number): Promise<void> {
    await this.x.run("UPDATE vaults SET state = 'closed', updated_at = $1 WHERE id = $2", [
      ts,
      vaultId,
    ]);
  }

  async reopenClosedVault(vaultId: number, ts: number): Promise<void> {
    await this.x.run(
      "UPDATE vaults SET state = 'active', updated_at = $1 WHERE id = $2 AND state = 'closed'",
      [ts, vaultId],
    );
  }

  async confirmedCoins(vaultId: number, confirmations: number): Promise<ConfirmedCoinRow[]> {
    // COLLATE "C": SQLite orders text bytewise; the database's default collation might not.
    return this.x.rows<ConfirmedCoinRow>(
      'SELECT txid, vout, amount_sats FROM vault_utxos WHERE vault_id = $1 AND confirmations >= $2 ORDER BY txid COLLATE "C", vout',
      [vaultId, confirmations],
    );
  }
}
