/**
 * The health pass run on every accepted price round (SPEC §8). Each vault's liquidation and
 * warning prices are stored and indexed with its state, so the vaults that cross 150 % or 160 %
 * at price P are found by three range queries — the pass costs what changes, not the vault count.
 *
 *   active|warning with liquidation_price > P   → liquidating
 *   active with warning_price > P (not above)    → warning
 *   warning with warning_price <= P              → active
 */
import type { Sqlite } from '../db/database';
import type { Cents } from '../money';

export interface HealthChanges {
  toLiquidating: number[];
  toWarning: number[];
  toActive: number[];
}

/** The index range queries of one pass, prepared once per database. */
export class HealthQueries {
  private readonly liquidate;
  private readonly warn;
  private readonly recover;

  constructor(db: Sqlite) {
    const ids = (sql: string) => db.prepare(sql).pluck();
    this.liquidate = ids(
      `SELECT id FROM vaults WHERE state = 'active' AND liquidation_price_cents > @p
       UNION ALL
       SELECT id FROM vaults WHERE state = 'warning' AND liquidation_price_cents > @p`,
    );
    this.warn = ids(
      "SELECT id FROM vaults WHERE state = 'active' AND warning_price_cents > @p AND liquidation_price_cents <= @p",
    );
    this.recover = ids(
      "SELECT id FROM vaults WHERE state = 'warning' AND warning_price_cents <= @p",
    );
  }

  /** Vaults whose band changes at price `p` (cents per BTC). */
  changesAt(p: Cents): HealthChanges {
    return {
      toLiquidating: this.liquidate.all({ p }) as number[],
      toWarning: this.warn.all({ p }) as number[],
      toActive: this.recover.all({ p }) as number[],
    };
  }
}

/**
 * The naive pass for comparison in benchmarks: load every vault with debt and compute its ratio.
 * Returns the same changes as `HealthQueries.changesAt`.
 */
export function naiveChangesAt(
  db: Sqlite,
  p: Cents,
  liquidationBps: number,
  warningBps: number,
): HealthChanges {
  const out: HealthChanges = { toLiquidating: [], toWarning: [], toActive: [] };
  const rows = db
    .prepare('SELECT id, state, collateral_sats, debt_cents FROM vaults')
    .raw()
    .all() as [number, string, number, number][];
  for (const [id, state, collateral, debt] of rows) {
    if (debt === 0 || (state !== 'active' && state !== 'warning')) continue;
    const ratio = Number(
      (BigInt(collateral) * BigInt(p) * 10_000n) / (BigInt(debt) * 100_000_000n),
    );
    if (ratio < liquidationBps) out.toLiquidating.push(id);
    else if (ratio < warningBps && state === 'active') out.toWarning.push(id);
    else if (ratio >= warningBps && state === 'warning') out.toActive.push(id);
  }
  return out;
}
