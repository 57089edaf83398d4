/**
 * The wallet's own price check (SPEC §7): the wallet asks the same exchanges itself, through the
 * same Oracle (aggregation, outlier rule, breaker), and compares its price with the protocol
 * node's. The node's price decides liquidations; a node that lies about it, or whose sources
 * were walked, shows here as a warning before the owner mints, withdraws or takes.
 *
 * The simulated source is not a check (it is whatever its owner sets), so on regtest by default
 * there is nothing to compare: the check says so instead of agreeing with itself.
 */
import type { NetworkName } from '../config/networks';
import { BitStableError } from '../errors';
import type { Cents } from '../money';
import { centsToString } from '../money';
import { resolveOracleConfig, EXCHANGES } from '../oracle/config';
import { priceUnavailableMessage } from '../oracle/feed';
import { Oracle, type OracleLogger, type RoundStore } from '../oracle/oracle';
import { createSources } from '../oracle/sources';
import type { Clock } from '../oracle/clock';

/** How far the node's price may be from the wallet's own before it warns: 2 %, the outlier rule. */
export const DEFAULT_PRICE_MARGIN_BPS = 200;

export type PriceCheckState = 'agrees' | 'differs' | 'unavailable' | 'not-checked';

/** What the wallet's own check says about the node's price right now. */
export interface PriceCheck {
  state: PriceCheckState;
  /** The wallet's own price (null when it has none). */
  priceCents: Cents | null;
  /** The node's price it was compared with. */
  nodePriceCents: Cents | null;
  /** |node − own| / own in basis points, rounded up; null when either is missing. */
  diffBps: number | null;
  marginBps: number;
  /** The wallet's own sources behind its price. */
  sources: string[];
  /** When the wallet's own price was made (ms since epoch). */
  checkedAt: number | null;
  message: string;
}

export interface PriceCheckOptions {
  network: NetworkName;
  /** The same oracle settings a node takes (sources, base URLs, threshold); validated. */
  overrides?: unknown;
  marginBps?: number;
  clock?: Clock;
  logger?: OracleLogger;
}

/** The wallet keeps no price history of its own: only the last rounds, in memory. */
function memoryStore(): RoundStore {
  let next = 1;
  return {
    saveRound: async () => next++,
    lastAccepted: async () => null,
    latestRound: async () => null,
    history: async () => [],
    round: async () => null,
    acceptedSince: async () => [],
    rounds: async () => [],
  };
}

/** |a − b| / b in basis points, rounded up (a near-miss warns rather than passes). */
export function diffBps(nodeCents: Cents, ownCents: Cents): number {
  const d = BigInt(Math.abs(nodeCents - ownCents)) * 10_000n;
  const own = BigInt(ownCents);
  return Number((d + own - 1n) / own);
}

export class OwnPriceCheck {
  readonly marginBps: number;
  private readonly oracle: Oracle | null;
  private readonly logger: OracleLogger | undefined;
  private readonly network: NetworkName;
  private lastState: PriceCheckState | null = null;

  constructor(o: PriceCheckOptions) {
    this.marginBps = o.marginBps ?? DEFAULT_PRICE_MARGIN_BPS;
    this.logger = o.logger;
    const config = resolveOracleConfig(o.network, o.overrides ?? {});
    const exchanges = EXCHANGES.filter((n) => config.sources[n].enabled);
    this.network = o.network;
    if (exchanges.length === 0) {
      this.oracle = null;
      return;
    }
    if (config.threshold > exchanges.length) {
      // The simulated source is not counted here; a lower threshold would be a weaker check
      // than the one asked for.
      throw new BitStableError(
        'INVALID_CONFIG',
        `The wallet's own price check asks exchanges only (not the simulated price): a threshold of ${config.threshold} needs ${config.threshold} exchanges, and ${exchanges.length} ${exchanges.length === 1 ? 'is' : 'are'} enabled.`,
        { threshold: config.threshold, exchanges },
      );
    }
    const own = {
      ...config,
      sources: { ...config.sources, simulated: { enabled: false, initialPriceCents: null } },
      threshold: Math.min(config.threshold, exchanges.length),
    };
    this.oracle = new Oracle({
      network: o.network,
      config: own,
      sources: createSources(own).sources,
      store: memoryStore(),
      ...(o.clock ? { clock: o.clock } : {}),
      ...(o.logger ? { logger: o.logger } : {}),
    });
  }

