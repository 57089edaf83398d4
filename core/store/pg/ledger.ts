/** The ledger port on PostgreSQL: the twin of `sqlite/ledger.ts`. */
import {
  checkAccountUpdated,
  checkBalanced,
  checkCovered,
  drawsOnBalance,
  invariantProblems,
  needsNetting,
  nettingPostings,
  totalsOf,
  transferPostings,
} from '../rows/ledger-rules';
import { holderAccount } from '../../ledger/bsusd';
import type { BooksEntry, EntryKind, InvariantReport, LedgerRepo, StatementLine } from '../ledger';
import type { Async } from '../ports';
import {
  booksEntryFromRow,
  statementLineFromRow,
  type BooksRow,
  type StatementRow,
} from '../rows/ledger';
import type { PgExecutor } from './executor';

export class PgLedger implements Async<LedgerRepo> {
  constructor(private readonly x: PgExecutor) {}

  async ensureHolder(name: string): Promise<string> {
    const id = holderAccount(name);
    await this.x.run(
      "INSERT INTO ledger_accounts (id, kind) VALUES ($1, 'holder') ON CONFLICT DO NOTHING",
      [id],
    );
    return id;
  }

  async balance(account: string): Promise<number> {
    return (
      (await this.x.value<number>('SELECT balance_cents FROM ledger_accounts WHERE id = $1', [
        account,
      ])) ?? 0
    );
  }

  /**
   * As on SQLite, not a transaction of its own: it belongs to the caller's. (On PostgreSQL a
   * refused statement, e.g. a vault repaid past its debt, also aborts that transaction.)
   */
  async post(
    kind: EntryKind,
    vaultId: number | null,
    postings: [account: string, amountCents: number][],
    memo?: string,
    ts = Date.now(),
  ): Promise<number> {
    checkBalanced(kind, postings);
    for (const [account, amount] of postings)
      if (drawsOnBalance(account, amount))
        checkCovered(account, amount, await this.balance(account));
    const entryId = (await this.x.value<number>(
      'INSERT INTO ledger_entries (ts, kind, vault_id, memo) VALUES ($1, $2, $3, $4) RETURNING id',
      [ts, kind, vaultId, memo ?? null],
    ))!;
    for (const [account, amount] of postings) {
      await this.x.run(
        'INSERT INTO ledger_postings (entry_id, account_id, amount_cents) VALUES ($1, $2, $3)',
        [entryId, account, amount],
      );
      const changed = await this.x.run(
        'UPDATE ledger_accounts SET balance_cents = balance_cents + $1 WHERE id = $2',
        [amount, account],
      );
      checkAccountUpdated(account, changed);
    }
    if (needsNetting(kind, postings)) await this.netSurplusAgainstDeficit(entryId, ts);
    return entryId;
  }

  /** Moves min(surplus, bad debt) from surplus to cover the deficit, as one `netting` entry. */
  private async netSurplusAgainstDeficit(after: number, ts: number): Promise<void> {
    const postings = nettingPostings(await this.balance('surplus'), await this.balance('deficit'));
    if (postings)
      await this.post(
        'netting',
        null,
        postings,
        `surplus covers deficit (after entry ${after})`,
        ts,
      );
  }

