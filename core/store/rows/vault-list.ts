/**
 * The vault list's queries (VaultsRepo.listPage / listTotals) for both dialects: the filter of a
 * page — network, account, state, a search, the empty Pending vaults left out — as one WHERE
 * clause, so a page sorted by id, a search and the totals are each one indexed query rather than
 * every vault read into memory.
 */
import type { NetworkName } from '../../config/networks';
import type { VaultListFilter } from '../vaults';

export type Dialect = 'sqlite' | 'postgres';

/** Pending with nothing sent: what `hideEmptyPending` leaves out. */
export const EMPTY_PENDING = "(state = 'pending' AND collateral_sats = 0 AND incoming_sats = 0)";

/** Numbers SQLite's `?` placeholders as PostgreSQL's `$1, $2, …` (the SQL here has no other `?`). */
export function placeholders(sql: string, dialect: Dialect): string {
  if (dialect === 'sqlite') return sql;
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/**
 * The WHERE clause (with `?` placeholders) and its parameters for a network's vaults, of one
 * account when given, narrowed by `filter` — all but the empty Pending ones, which the caller
 * counts apart.
 */
export function vaultListWhere(
  dialect: Dialect,
  network: NetworkName,
  accountId: string | undefined,
  filter: VaultListFilter,
): { where: string; params: unknown[] } {
  const parts = ['network = ?'];
  const params: unknown[] = [network];
  if (accountId !== undefined) {
    parts.push('account_id = ?');
    params.push(accountId);
  }
  if (filter.state) {
    parts.push('state = ?');
    params.push(filter.state);
  }
  // instr / strpos rather than LIKE: a search text may hold % or _.
  const contains = (column: string) =>
    dialect === 'sqlite' ? `instr(lower(${column}), ?) > 0` : `strpos(lower(${column}), ?) > 0`;
  const s = filter.search;
  if (s?.kind === 'id') {
    parts.push(`(id = ? OR ${contains("coalesce(label, '')")})`);
    params.push(s.id, s.text);
  } else if (s?.kind === 'text') {
    parts.push(`(${contains("coalesce(label, '')")} OR ${contains('address')})`);
    params.push(s.text, s.text);
  } else if (s?.kind === 'ids') {
    if (s.ids.length === 0) parts.push('1 = 0');
    else {
      parts.push(`id IN (${s.ids.map(() => '?').join(', ')})`);
      params.push(...s.ids);
    }
  }
  return { where: parts.join(' AND '), params };
}
