/**
 * CSV exports for a tax return or a spreadsheet (RFC 4180): a header row, one row per entry,
 * dates in ISO 8601 UTC, amounts as exact decimals written from integer sats and cents (never
 * through floating point), the unit in each amount column's name.
 */
import type { Result } from '../../../core/api/contract';

type Cell = string | number | null;

/** One field as RFC 4180 writes it: quoted, its quotes doubled, when it holds , " CR or LF. */
export function csvField(value: Cell): string {
  const s = value === null ? '' : String(value);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** The header and rows as one CSV text: CRLF after every record, the last one included. */
export function csvText(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  return [header, ...rows].map((r) => `${r.map(csvField).join(',')}\r\n`).join('');
}

/**
 * Text someone typed (a label, a memo — perhaps someone else's), kept as text: a spreadsheet
 * would run a field that starts with = + - @ or a tab as a formula, so such a field gets a
 * leading apostrophe, the mark spreadsheets read as "this is text" (OWASP, CSV injection).
 */
export function textCell(value: string | null): string | null {
  if (value === null) return null;
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/** An integer amount in units of 10^-places as an exact decimal: (-123456, 2) → "-1234.56". */
export function decimal(units: number | bigint, places: number): string {
  if (typeof units === 'number' && !Number.isSafeInteger(units))
    throw new RangeError(`not a whole amount: ${units}`);
  const n = BigInt(units);
  const a = n < 0n ? -n : n;
  const scale = 10n ** BigInt(places);
  const whole = (a / scale).toString();
  const frac = places > 0 ? `.${(a % scale).toString().padStart(places, '0')}` : '';
  return `${n < 0n ? '-' : ''}${whole}${frac}`;
}

/** Cents as bsUSD or USD: 123456 → "1234.56". */
export const centsDecimal = (cents: number) => decimal(cents, 2);
/** Sats as BTC: 100000 → "0.00100000". */
export const satsDecimal = (sats: number) => decimal(sats, 8);
/** Milliseconds since 1970 as ISO 8601 in UTC: "2025-03-01T14:05:09.123Z". */
export const isoUtc = (ms: number) => new Date(ms).toISOString();

/** A page of a list the API pages through (newest first, `total` over all pages). */
export interface Page<T> {
  total: number;
  items: T[];
}

/**
 * Every item of a paged list, page after page until `total`. New entries land on the first
 * page while this reads, shifting the rest: if `total` moves, it starts over (a few times).
 */
export async function allPages<T>(
  read: (offset: number, limit: number) => Promise<Page<T>>,
  limit = 500,
): Promise<T[]> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const first = await read(0, limit);
    const items = [...first.items];
    let moved = false;
    while (items.length < first.total) {
      const page = await read(items.length, limit);
      if (page.total !== first.total || page.items.length === 0) {
        moved = true;
        break;
      }
      items.push(...page.items);
    }
    if (!moved) return items;
  }
  throw new Error('The list kept changing while it was read; try the export again.');
}

/** `bitstable-vault-12-history-regtest.csv` */
export const exportName = (what: string, network: string) =>
  `bitstable-${what}-${network}.csv`.replace(/[^a-z0-9.-]+/gi, '-');

type ActivityItem = Result<'vaults.activity'>['items'][number];
type StatementItem = Result<'bsusd.statement'>['items'][number];

export const VAULT_HISTORY_HEADER = [
  'date_utc',
  'type',
  'collateral_change_btc',
  'collateral_after_btc',
  'debt_change_bsusd',
  'debt_after_bsusd',
  'network_fee_btc',
  'txid',
  'vault_id',
  'vault_label',
] as const;

/** A vault's history (`vaults.activity`, newest first) as CSV, oldest first. */
export function vaultHistoryCsv(
  vault: { id: number; label: string | null },
  items: readonly ActivityItem[],
): string {
  const rows = [...items]
    .reverse()
    .map((i) => [
      isoUtc(i.ts),
      i.kind,
      satsDecimal(i.collateralChangeSats),
      satsDecimal(i.collateralAfterSats),
      centsDecimal(i.debtChangeCents),
      centsDecimal(i.debtAfterCents),
      i.feeSats === null ? null : satsDecimal(i.feeSats),
      i.txid,
      vault.id,
      textCell(vault.label),
    ]);
  return csvText(VAULT_HISTORY_HEADER, rows);
}

export const STATEMENT_HEADER = [
  'date_utc',
  'entry_id',
  'type',
  'amount_bsusd',
  'balance_after_bsusd',
  'vault_id',
  'counterparty',
  'memo',
] as const;

/** The bsUSD statement (`bsusd.statement`, newest first) as CSV, oldest first. */
export function statementCsv(items: readonly StatementItem[]): string {
  const rows = [...items]
    .reverse()
    .map((l) => [
      isoUtc(l.ts),
      l.entryId,
      l.kind,
      centsDecimal(l.amountCents),
      centsDecimal(l.balanceAfterCents),
      l.vaultId,
      l.counterparty,
      textCell(l.memo),
    ]);
  return csvText(STATEMENT_HEADER, rows);
}
