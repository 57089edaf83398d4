/**
 * The seed's Failover: a primary and a secondary node endpoint. When the active one stops
 * answering (unreachable or timed out) calls move to the other; while on the secondary the
 * primary is probed now and then and taken back when it answers. On every switch `onSwitch`
 * runs before any other call goes through, so the new node's watch-only wallet can be given the
 * vault descriptors first (a second node knows nothing of them).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { BitStableError, isBitStableError } from '../errors';
import type { RpcCaller, RpcClient } from './rpc';

// A missing cookie means a stopped node: bitcoind deletes it on shutdown.
const notAnswering = (err: unknown) =>
  isBitStableError(err, 'NODE_UNREACHABLE') ||
  isBitStableError(err, 'NODE_TIMEOUT') ||
  (isBitStableError(err, 'NODE_AUTH_FAILED') && err.data.reason === 'cookie-missing');

export interface FailoverOptions {
  /** Runs after switching to endpoint `index`, before other calls use it. */
  onSwitch?: (index: number) => Promise<void>;
  /** How often to probe the primary while on the secondary; default 60 s. */
  retryPrimaryMs?: number;
  now?: () => number;
}

/** Calls over the first endpoint that answers, primary preferred. */
export class FailoverRpc implements RpcCaller {
  private activeIndex = 0;
  private switching: Promise<void> | null = null;
  private lastPrimaryProbe = 0;
  private readonly now: () => number;
  /** Marks calls made from inside the switch hook, which must not wait for the switch itself. */
  private readonly inHook = new AsyncLocalStorage<boolean>();

  constructor(
    private readonly endpoints: RpcClient[],
    private readonly options: FailoverOptions = {},
  ) {
    if (endpoints.length === 0)
      throw new BitStableError('INVALID_CONFIG', 'Give at least one Bitcoin node endpoint.', {});
    this.now = options.now ?? Date.now;
  }

  /** Which endpoint calls go to now (0 = primary). */
  get active(): number {
    return this.activeIndex;
  }

  /** The active endpoint's URL (for status pages). */
  get url(): string {
    return this.endpoints[this.activeIndex]!.config.url;
  }

  async call<T = unknown>(
    method: string,
    params: unknown[] = [],
    options: { wallet?: string; timeoutMs?: number } = {},
  ): Promise<T> {
    if (this.inHook.getStore())
      return this.endpoints[this.activeIndex]!.call<T>(method, params, options);
    if (this.switching) await this.switching;
    await this.maybeReturnToPrimary();
    const index = this.activeIndex;
    try {
      return await this.endpoints[index]!.call<T>(method, params, options);
    } catch (err) {
      if (!notAnswering(err) || this.endpoints.length < 2) throw err;
      await this.switchFrom(index);
      return this.endpoints[this.activeIndex]!.call<T>(method, params, options);
    }
  }

  private async switchFrom(failed: number): Promise<void> {
    if (this.activeIndex !== failed) {
      if (this.switching) await this.switching;
      return; // another call already switched
    }
    this.activeIndex = (failed + 1) % this.endpoints.length;
    this.lastPrimaryProbe = this.now();
    await this.runSwitch();
  }

  private async maybeReturnToPrimary(): Promise<void> {
    if (
      this.activeIndex === 0 ||
      this.now() - this.lastPrimaryProbe < (this.options.retryPrimaryMs ?? 60_000)
    )
      return;
    this.lastPrimaryProbe = this.now();
    try {
      await this.endpoints[0]!.call('getblockchaininfo', [], { timeoutMs: 3_000 });
    } catch {
      return;
    }
    this.activeIndex = 0;
    await this.runSwitch();
  }

  private async runSwitch(): Promise<void> {
    const hook = this.options.onSwitch;
    if (!hook) return;
    const index = this.activeIndex;
    // Calls made by the hook itself go straight to the endpoint being prepared.
    this.switching = this.inHook
      .run(true, () => hook(index))
      .finally(() => {
        this.switching = null;
      });
    await this.switching;
  }
}
