/**
 * The oracle's public face. The vault core depends on `PriceFeed` (and `requireFresh`'s
 * PRICE_UNAVAILABLE); the app wires an Oracle with `createOracle`.
 */
import type { NetworkName } from '../config/networks';
import type { EventBus } from '../events/bus';
import type { Store } from '../store/ports';
import type { Clock } from './clock';
import { resolveOracleConfig } from './config';
import { Oracle, type OracleLogger } from './oracle';
import { createSources } from './sources';
import type { SimulatedSource } from './sources/simulated';
import { OracleStore } from './store';

export interface CreateOracleOptions {
  network: NetworkName;
  /** The node's store (its database migrated to schema 2 or later). */
  store: Store;
  /** Partial settings laid over the network's defaults (validated; INVALID_CONFIG if wrong). */
  overrides?: unknown;
  clock?: Clock;
  bus?: EventBus;
  logger?: OracleLogger;
}

/** Builds the oracle for a network from its settings; `simulated` is set when that source is on. */
export function createOracle(options: CreateOracleOptions): {
  oracle: Oracle;
  simulated: SimulatedSource | null;
} {
  const config = resolveOracleConfig(options.network, options.overrides);
  const { sources, simulated } = createSources(config);
  const oracle = new Oracle({
    network: options.network,
    config,
    sources,
    store: new OracleStore(options.store),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.bus ? { bus: options.bus } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  return { oracle, simulated };
}

export {
  aggregate,
  medianOf,
  type Aggregate,
  type AggregateParams,
  type Answer,
  type AnswerOutcome,
  type DropReason,
} from './aggregate';
export {
  decide,
  EMPTY_BREAKER,
  type BreakerDecision,
  type BreakerLimits,
  type BreakerState,
  type RoundStatus,
} from './breaker';
export { ManualClock, systemClock, type Clock } from './clock';
export {
  defaultOracleConfig,
  enabledSourceNames,
  EXCHANGES,
  resolveOracleConfig,
  type ExchangeName,
  type OracleConfig,
} from './config';
export { decimalToCents } from './decimal';
export {
  fixedPriceFeed,
  priceUnavailableMessage,
  requireCollateralPrice,
  requireFresh,
  requireLiquidationPrice,
  type PriceFeed,
  type PriceState,
  type PriceStatus,
} from './feed';
export {
  Oracle,
  type OracleLogger,
  type OracleOptions,
  type RoundResult,
  type RoundStore,
} from './oracle';
export {
  SOURCE_ERROR_REASONS,
  sourceError,
  sourceErrorReason,
  type SourceErrorReason,
} from './source-error';
export * from './sources';
export { OracleStore, type HistoryPoint, type RoundRecord, type StoredRound } from './store';
