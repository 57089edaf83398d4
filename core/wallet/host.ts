/**
 * A wallet connected to a protocol node elsewhere. `startWalletCore` runs the wallet core (its
 * account and owner keys from a key store, its SQLite records, its connection to the node, its
 * own price check and Bitcoin node) behind the wallet API — what the desktop app binds to IPC.
 * `startWalletHost` (`npm run headless -- --connect URL`) adds a passphrase key store and its
 * own loopback gateway serving the UI in a browser. The protocol node never sees any of it.
 */
import { privateDir } from '../ops/private';
import { join } from 'node:path';
import { accountKey } from '../accounts/login';
import { ensureAccountSecret } from '../accounts/local';
import { network as networkInfo, type NetworkInfo, type NetworkName } from '../config/networks';
import { BitStableError } from '../errors';
import { ensureSoftwareOwnerMnemonic } from '../keys/node-keys';
import { PassphraseKeyStore, scryptFor } from '../keys/passphrase-keystore';
import { CoreNode, REGTEST_FEE_RATE_SAT_PER_KVB } from '../node/bitcoin-node';
import { RpcClient, type RpcConfig } from '../node/rpc';
import { SoftwareSigner } from '../signers/software';
import { LedgerOwnerSigner, openLedgerOwnerSigner } from '../signers/ledger';
import type { LedgerTransportConfig } from '../signers/ledger/transport';
import type { Signer, SignerPrompt } from '../signers/types';
import { SqliteRegistrationStore } from '../store/sqlite/device-registrations';
import { resolvePassphrase } from '../gateway/host';
import { startGateway, type Gateway, type GatewayLogger } from '../gateway/server';
import type { ApiService } from '../api/dispatcher';
import type { KeyStore } from '../keys/keystore';
import { loadTokens, tokenSource } from '../gateway/tokens';
import { createWalletApiService } from './api';
import { SavedSettingsService, withSavedSettings } from '../app/saved-settings';
import { subscribeWebhook } from '../app/webhook';
import { OwnPriceCheck } from './price-check';
import {
  ProtocolClient,
  ProtocolError,
  signInOverHttp,
  signOutOverHttp,
  webSocketTransport,
} from './protocol-client';
import { SqliteWalletStore } from '../store/sqlite/wallet';
import { WalletCore } from './wallet';

export interface WalletCoreOptions {
  dataDir: string;
  network: NetworkName;
  /** The protocol node's gateway, e.g. http://127.0.0.1:7420 */
  connect: string;
  keyStore: KeyStore;
  /** The wallet's own Bitcoin node (optional, recommended). */
  bitcoin?: RpcConfig;
  label?: string;
  /** Oracle settings for the wallet's own price check (the exchanges it asks itself). */
  oracleOverrides?: unknown;
  /** How far the node's price may be from the wallet's own before it warns. */
  priceMarginBps?: number;
  /** How long the protocol node must be unreachable before an exit alone is offered. */
  exitAloneAfterMs?: number;
  /**
   * The owner's signer: a Ledger by transport (its policy registrations kept in this wallet's
   * records), a given Signer, or — left out, regtest — this wallet's own software key.
   */
  owner?: Signer | { kind: 'ledger'; transport: LedgerTransportConfig };
  logger: GatewayLogger;
}

export interface RunningWallet {
  wallet: WalletCore;
  /** The wallet API over this wallet core. */
  api: ApiService;
  accountId: string;
  nodeId: string;
  /** The node's URL, as given. */
  nodeUrl: string;
  /** False when the node did not answer at the start (the wallet runs from its own records). */
  connected: boolean;
  /** Whether the node answers now (for the gateway's /health). */
  health(): Promise<
    | { status: 'ok'; protocolNode: string; nodeId: string }
    | { status: 'down'; protocolNode: string; message: string }
  >;
  stop(): Promise<void>;
}

