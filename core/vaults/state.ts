/**
 * The vault lifecycle of SPEC §6 as pure functions: given what the chain and the oracle say,
 * which state a vault is in. No I/O; table-tested.
 */
import type { VaultParams } from '../config/networks';
import type { Cents, Sats } from '../money';
import { collateralRatioBps } from './health';

export const VAULT_STATES = [
  'pending',
  'active',
  'warning',
  'liquidating',
  'liquidated',
  'closed',
] as const;
export type VaultState = (typeof VAULT_STATES)[number];

/** States no chain or price change leaves; only settlement or closing code enters them. */
export const TERMINAL_STATES: readonly VaultState[] = ['liquidated', 'closed'];

export interface VaultFacts {
  /** Collateral with enough confirmations. */
  collateralSats: Sats;
  debtCents: Cents;
  /** A fresh, accepted oracle price, or null when the oracle is stale, short of sources or held. */
  freshPriceCents: Cents | null;
}

/** Health band of a vault with debt at a price: active ≥ 160 %, warning ≥ 150 %, else liquidating. */
export function healthBand(
  collateral: Sats,
  debt: Cents,
  price: Cents,
  params: Pick<VaultParams, 'liquidationRatioBps' | 'warningRatioBps'>,
): 'active' | 'warning' | 'liquidating' {
  const ratio = collateralRatioBps(collateral, debt, price);
  if (ratio === null || ratio >= params.warningRatioBps) return 'active';
  if (ratio >= params.liquidationRatioBps) return 'warning';
  return 'liquidating';
}

/**
 * The state a vault should be in now.
 * - Liquidated and Closed are final; Liquidating ends only by settlement.
 * - No confirmed collateral and no debt: Pending (also after a reorg took the deposit away).
 * - No debt: Active (no ratio limit; cannot be liquidated).
 * - With debt, the band at a fresh price. Without a fresh price nothing moves — a stale price
 *   starts no liquidation and clears no warning.
 */
export function nextState(current: VaultState, facts: VaultFacts, params: VaultParams): VaultState {
  if (TERMINAL_STATES.includes(current) || current === 'liquidating') return current;
  const { collateralSats, debtCents, freshPriceCents } = facts;
  if (debtCents === 0) return collateralSats === 0 ? 'pending' : 'active';
  if (freshPriceCents === null) return current;
  return healthBand(collateralSats, debtCents, freshPriceCents, params);
}

/**
 * `nextState` for changes outside the health pass (deposits, reorgs, debt changes): these never
 * start a liquidation themselves — every liquidation needs an auction, which only the health pass
 * starts, at the next accepted price. A vault that would cross waits in Warning until then.
 */
export function nextStateOutsideHealthPass(
  current: VaultState,
  facts: VaultFacts,
  params: VaultParams,
): VaultState {
  const next = nextState(current, facts, params);
  return next === 'liquidating' && current !== 'liquidating' ? 'warning' : next;
}
