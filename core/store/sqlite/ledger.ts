/** The ledger port on SQLite (better-sqlite3). */
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
import type { Sqlite } from '../../db/database';
import { Statements, type Statement } from './statements';
import { holderAccount } from '../../ledger/bsusd';
import type { BooksEntry, EntryKind, InvariantReport, LedgerRepo, StatementLine } from '../ledger';
import {
  booksEntryFromRow,
  statementLineFromRow,
  type BooksRow,
  type StatementRow,
} from '../rows/ledger';

export class SqliteLedger implements LedgerRepo {
  private readonly statements: Statements;

  constructor(readonly db: Sqlite) {
    this.statements = new Statements(db);
  }

  private q(sql: string, pluck = false): Statement {
    return this.statements.get(sql, pluck);
  }

  ensureHolder(name: string): string {
    const id = holderAccount(name);
    this.q("INSERT OR IGNORE INTO ledger_accounts (id, kind) VALUES (?, 'holder')").run(id);
    return id;
  }

  balance(account: string): number {
    return (
      (this.q('SELECT balance_cents FROM ledger_accounts WHERE id = ?', true).get(account) as
        number | undefined) ?? 0
    );
  }

  post(
    kind: EntryKind,
    vaultId: number | null,
    postings: [account: string, amountCents: number][],
    memo?: string,
    ts = Date.now(),
  ): number {
    checkBalanced(kind, postings);
    for (const [account, amount] of postings)
      if (drawsOnBalance(account, amount)) checkCovered(account, amount, this.balance(account));
    const entryId = Number(
      this.q('INSERT INTO ledger_entries (ts, kind, vault_id, memo) VALUES (?, ?, ?, ?)').run(
        ts,
        kind,
        vaultId,
        memo ?? null,
      ).lastInsertRowid,
    );
    const insert = this.q(
      'INSERT INTO ledger_postings (entry_id, account_id, amount_cents) VALUES (?, ?, ?)',
    );
    const update = this.q(
      'UPDATE ledger_accounts SET balance_cents = balance_cents + ? WHERE id = ?',
    );
    for (const [account, amount] of postings) {
      insert.run(entryId, account, amount);
      checkAccountUpdated(account, update.run(amount, account).changes);
    }
    if (needsNetting(kind, postings)) this.netSurplusAgainstDeficit(entryId, ts);
    return entryId;
  }

  /** Moves min(surplus, bad debt) from surplus to cover the deficit, as one `netting` entry. */
  private netSurplusAgainstDeficit(after: number, ts: number): void {
    const postings = nettingPostings(this.balance('surplus'), this.balance('deficit'));
    if (postings)
      this.post('netting', null, postings, `surplus covers deficit (after entry ${after})`, ts);
  }

  checkInvariant(): InvariantReport {
    const unbalanced = this.q(
      'SELECT entry_id FROM ledger_postings GROUP BY entry_id HAVING SUM(amount_cents) <> 0',
      true,
    ).all() as number[];
    const drift = this.q(
      `SELECT a.id FROM ledger_accounts a LEFT JOIN ledger_postings p ON p.account_id = a.id
       GROUP BY a.id HAVING a.balance_cents <> COALESCE(SUM(p.amount_cents), 0)`,
      true,
    ).all() as string[];
    const mismatched = this.q(
      `SELECT v.id FROM vaults v LEFT JOIN ledger_accounts a ON a.id = 'vault:' || v.id
       WHERE v.debt_cents <> -COALESCE(a.balance_cents, 0)`,
      true,
    ).all() as number[];
    // A reorg may take a deposit away for a while; a vault whose coins are gone for good is
    // Closed or Liquidated.
    const unbacked = this.q(
      "SELECT id FROM vaults WHERE debt_cents > 0 AND collateral_sats = 0 AND incoming_sats = 0 AND state IN ('closed', 'liquidated')",
      true,
    ).all() as number[];
    const sumOf = (kind: string) =>
      this.q(
        'SELECT COALESCE(SUM(balance_cents), 0) FROM ledger_accounts WHERE kind = ?',
        true,
      ).get(kind) as number;
    const totals = totalsOf({
      holder: sumOf('holder'),
      pool: sumOf('pool'),
      surplus: sumOf('surplus'),
      vault: sumOf('vault'),
      deficit: sumOf('deficit'),
    });
    const problems = invariantProblems({ unbalanced, drift, mismatched, unbacked, totals });
    return { ...totals, ok: problems.length === 0, problems };
  }

  transfer(
    from: string,
    to: string,
    amountCents: number,
    memo: string | null,
    ts = Date.now(),
  ): number {
    return this.post(
      'transfer',
      null,
      transferPostings(from, to, amountCents),
      memo ?? undefined,
      ts,
    );
  }

  statement(
    holder: string,
    offset: number,
    limit: number,
  ): { total: number; items: StatementLine[] } {
    const account = holderAccount(holder);
    const total = this.q('SELECT COUNT(*) FROM ledger_postings WHERE account_id = ?', true).get(
      account,
    ) as number;
    const rows = this.q(
      `WITH mine AS (
         SELECT p.entry_id, p.amount_cents,
                SUM(p.amount_cents) OVER (ORDER BY p.entry_id) AS balance_after
           FROM ledger_postings p WHERE p.account_id = ?)
       SELECT m.entry_id, m.amount_cents, m.balance_after, e.ts, e.kind, e.vault_id, e.memo,
              (SELECT o.account_id FROM ledger_postings o
                WHERE o.entry_id = m.entry_id AND o.account_id <> ? AND e.kind = 'transfer'
                LIMIT 1) AS other
         FROM mine m JOIN ledger_entries e ON e.id = m.entry_id
        ORDER BY m.entry_id DESC LIMIT ? OFFSET ?`,
    ).all(account, account, limit, offset) as StatementRow[];
    return { total, items: rows.map(statementLineFromRow) };
  }

  booksHistory(limit: number): BooksEntry[] {
    const rows = this.q(
      `SELECT e.id, e.ts, e.kind, e.vault_id, e.memo,
              COALESCE(SUM(CASE WHEN p.account_id = 'surplus' THEN p.amount_cents END), 0) AS surplus,
              COALESCE(SUM(CASE WHEN p.account_id = 'deficit' THEN -p.amount_cents END), 0) AS deficit
         FROM ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id
        WHERE p.account_id IN ('surplus', 'deficit')
        GROUP BY e.id ORDER BY e.id DESC LIMIT ?`,
    ).all(limit) as BooksRow[];
    return rows.map(booksEntryFromRow);
  }
}