  /** False when no exchange is configured (regtest's simulated price): nothing to check against. */
  get enabled(): boolean {
    return this.oracle !== null;
  }

  start(): void {
    this.oracle?.start();
  }

  stop(): Promise<void> {
    return this.oracle?.stop() ?? Promise.resolve();
  }

  /** One round of the wallet's own sources now (the check otherwise runs on the oracle's interval). */
  async runRound(): Promise<void> {
    await this.oracle?.runRound();
  }

  /** The node's price against the wallet's own. */
  compare(node: { priceCents: number | null }): PriceCheck {
    const nodeCents = node.priceCents as Cents | null;
    const base = { marginBps: this.marginBps, nodePriceCents: nodeCents };
    if (!this.oracle) {
      return this.note({
        ...base,
        state: 'not-checked',
        priceCents: null,
        diffBps: null,
        sources: [],
        checkedAt: null,
        message: `The price is the protocol node's simulated one (${this.network}); your wallet has no exchange to check it against.`,
      });
    }
    const own = this.oracle.current();
    const checkedAt = own.ageMs === null ? null : Date.now() - own.ageMs;
    const answer = (state: PriceCheckState, message: string, nodePriceCents = nodeCents) =>
      this.note({
        ...base,
        nodePriceCents,
        state,
        priceCents: own.priceCents,
        diffBps: null,
        sources: own.sources,
        checkedAt,
        message,
      });
    const why = priceUnavailableMessage(own);
    if (own.priceCents === null || why !== null) {
      return answer(
        'unavailable',
        `Your wallet could not make a price of its own: ${(why ?? 'no answer yet.').replace(/ Minting.*$/, '')} The protocol node's price is unchecked.`,
      );
    }
    if (nodeCents !== null && (!Number.isSafeInteger(nodeCents) || nodeCents <= 0)) {
      return answer(
        'differs',
        `The protocol node answered a price that is not a price (${String(nodeCents).slice(0, 20)} cents); your wallet's own is $${centsToString(own.priceCents)}. Do not act on the node's figures.`,
        null,
      );
    }
    if (nodeCents === null) {
      return answer(
        'unavailable',
        `The protocol node has no price; your wallet's own is $${centsToString(own.priceCents)}.`,
      );
    }
    const bps = diffBps(nodeCents, own.priceCents);
    const pct = `${(bps / 100).toFixed(2)} %`;
    const agrees = bps <= this.marginBps;
    return this.note({
      ...base,
      state: agrees ? 'agrees' : 'differs',
      priceCents: own.priceCents,
      diffBps: bps,
      sources: own.sources,
      checkedAt,
      message: agrees
        ? `Your wallet's own price, $${centsToString(own.priceCents)} from ${own.sources.join(', ')}, is within ${pct} of the protocol node's.`
        : `The protocol node's price, $${centsToString(nodeCents)}, is ${pct} away from your wallet's own, $${centsToString(own.priceCents)} (from ${own.sources.join(', ')}), more than the ${(this.marginBps / 100).toFixed(2)} % allowed. The node's price decides liquidations: check before you mint, withdraw or take.`,
    });
  }

  /** Logs each change into and out of disagreement once, not on every read. */
  private note(check: PriceCheck): PriceCheck {
    if (check.state !== this.lastState) {
      if (check.state === 'differs' || check.state === 'unavailable')
        this.logger?.warn({ priceCheck: check }, check.message);
      this.lastState = check.state;
    }
    return check;
  }
}