  async checkInvariant(): Promise<InvariantReport> {
    // SQLite lists these in its GROUP BY / rowid order: here the same order, spelled out
    // (account ids in byte order, as SQLite's BINARY collation sorts them).
    const unbalanced = await this.x.column<number>(
      `SELECT entry_id FROM ledger_postings GROUP BY entry_id HAVING SUM(amount_cents) <> 0
        ORDER BY entry_id`,
    );
    const drift = await this.x.column<string>(
      `SELECT a.id FROM ledger_accounts a LEFT JOIN ledger_postings p ON p.account_id = a.id
       GROUP BY a.id HAVING a.balance_cents <> COALESCE(SUM(p.amount_cents), 0)
       ORDER BY a.id COLLATE "C"`,
    );
    const mismatched = await this.x.column<number>(
      `SELECT v.id FROM vaults v LEFT JOIN ledger_accounts a ON a.id = 'vault:' || v.id
       WHERE v.debt_cents <> -COALESCE(a.balance_cents, 0) ORDER BY v.id`,
    );

    // SPEC §5: no debt may stand on a vault that holds no collateral (a reorg may take a deposit
    // away for a while; a vault whose coins are gone for good is Closed or Liquidated).
    // The order SQLite reads them in: along its index vaults_by_state_warning.
    const unbacked = await this.x.column<number>(
      `SELECT id FROM vaults WHERE debt_cents > 0 AND collateral_sats = 0 AND incoming_sats = 0 AND state IN ('closed', 'liquidated')
        ORDER BY state COLLATE "C", warning_price_cents NULLS FIRST, liquidation_price_cents NULLS FIRST, id`,
    );

    // One statement for the four sums (SQLite asks one per kind); SUM of bigint is numeric on
    // PostgreSQL, hence the casts.
    const s = (await this.x.row<
      Record<'holder' | 'pool' | 'surplus' | 'vault' | 'deficit', number>
    >(
      `SELECT ${(['holder', 'pool', 'surplus', 'vault', 'deficit'] as const)
        .map((k) => `COALESCE(SUM(balance_cents) FILTER (WHERE kind = '${k}'), 0)::bigint AS ${k}`)
        .join(', ')}
         FROM ledger_accounts`,
    ))!;
    const totals = totalsOf(s);
    const problems = invariantProblems({ unbalanced, drift, mismatched, unbacked, totals });
    return { ...totals, ok: problems.length === 0, problems };
  }

  async transfer(
    from: string,
    to: string,
    amountCents: number,
    memo: string | null,
    ts = Date.now(),
  ): Promise<number> {
    return this.post(
      'transfer',
      null,
      transferPostings(from, to, amountCents),
      memo ?? undefined,
      ts,
    );
  }

  async statement(
    holder: string,
    offset: number,
    limit: number,
  ): Promise<{ total: number; items: StatementLine[] }> {
    const account = holderAccount(holder);
    const total = (await this.x.value<number>(
      'SELECT COUNT(*) FROM ledger_postings WHERE account_id = $1',
      [account],
    ))!;
    const rows = await this.x.rows<StatementRow>(
      `WITH mine AS (
         SELECT p.entry_id, p.amount_cents,
                (SUM(p.amount_cents) OVER (ORDER BY p.entry_id))::bigint AS balance_after
           FROM ledger_postings p WHERE p.account_id = $1)
       SELECT m.entry_id, m.amount_cents, m.balance_after, e.ts, e.kind, e.vault_id, e.memo,
              (SELECT o.account_id FROM ledger_postings o
                WHERE o.entry_id = m.entry_id AND o.account_id <> $1 AND e.kind = 'transfer'
                LIMIT 1) AS other
         FROM mine m JOIN ledger_entries e ON e.id = m.entry_id
        ORDER BY m.entry_id DESC LIMIT $2 OFFSET $3`,
      [account, limit, offset],
    );
    return { total, items: rows.map(statementLineFromRow) };
  }

  async booksHistory(limit: number): Promise<BooksEntry[]> {
    const rows = await this.x.rows<BooksRow>(
      `SELECT e.id, e.ts, e.kind, e.vault_id, e.memo,
              COALESCE(SUM(CASE WHEN p.account_id = 'surplus' THEN p.amount_cents END), 0)::bigint AS surplus,
              COALESCE(SUM(CASE WHEN p.account_id = 'deficit' THEN -p.amount_cents END), 0)::bigint AS deficit
         FROM ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id
        WHERE p.account_id IN ('surplus', 'deficit')
        GROUP BY e.id ORDER BY e.id DESC LIMIT $1`,
      [limit],
    );
    return rows.map(booksEntryFromRow);
  }
}
