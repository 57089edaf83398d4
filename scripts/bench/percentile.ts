/** The q-quantile (0..1) of a list of timings, nearest-rank: what every bench reports. */
export function pct(xs: number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
