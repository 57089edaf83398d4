/**
 * The user's own ratio alert (issue 15): "tell me when a vault falls under 180 %". Shared by the
 * window (a toast and a notification) and the host (the webhook), so both tell of the same
 * crossings.
 */

/** The lowest ratios to look at on each accepted price: the vaults nearest to the alert. */
export const RATIO_ALERT_LOOK = {
  sort: 'ratio',
  order: 'asc',
  offset: 0,
  limit: 20,
  hideEmptyPending: true,
} as const;

/**
 * The vaults that went under the user's ratio alert since the last look (`under` remembers which
 * were under, and is updated): a vault is told of once, and again only after it was back at or
 * above the alert. Only open vaults with debt count (Active or Warning).
 */
export function ratioCrossings(
  under: Map<number, boolean>,
  rows: readonly { id: number; state: string; ratioBps: number | null }[],
  alertBps: number,
): { vaultId: number; ratioBps: number }[] {
  const crossed: { vaultId: number; ratioBps: number }[] = [];
  for (const r of rows) {
    if (r.ratioBps === null || (r.state !== 'active' && r.state !== 'warning')) continue;
    const now = r.ratioBps < alertBps;
    if (now && !under.get(r.id)) crossed.push({ vaultId: r.id, ratioBps: r.ratioBps });
    under.set(r.id, now);
  }
  return crossed;
}

/** Basis points as the alerts write them, from integers: 18000 → "180.00 %", 100000 → "1,000.00 %". */
export const bpsText = (bps: number) =>
  `${Math.floor(bps / 100).toLocaleString('en-US')}.${String(bps % 100).padStart(2, '0')} %`;

/** Why a ratio alert in basis points cannot be kept, or null: above liquidation, at most 1,000 %. */
export function ratioAlertProblem(bps: number, liquidationRatioBps: number): string | null {
  if (!Number.isInteger(bps)) return 'Give the ratio alert in whole basis points.';
  if (bps <= liquidationRatioBps)
    return `Give a ratio above ${bpsText(liquidationRatioBps)}: under it a vault is already at auction.`;
  if (bps > 100_000) return 'Give a ratio of at most 1,000 %.';
  return null;
}
