/**
 * Prometheus metrics (SPEC §11): vault count by state, total collateral and debt, liquidations,
 * the oracle price, block height, and API latency per method and outcome.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ApiCore } from '../api/handlers';

export interface GatewayMetrics {
  registry: Registry;
  /** Records one API call. */
  observeCall(method: string, outcome: string, ms: number): void;
}

/** A registry of its own (not prom-client's global one), so two gateways in one process never clash. */
export async function createMetrics(core: ApiCore): Promise<GatewayMetrics> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'bitstable_process_' });
  // Several instances on one database: every series names the instance it came from.
  if (core.cluster) registry.setDefaultLabels({ instance: core.cluster.id });
  const cluster = core.cluster;
  if (cluster) {
    new Gauge({
      name: 'bitstable_instance_leader',
      help: '1 while this instance holds the leader lock and runs the background work, else 0.',
      registers: [registry],
      collect() {
        this.set(cluster.leading ? 1 : 0);
      },
    });
    new Gauge({
      name: 'bitstable_instance_event_gaps',
      help: 'Times the connection that receives the other instances’ events broke.',
      registers: [registry],
      collect() {
        this.set(cluster.events.gaps);
      },
    });
  }

  new Gauge({
    name: 'bitstable_vaults',
    help: 'Vaults by state.',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await core.store.ops.vaultCountsByState(core.network.name);
      for (const r of rows) this.set({ state: r.state }, r.n);
    },
  });
  new Gauge({
    name: 'bitstable_collateral_sats',
    help: 'Confirmed collateral in all vaults, in satoshis.',
    registers: [registry],
    async collect() {
      this.set(await core.store.ops.totalCollateralSats(core.network.name));
    },
  });
  new Gauge({
    name: 'bitstable_debt_cents',
    help: 'bsUSD debt of all vaults, in cents.',
    registers: [registry],
    async collect() {
      this.set(await core.store.ops.totalDebtCents(core.network.name));
    },
  });
  new Gauge({
    name: 'bitstable_liquidations',
    help: 'Liquidations (auctions) ever started, by state.',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await core.store.ops.liquidationCountsByState();
      for (const r of rows) this.set({ state: r.state }, r.n);
    },
  });
  new Gauge({
    name: 'bitstable_oracle_price_cents',
    help: 'The last accepted BTC/USD price in cents (0 before the first).',
    registers: [registry],
    collect() {
      this.set(core.oracle.current().priceCents ?? 0);
    },
  });
  new Gauge({
    name: 'bitstable_oracle_price_fresh',
    help: '1 when the oracle price may be used, else 0.',
    registers: [registry],
    collect() {
      this.set(core.oracle.current().status === 'ok' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'bitstable_block_height',
    help: "The Bitcoin node's chain height.",
    registers: [registry],
    async collect() {
      try {
        this.set((await core.chain.chainInfo()).blocks);
      } catch {
        // Node down: leave the last value; /health says why.
      }
    },
  });
  // Each source's answers since this process started, by outcome: used, dropped (and why), or
  // failed (and how). Read incrementally from the stored rounds at each scrape, by primary key.
  let lastRound = await core.store.oracle.lastRoundId();
  new Counter({
    name: 'bitstable_oracle_answers_total',
    help: "Oracle sources' answers by outcome (used, dropped:<why>, error:<kind>).",
    labelNames: ['source', 'outcome'],
    registers: [registry],
    async collect() {
      for (const a of await core.store.oracle.answerOutcomesAfter(lastRound)) {
        this.inc({ source: a.source, outcome: a.outcome });
        lastRound = Math.max(lastRound, a.roundId);
      }
    },
  });
  let lastStatusRound = lastRound;
  new Counter({
    name: 'bitstable_oracle_rounds_total',
    help: 'Oracle rounds by result (ok, stale, insufficient-sources, held).',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      for (const r of await core.store.oracle.roundStatusesAfter(lastStatusRound)) {
        this.inc({ status: r.status });
        lastStatusRound = r.id;
      }
    },
  });
  new Counter({
    name: 'bitstable_background_failures_total',
    help: 'Background work that failed, by task (sync, settlement, backup, health-pass, fee-rate).',
    labelNames: ['task'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [task, n] of Object.entries(core.background.counts())) this.inc({ task }, n);
    },
  });
  new Gauge({
    name: 'bitstable_settlements_failing',
    help: 'Ended auctions whose settlement failed at its last try (each shown with its reason).',
    registers: [registry],
    async collect() {
      this.set((await core.liquidation.failingSettlements()).length);
    },
  });
  return withCallLatency(registry);
}

/** The API call latency histogram on `registry`. */
function withCallLatency(registry: Registry): GatewayMetrics {
  const latency = new Histogram({
    name: 'bitstable_api_request_duration_seconds',
    help: 'API call latency by method and outcome (ok or the error code).',
    labelNames: ['method', 'outcome'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [registry],
  });
  return {
    registry,
    observeCall(method, outcome, ms) {
      latency.observe({ method, outcome }, ms / 1000);
    },
  };
}

/** A wallet host's metrics: the process and its API calls (it has no vaults of its own). */
createMetrics.bare = (): GatewayMetrics => {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'bitstable_process_' });
  return withCallLatency(registry);
};
