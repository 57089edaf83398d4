/**
 * The health report (SPEC §11): an overall status and one entry per part — the Bitcoin node,
 * the database, the oracle and each of its sources, and the last block.
 */
import type { ApiCore } from '../api/handlers';
import { enabledSourceNames } from '../oracle/config';
import { priceUnavailableMessage } from '../oracle/feed';

export type PartStatus = 'ok' | 'degraded' | 'down';

export interface HealthPart {
  status: PartStatus;
  [detail: string]: unknown;
}

export interface HealthReport {
  status: PartStatus;
  network: string;
  parts: Record<string, HealthPart>;
}

/** A block older than this on a public network means the node has stopped following the chain. */
const OLD_BLOCK_SECONDS = 2 * 3600;

/** Checks every part; never throws. */
export async function healthReport(core: ApiCore): Promise<HealthReport> {
  const parts: Record<string, HealthPart> = {};

  try {
    const info = await core.chain.chainInfo();
    parts.node = {
      status: info.initialBlockDownload ? 'degraded' : 'ok',
      chain: info.chain,
      height: info.blocks,
      syncing: info.initialBlockDownload,
    };
    try {
      const h = await core.chain.rpc.call<{ time: number; height: number; hash: string }>(
        'getblockheader',
        [info.bestBlockHash],
      );
      const ageSeconds = Math.max(0, Math.round(Date.now() / 1000 - h.time));
      // Regtest mines only on demand, so an old tip there is normal.
      const old = core.network.name !== 'regtest' && ageSeconds > OLD_BLOCK_SECONDS;
      parts.lastBlock = {
        status: old ? 'degraded' : 'ok',
        height: h.height,
        hash: h.hash,
        time: h.time * 1000,
        ageSeconds,
      };
    } catch (err) {
      parts.lastBlock = { status: 'down', message: messageOf(err) };
    }
  } catch (err) {
    parts.node = { status: 'down', message: messageOf(err) };
    parts.lastBlock = { status: 'down', message: 'The node does not answer.' };
  }

  try {
    const { schemaVersion } = await core.store.ops.healthCheck();
    parts.database = { status: 'ok', engine: core.store.dialect, schemaVersion };
  } catch (err) {
    parts.database = { status: 'down', message: messageOf(err) };
  }

  // Several instances on one PostgreSQL: which one this is, and whether it leads the background work.
  if (core.cluster) {
    parts.instance = {
      status: 'ok',
      id: core.cluster.id,
      leader: core.cluster.leading,
      eventGaps: core.cluster.events.gaps,
      eventsNotSent: core.cluster.publishFailures,
    };
  }

  const price = core.oracle.current();
  parts.oracle = {
    status: price.status === 'ok' ? 'ok' : 'degraded',
    priceStatus: price.status,
    priceCents: price.priceCents,
    ageMs: price.ageMs,
    message: priceUnavailableMessage(price),
  };
  const last = price.lastRoundId === null ? null : await core.oracle.round(price.lastRoundId);
  for (const name of enabledSourceNames(core.oracle.config)) {
    const answer = last?.answers.find((a) => a.source === name);
    parts[`oracle.${name}`] = !answer
      ? { status: 'degraded', message: 'No round has asked this source yet.' }
      : answer.error
        ? { status: 'down', message: answer.error }
        : {
            status: answer.dropped ? 'degraded' : 'ok',
            priceCents: answer.priceCents,
            dropped: answer.dropped,
          };
  }

  // Background work is loud: every task whose last run failed, and every settlement that is stuck.
  const failures = core.background.current();
  parts.background = failures.length
    ? { status: 'degraded', failures }
    : { status: 'ok', failures: [] };
  const settlements = await core.liquidation.failingSettlements();
  parts.settlements = settlements.length
    ? { status: 'degraded', failing: settlements }
    : { status: 'ok', failing: [] };

  const statuses = Object.values(parts).map((p) => p.status);
  const status: PartStatus =
    parts.node!.status === 'down' || parts.database!.status === 'down'
      ? 'down'
      : statuses.every((s) => s === 'ok')
        ? 'ok'
        : 'degraded';
  return { status, network: core.network.name, parts };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
