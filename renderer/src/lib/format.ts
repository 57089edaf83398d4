/**
 * Amounts as people read them, from integers only: BTC with 8 decimals and sats, USD and bsUSD
 * with cents, ratios from basis points. Parsing goes the other way without floating point.
 */
const SATS_PER_BTC = 100_000_000;
const group = (n: number | bigint) => n.toLocaleString('en-US');

/** 12345678 → "0.12345678" */
export function btc(sats: number): string {
  const neg = sats < 0;
  const a = Math.abs(sats);
  return `${neg ? '-' : ''}${group(Math.floor(a / SATS_PER_BTC))}.${String(a % SATS_PER_BTC).padStart(8, '0')}`;
}

/** 12345678 → "12,345,678 sats" */
export function satsText(sats: number): string {
  return `${group(sats)} sats`;
}

/** 450000 → "4,500.00" */
export function dollars(cents: number): string {
  const neg = cents < 0;
  const a = Math.abs(cents);
  return `${neg ? '-' : ''}${group(Math.floor(a / 100))}.${String(a % 100).padStart(2, '0')}`;
}

/** 450000 → "$4,500.00" */
export const usd = (cents: number) => (cents < 0 ? `-$${dollars(-cents)}` : `$${dollars(cents)}`);
/** 450000 → "4,500.00 bsUSD" */
export const bsusd = (cents: number) => `${dollars(cents)} bsUSD`;

/** 16000 → "160.00 %"; null → "—" (no debt: no ratio). */
export function pct(bps: number | null): string {
  if (bps === null) return '—';
  if (bps >= 100_000_000) return '> 1,000,000 %';
  return `${group(Math.floor(bps / 100))}.${String(bps % 100).padStart(2, '0')} %`;
}

/** Parses "0.1", "1,000.5" (BTC) into sats; null when it is not an amount with ≤ 8 decimals. */
export function parseBtc(text: string): number | null {
  const m = /^(\d{1,8})(?:\.(\d{0,8}))?$/.exec(text.replace(/[,\s_]/g, ''));
  if (!m) return null;
  const v = Number(m[1]) * SATS_PER_BTC + Number((m[2] ?? '').padEnd(8, '0'));
  return Number.isSafeInteger(v) ? v : null;
}

/** Parses "4500", "4,500.25" (USD or bsUSD) into cents; null when not an amount with ≤ 2 decimals. */
export function parseDollars(text: string): number | null {
  const m = /^(\d{1,13})(?:\.(\d{0,2}))?$/.exec(text.replace(/[$,\s_]/g, ''));
  if (!m) return null;
  const v = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  return Number.isSafeInteger(v) ? v : null;
}

/** Collateral ratio in bps at a price (BigInt, as the core computes it); null without debt. */
export function ratioAt(
  collateralSats: number,
  debtCents: number,
  priceCents: number,
): number | null {
  if (debtCents === 0) return null;
  const r =
    (BigInt(collateralSats) * BigInt(priceCents) * 10_000n) / (BigInt(debtCents) * 100_000_000n);
  return r > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(r);
}

/**
 * The BTC price (cents) under which a vault falls below `ratioBps`: rounded up, so the price
 * shown is never below the one that liquidates it. Null without debt or collateral.
 */
export function priceAtRatio(
  collateralSats: number,
  debtCents: number,
  ratioBps: number,
): number | null {
  if (debtCents <= 0 || collateralSats <= 0) return null;
  const num = BigInt(debtCents) * BigInt(ratioBps) * 100_000_000n;
  const den = BigInt(collateralSats) * 10_000n;
  return Number((num + den - 1n) / den);
}

/** The most debt (cents) a vault may have and stay at or above `ratioBps` at a price. */
export function maxDebtAt(collateralSats: number, priceCents: number, ratioBps: number): number {
  return Number(
    (BigInt(collateralSats) * BigInt(priceCents) * 10_000n) / (BigInt(ratioBps) * 100_000_000n),
  );
}

/** The least collateral (sats) that holds `debtCents` at or above `ratioBps` at a price: rounded up. */
export function minCollateralAt(debtCents: number, priceCents: number, ratioBps: number): number {
  const num = BigInt(debtCents) * BigInt(ratioBps) * 100_000_000n;
  const den = BigInt(priceCents) * 10_000n;
  return Number((num + den - 1n) / den);
}

/**
 * What brings a vault back to `ratioBps` at a price: the debt to repay (cents, rounded up) or the
 * collateral to add (sats, rounded up), each on its own. Null when it is there already.
 */
export function backTo(
  collateralSats: number,
  debtCents: number,
  priceCents: number,
  ratioBps: number,
): { repayCents: number; addSats: number } | null {
  if (debtCents <= 0 || priceCents <= 0) return null;
  const repayCents = debtCents - maxDebtAt(collateralSats, priceCents, ratioBps);
  if (repayCents <= 0) return null;
  return { repayCents, addSats: minCollateralAt(debtCents, priceCents, ratioBps) - collateralSats };
}

/** What takers paid per BTC on average, in cents (rounded down); 0 when nothing was sold. */
export function averagePriceCents(coveredCents: number, soldSats: number): number {
  return soldSats > 0 ? Math.floor((coveredCents * SATS_PER_BTC) / soldSats) : 0;
}

/** The local time of a reading, for what is shown as of then: "14:08:34". */
export const clockTime = (ms: number) => new Date(ms).toLocaleTimeString('en-GB');

/** "3 s", "2 min 5 s", "1 h 4 min" */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** A short date and time in the person's locale. */
export function when(ms: number): string {
  return new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function shortHash(h: string, n = 10): string {
  return h.length <= 2 * n ? h : `${h.slice(0, n)}…${h.slice(-n)}`;
}

/** The 21 million BTC that can ever exist, in sats: no amount is larger. */
export const MAX_SATS = 21_000_000 * SATS_PER_BTC;

/** Why a BTC amount typed in a field cannot be used, in a sentence; null when it can (or is empty). */
export function btcAmountProblem(
  text: string,
  options: { atMostSats?: number; tooMuch?: (max: string) => string } = {},
): string | null {
  if (text.trim() === '') return null;
  const sats = parseBtc(text);
  if (sats === null) return 'Write an amount in BTC with at most 8 decimals, e.g. 0.1.';
  if (sats === 0) return 'The amount must be more than 0 BTC.';
  if (sats > MAX_SATS) return 'No more than 21,000,000 BTC will ever exist.';
  if (options.atMostSats !== undefined && sats > options.atMostSats)
    return (options.tooMuch ?? ((max) => `That is more than ${max} BTC.`))(btc(options.atMostSats));
  return null;
}