export interface WalletHostOptions extends Omit<WalletCoreOptions, 'keyStore'> {
  port: number;
  host?: string;
  allowRemote?: boolean;
  passphrase?: string;
  staticDir?: string;
}

export interface WalletHost extends Omit<RunningWallet, 'api' | 'health' | 'stop' | 'nodeUrl'> {
  gateway: Gateway;
  openUrl: string;
  tokenFile: string;
  /** True when this start made the token file (the link with its token is shown then only). */
  tokenCreated: boolean;
  stop(): Promise<void>;
}

/** How often a wallet host asks its protocol node whether it still answers. */
const HEARTBEAT_MS = 15_000;
/** How long a stopping wallet waits for the node to end its session. */
const SIGN_OUT_WAIT_MS = 2_000;

export async function startWalletCore(options: WalletCoreOptions): Promise<RunningWallet> {
  const net = networkInfo(options.network);
  if (net.name !== 'regtest') {
    throw new BitStableError(
      'INVALID_CONFIG',
      'A wallet host connected to a remote node runs on regtest for now (software owner key); the Ledger in connect mode comes next.',
      { network: net.name },
    );
  }
  const log = options.logger;
  // What was chosen in Settings (its own Bitcoin node, its price check's sources), under what
  // the host was given.
  const { connections: chosen, applied } = await withSavedSettings(
    options.dataDir,
    net.name,
    options.keyStore,
    {
      ...(options.bitcoin ? { bitcoin: { kind: 'rpc' as const, rpc: options.bitcoin } } : {}),
      ...(options.oracleOverrides !== undefined
        ? { oracleOverrides: options.oracleOverrides }
        : {}),
    },
    process.env,
  );
  const ownRpc = chosen.bitcoin?.kind === 'rpc' ? chosen.bitcoin.rpc : undefined;
  const settings = new SavedSettingsService(
    options.dataDir,
    net.name,
    options.keyStore,
    applied,
    'wallet',
  );
  // Built first: settings that are wrong stop the host before it connects to anything.
  const priceCheck = new OwnPriceCheck({
    network: net.name,
    overrides: chosen.oracleOverrides,
    ...(options.priceMarginBps !== undefined ? { marginBps: options.priceMarginBps } : {}),
    logger: log,
  });
  const dir = join(options.dataDir, net.name);
  privateDir(options.dataDir, log);
  privateDir(dir, log);
  const { keyStore } = options;
  const accountSecret = await ensureAccountSecret(keyStore, net);
  const base = options.connect.replace(/\/+$/, '');
  const store = SqliteWalletStore.open(join(dir, 'wallet.sqlite'));
  // The device's prompts go to the wallet API's listeners once it exists.
  let prompt: (p: SignerPrompt) => void = () => {};
  let owner: Signer;
  try {
    owner = await ownerSigner(options.owner, net, keyStore, store, (p) => prompt(p), log);
  } catch (err) {
    store.close();
    throw err;
  }
  const closeOwner = async () => {
    if (owner instanceof LedgerOwnerSigner) await owner.close().catch(() => undefined);
  };
  // A node that does not answer at all, where this wallet has been before, does not keep the
  // wallet from starting: its own records, its own Bitcoin node and the exit without the node
  // are what the person needs then. A node that answers and refuses stops the start.
  let session: { token: string } | null = null;
  try {
    session = await signInOverHttp(base, accountSecret, options.label);
  } catch (err) {
    if (err instanceof ProtocolError || !store.pinned(base)) {
      await closeOwner();
      store.close();
      throw err;
    }
    log.warn({ err }, "the protocol node does not answer; starting from this wallet's own records");
  }
  let reconciled: () => void = () => {};
  let lost: () => void = () => {};
  const client = new ProtocolClient(
    await webSocketTransport(base, session?.token ?? '', {
      // The node restarted or the network blinked: sign in again, then ask what became of
      // anything signed whose answer was lost.
      reconnect: {
        token: async () => {
          const fresh = (await signInOverHttp(base, accountSecret, options.label)).token;
          const old = session?.token;
          session = { token: fresh };
          // The session before the drop may still be alive at the node: end it.
          if (old) {
            void signOutOverHttp(base, old).catch((err: unknown) =>
              log.info({ err }, 'the previous session could not be ended; it will expire'),
            );
          }
          return fresh;
        },
        onReconnected: () => reconciled(),
        onDisconnected: () => lost(),
      },
      offline: session === null,
    }),
  );
  const accountId = accountKey(accountSecret).id;
  const bitcoin = ownRpc
    ? await (async () => {
        // Its own watch-only wallet on that node, apart from any other wallet's (several may
        // share one node on a playground machine).
        const watch = new CoreNode(
          new RpcClient(ownRpc),
          `bitstable-wallet-${accountId.slice(4, 16)}`,
          net.name === 'regtest' ? REGTEST_FEE_RATE_SAT_PER_KVB : null,
        );
        await watch.ensureWatchWallet();
        return {
          rpc: watch.rpc,
          feeRateSatPerKvB: () => watch.feeRateSatPerKvB(),
          watch,
          confirmations: net.defaults.confirmations,
        };
      })()
    : undefined;
  const wallet = new WalletCore({
    nodeUrl: base,
    network: net,
    store,
    client,
    owner,
    ...(bitcoin ? { bitcoin } : {}),
    ...(options.exitAloneAfterMs !== undefined
      ? { exitAloneAfterMs: options.exitAloneAfterMs }
      : {}),
    onDeviceError: (err, during) => log.warn({ err }, `the Ledger failed while ${during}`),
  });
  try {
    const pins = session ? await wallet.connect() : wallet.usePinned();
    if (!session) wallet.nodeLost();
    priceCheck.start();
    lost = () => {
      log.warn({}, 'the connection to the protocol node dropped; reconnecting');
      wallet.nodeLost();
    };
    reconciled = () => {
      log.info({}, 'reconnected to the protocol node');
      // Back only once it shows the pinned keys again: a node that returns with other keys is
      // not the one this wallet trusts, and the exit without it stays on offer.
      void wallet
        .connect()
        .then(() => wallet.nodeBack())
        .then(() => wallet.reconcile())
        .then((counts) => log.info(counts, 'signed transactions reconciled'))
        .catch((err: unknown) => log.error({ err }, 'reconciling signed transactions failed'));
    };
    if (session) await wallet.reconcile();
    // A node that keeps the socket open and answers nothing is as gone as one that closed it.
    const heartbeat = setInterval(() => {
      void client.call('node.info', {}).then(
        () => {
          if (wallet.nodeReachable) return;
          void wallet
            .connect()
            .then(() => wallet.nodeBack())
            .catch((err: unknown) =>
              log.error({ err }, 'the protocol node answers but was refused'),
            );
        },
        (err: unknown) => {
          if (err instanceof ProtocolError && err.code === 'NODE_TIMEOUT') wallet.nodeLost();
        },
      );
    }, HEARTBEAT_MS);
    heartbeat.unref();
    const api = createWalletApiService({
      wallet,
      client,
      owner,
      nodeUrl: base,
      dataDir: options.dataDir,
      priceCheck,
      settings,
      ...(bitcoin
        ? {
            ownNode: {
              kind: 'rpc' as const,
              rpcUrl: bitcoin.watch.rpc.url,
              watchWallet: bitcoin.watch.walletName,
              dataDir: options.dataDir,
            },
          }
        : {}),
      logger: log,
    });
    prompt = (p) => api.emit({ type: 'signer.prompt', payload: { ...p, operation: null } });
    // Alerts to the webhook chosen in Settings (the node sends this wallet its own vaults only).
    const stopWebhook = subscribeWebhook(async () => true, settings, api, log);
    if (!bitcoin) {
      log.warn(
        {},
        "no Bitcoin node of the wallet's own: collateral and coins come from the protocol node unverified",
      );
    }
    let stopped: Promise<void> | null = null;
    return {
      wallet,
      api,
      accountId,
      nodeId: pins.nodeId,
      nodeUrl: base,
      connected: session !== null,
      async health() {
        try {
          await client.call('node.info', {});
          return { status: 'ok' as const, protocolNode: base, nodeId: pins.nodeId };
        } catch (err) {
          return { status: 'down' as const, protocolNode: base, message: (err as Error).message };
        }
      },
      stop() {
        stopped ??= (async () => {
          clearInterval(heartbeat);
          await stopWebhook();
          api.close();
          await priceCheck.stop();
          // A stopped wallet leaves no live session behind; a node that does not answer within
          // a moment keeps it until it expires (the node closes the socket on its side).
          lost = () => {};
          reconciled = () => {};
          await Promise.race([
            client.call('auth.signOut', {}).catch((err: unknown) => {
              log.info({ err }, 'the session could not be ended at the node; it will expire');
            }),
            new Promise((r) => setTimeout(r, SIGN_OUT_WAIT_MS).unref()),
          ]);
          await client.close();
          await closeOwner();
          store.close();
        })();
        return stopped;
      },
    };
  } catch (err) {
    await priceCheck.stop();
    await client.close();
    await closeOwner();
    store.close();
    throw err;
  }
}

