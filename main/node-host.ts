/**
 * The core inside the desktop app: starts the BitStable node (local regtest by default) — or,
 * when Settings chose a protocol node at a URL, the wallet core connected to it — in the
 * background while the window opens, serves API calls once it runs (calls made while it starts
 * wait for it; calls after a failed start get the failure), forwards its events, and stops it
 * (and the regtest bitcoind it started) exactly once.
 *
 * Plain Node: the key store and the event sink are passed in.
 */
import { BitStableNode, type BitStableNodeOptions } from '../core/app/bitstable-node';
import type { MethodName } from '../core/api/contract';
import {
  createApiService,
  type ApiService,
  type CallContext,
  type DispatchOutcome,
} from '../core/api/dispatcher';
import { toApiError, type ApiError } from '../core/api/errors';
import type { ApiHostInfo } from '../core/api/handlers';
import type { NetworkName } from '../core/config/networks';
import type { KeyStore } from '../core/keys/keystore';
import type { ProtocolChoice } from '../core/wallet/choice';
import { startWalletCore, type RunningWallet } from '../core/wallet/host';
import { SavedSettingsService, withSavedSettings } from '../core/app/saved-settings';
import { nodeVaultsHere, subscribeWebhook } from '../core/app/webhook';
import type { BridgeEventMessage, StartupStatus } from '../preload/bridge';

export interface HostLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface CoreHostOptions {
  dataDir: string;
  network: NetworkName;
  /** Opens the key store (may refuse with a KEYSTORE_ERROR whose message says what to do). */
  keyStore: () => Promise<KeyStore>;
  /**
   * The Bitcoin node, the owner's Ledger and the guardian (core/app/env-config.ts); called when
   * the core starts, so a bad setting shows as a failed start with its sentence.
   */
  connections?: () => Pick<BitStableNodeOptions, 'bitcoin' | 'owner' | 'guardian'>;
  /** The protocol node chosen in Settings (core/wallet/choice.ts); null or local: this computer. */
  protocolNode?: () => ProtocolChoice | null;
  hostInfo: ApiHostInfo;
  logger: HostLogger;
  /** Every event for the window: the core's, progress lines, and startup status. */
  send: (message: BridgeEventMessage) => void;
}

/** The running core of the desktop app. */
export class CoreHost {
  private node: BitStableNode | null = null;
  private wallet: RunningWallet | null = null;
  private api: ApiService | null = null;
  private offWebhook: (() => Promise<void>) | null = null;
  private failure: ApiError | null = null;
  private started: Promise<void> | null = null;
  private stopping: Promise<void> | null = null;
  private statusNow: StartupStatus = { state: 'starting', message: 'Starting BitStable' };

  constructor(private readonly options: CoreHostOptions) {}

  /** Where the start is. */
  startup(): StartupStatus {
    return { ...this.statusNow };
  }

  /** Starts the node in the background; safe to call once. */
  start(): Promise<void> {
    this.started ??= this.run();
    return this.started;
  }

  /** Dispatches a call, waiting for the start when it is still running. */
  async dispatch(method: MethodName, params: unknown, ctx: CallContext): Promise<DispatchOutcome> {
    await (this.started ?? this.start());
    if (this.stopping)
      return {
        ok: false,
        error: { code: 'NODE_UNREACHABLE', message: 'BitStable is shutting down.' },
      };
    if (!this.api)
      return {
        ok: false,
        error: this.failure ?? { code: 'INTERNAL', message: 'BitStable did not start.' },
      };
    return this.api.dispatch(method, params, ctx);
  }

  /** Stops background work, the node and its regtest bitcoind, once; waits for a start in flight. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.started?.catch(() => undefined);
      await this.offWebhook?.();
      this.api?.close();
      this.api = null;
      const wallet = this.wallet;
      this.wallet = null;
      await wallet?.stop();
      const node = this.node;
      this.node = null;
      if (node) {
        this.options.logger.info({}, 'stopping the BitStable node');
        await node.stop();
      }
    })();
    return this.stopping;
  }

  private async run(): Promise<void> {
    const { logger } = this.options;
    this.setStatus({ state: 'starting', message: 'Starting BitStable' });
    try {
      const keyStore = await this.options.keyStore();
      const choice = this.options.protocolNode?.() ?? null;
      if (choice?.mode === 'remote') {
        const owner = this.options.connections?.().owner;
        // A wallet connected to a node elsewhere: the same wallet API, from the wallet core.
        this.setStatus({ state: 'starting', message: `Connecting to ${choice.url}` });
        const wallet = await startWalletCore({
          dataDir: this.options.dataDir,
          network: this.options.network,
          connect: choice.url,
          keyStore,
          logger,
          // The owner's Ledger, when the desktop is set up with one, signs here, not at the node.
          ...(owner ? { owner } : {}),
        });
        if (this.stopping) {
          await wallet.stop();
          return;
        }
        this.wallet = wallet;
        wallet.api.subscribe((event) => this.options.send(event));
        this.api = wallet.api;
        this.setStatus({
          state: 'ready',
          message: wallet.connected
            ? `Connected to the protocol node at ${choice.url}.`
            : `The protocol node at ${choice.url} does not answer; your own records are shown.`,
        });
        return;
      }
      // What was chosen in Settings, under what the environment set.
      const { connections, applied } = await withSavedSettings(
        this.options.dataDir,
        this.options.network,
        keyStore,
        this.options.connections?.() ?? {},
        process.env,
      );
      const settings = new SavedSettingsService(
        this.options.dataDir,
        this.options.network,
        keyStore,
        applied,
      );
      const node = await BitStableNode.start({
        dataDir: this.options.dataDir,
        network: this.options.network,
        keyStore,
        logger,
        ...connections,
        onPrompt: (prompt) =>
          this.options.send({ type: 'signer.prompt', payload: { ...prompt, operation: null } }),
        onProgress: (line) => {
          logger.info({ progress: line }, line);
          this.setStatus({ state: 'starting', message: line });
          this.options.send({ type: 'progress', payload: { text: line } });
        },
      });
      if (this.stopping) {
        // Quit while starting: stop what just started.
        await node.stop();
        return;
      }
      this.node = node;
      const api = createApiService({
        core: node,
        host: { ...this.options.hostInfo, settings },
        logger,
      });
      api.subscribe((event) => this.options.send(event));
      this.offWebhook = subscribeWebhook(nodeVaultsHere(node), settings, api, logger);
      this.api = api;
      node.startBackground();
      this.setStatus({ state: 'ready', message: `BitStable is running on ${node.network.name}.` });
    } catch (err) {
      const error = toApiError(err);
      this.failure = error;
      logger.error({ err, code: error.code }, 'BitStable did not start');
      this.setStatus({ state: 'failed', message: error.message, code: error.code });
      this.options.send({
        type: 'node.status',
        payload: { online: false, height: null, message: error.message },
      });
    }
  }

  private setStatus(status: StartupStatus): void {
    this.statusNow = status;
    this.options.send({ type: 'startup.status', payload: status });
  }
}