/** The owner's signer from the options: a given Signer, a Ledger by transport, or (regtest) software. */
async function ownerSigner(
  o: WalletCoreOptions['owner'],
  net: NetworkInfo,
  keyStore: KeyStore,
  store: SqliteWalletStore,
  onPrompt: (p: SignerPrompt) => void,
  logger: GatewayLogger,
): Promise<Signer> {
  if (o && typeof (o as Signer).signPsbt === 'function') return o as Signer;
  if (o && 'transport' in o) {
    return openLedgerOwnerSigner(o.transport, {
      network: net,
      registrations: new SqliteRegistrationStore(store.db),
      onPrompt,
      logger,
    });
  }
  return new SoftwareSigner({
    role: 'owner',
    network: net,
    secret: { mnemonic: await ensureSoftwareOwnerMnemonic(keyStore, net) },
  });
}

/** The wallet core with a passphrase key store and its own gateway serving the UI. */
export async function startWalletHost(options: WalletHostOptions): Promise<WalletHost> {
  const net = networkInfo(options.network);
  const log = options.logger;
  const { tokens, created, path: tokenFile } = loadTokens(options.dataDir);
  const passphrase = resolvePassphrase(options.dataDir, net.name, options.passphrase, log);
  privateDir(join(options.dataDir, net.name), log);
  const keyStore = new PassphraseKeyStore(join(options.dataDir, net.name, 'keys'), passphrase, {
    scrypt: scryptFor(net.name),
  });
  const running = await startWalletCore({ ...options, keyStore });
  try {
    const gateway = await startGateway({
      api: running.api,
      tokens: tokenSource(options.dataDir, (message) => log.warn({ tokenFile }, message)),
      port: options.port,
      ...(options.host ? { host: options.host } : {}),
      ...(options.allowRemote ? { allowRemote: true } : {}),
      ...(options.staticDir ? { staticDir: options.staticDir } : {}),
      health: () => running.health(),
      logger: log,
    });
    const ui = tokens.find((t) => t.roles.includes('admin')) ?? tokens[0]!;
    let stopped: Promise<void> | null = null;
    return {
      wallet: running.wallet,
      accountId: running.accountId,
      nodeId: running.nodeId,
      connected: running.connected,
      gateway,
      openUrl: `${gateway.url}/#token=${ui.token}`,
      tokenFile,
      tokenCreated: created,
      stop() {
        stopped ??= (async () => {
          await gateway.close();
          await running.stop();
        })();
        return stopped;
      },
    };
  } catch (err) {
    await running.stop();
    throw err;
  }
}
