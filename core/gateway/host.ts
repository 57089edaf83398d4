/**
 * The headless host (SPEC §2): the whole core in plain Node — key store, BitStable node with
 * background work, the API service and the gateway — started and stopped as one.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { privateDir } from '../ops/private';
import { checkPassphraseStrength } from '../keys/passphrase-strength';
import { join } from 'node:path';
import { BitStableNode, type BitStableNodeOptions } from '../app/bitstable-node';
import { createApiService, type ApiService } from '../api/dispatcher';
import type { ApiEvent } from '../api/events';
import { network as networkInfo, type NetworkName } from '../config/networks';
import { BitStableError } from '../errors';
import { PassphraseKeyStore, scryptFor } from '../keys/passphrase-keystore';
import type { SignerPrompt } from '../signers/types';
import { checkBindHost, startGateway, type Gateway, type GatewayLogger } from './server';
import { tokenSource, loadTokens } from './tokens';
import { SavedSettingsService, withSavedSettings } from '../app/saved-settings';
import { nodeVaultsHere, subscribeWebhook } from '../app/webhook';

export interface HeadlessOptions {
  dataDir: string;
  network: NetworkName;
  port: number;
  host?: string;
  allowRemote?: boolean;
  /** From BITSTABLE_PASSPHRASE; on regtest a generated one is kept in a 0600 file when absent. */
  passphrase?: string;
  /**
   * The Bitcoin node, the owner's Ledger and the guardian (see nodeOptionsFromEnv). Default on
   * regtest: a local bitcoind and software owner and guardian keys.
   */
  connections?: Pick<BitStableNodeOptions, 'bitcoin' | 'owner' | 'guardian' | 'oracleOverrides'>;
  /**
   * The environment `connections` was read from: a setting saved in the app applies where it
   * set nothing (default: this process's).
   */
  env?: Record<string, string | undefined>;
  /** PostgreSQL instead of the embedded SQLite (several instances on one database). */
  database?: BitStableNodeOptions['database'];
  staticDir?: string;
  extraOrigins?: string[];
  /** Where wallets reach this node through a proxy (logins name the address they reached). */
  publicUrls?: string[];
  logger: GatewayLogger;
}

export interface HeadlessHost {
  node: BitStableNode;
  api: ApiService;
  gateway: Gateway;
  /** The URL to open, with the token in the fragment (never sent to a server). */
  openUrl: string;
  tokenFile: string;
  /** True when this start made the token file (the link with its token is shown then only). */
  tokenCreated: boolean;
  stop(): Promise<void>;
}

const PASSPHRASE_FILE = 'headless-passphrase';

/** The key store's passphrase: given, or on regtest generated once and kept in a 0600 file. */
export function resolvePassphrase(
  dataDir: string,
  network: NetworkName,
  given: string | undefined,
  logger: GatewayLogger,
): string {
  if (given) {
    checkPassphraseStrength(given, network);
    return given;
  }
  if (network !== 'regtest') {
    throw new BitStableError(
      'INVALID_CONFIG',
      `Set BITSTABLE_PASSPHRASE: on ${network} the node's keys are encrypted with a passphrase you choose.`,
      { network },
    );
  }
  const dir = join(dataDir, network);
  const file = join(dir, PASSPHRASE_FILE);
  if (existsSync(file)) {
    chmodSync(file, 0o600);
    logger.warn(
      { file },
      'regtest: the key store passphrase is read from a 0600 file (set BITSTABLE_PASSPHRASE to use your own)',
    );
    return readFileSync(file, 'utf8').trim();
  }
  mkdirSync(dir, { recursive: true });
  const passphrase = randomBytes(24).toString('base64url');
  writeFileSync(file, `${passphrase}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  logger.warn(
    { file },
    'regtest: generated a key store passphrase and kept it in a 0600 file (set BITSTABLE_PASSPHRASE to use your own)',
  );
  return passphrase;
}

/** Starts everything; on failure stops what it started. */
export async function startHeadless(options: HeadlessOptions): Promise<HeadlessHost> {
  const log = options.logger;
  const net = networkInfo(options.network);
  // Refused before anything starts, so a bad bind never leaves a bitcoind behind.
  checkBindHost(options.host ?? '127.0.0.1', options.allowRemote ?? false);
  privateDir(options.dataDir, log);
  const { tokens, created, path: tokenFile } = loadTokens(options.dataDir);
  if (created) log.info({ tokenFile }, 'created the gateway token file (0600)');

  const passphrase = resolvePassphrase(options.dataDir, net.name, options.passphrase, log);
  const keyStore = new PassphraseKeyStore(join(options.dataDir, net.name, 'keys'), passphrase, {
    scrypt: scryptFor(net.name),
  });

  // What was chosen in Settings, under what the environment set.
  const { connections, applied } = await withSavedSettings(
    options.dataDir,
    net.name,
    keyStore,
    options.connections ?? {},
    options.env ?? process.env,
  );
  const settings = new SavedSettingsService(options.dataDir, net.name, keyStore, applied);

  let progressSink: (text: string) => void = () => {};
  let promptSink: (prompt: SignerPrompt) => void = () => {};
  const node = await BitStableNode.start({
    dataDir: options.dataDir,
    network: net.name,
    keyStore,
    ...connections,
    ...(options.database ? { database: options.database } : {}),
    onProgress: (line) => {
      log.info({ progress: line }, line);
      progressSink(line);
    },
    // The Ledger's own instructions (unlock, open the app, check the screen) for the UI.
    onPrompt: (prompt) => promptSink(prompt),
    logger: log,
  });
  let api: ApiService | null = null;
  try {
    // A bot token bound to an account: the operator vouches for that account, so it is registered.
    for (const t of tokens) if (t.account) await node.accounts.register(t.account, t.label);
    api = createApiService({
      core: node,
      host: {
        dataDir: options.dataDir,
        settings,
        updates: {
          automatic: false,
          note: 'The headless host does not update itself; update it with git pull and npm ci.',
        },
      },
      logger: log,
    });
    const service = api;
    progressSink = (text) => service.emit({ type: 'progress', payload: { text } });
    const offWebhook = subscribeWebhook(nodeVaultsHere(node), settings, service, log);
    promptSink = (prompt) =>
      service.emit({ type: 'signer.prompt', payload: { ...prompt, operation: null } });
    // What the other instances' buses said reaches this one's clients too.
    node.onRemoteEvent((event) => service.emit(event as ApiEvent));
    const gateway = await startGateway({
      api,
      core: node,
      // Re-read as the file changes: a token removed from it is refused without a restart.
      tokens: tokenSource(options.dataDir, (message) => log.warn({ tokenFile }, message)),
      port: options.port,
      ...(options.host ? { host: options.host } : {}),
      ...(options.allowRemote ? { allowRemote: true } : {}),
      ...(options.staticDir ? { staticDir: options.staticDir } : {}),
      ...(options.extraOrigins ? { extraOrigins: options.extraOrigins } : {}),
      ...(options.publicUrls ? { publicUrls: options.publicUrls } : {}),
      logger: log,
    });
    node.startBackground();
    await node.backgroundStarted();
    const owner = tokens.find((t) => t.roles.includes('admin')) ?? tokens[0]!;
    let stopped: Promise<void> | null = null;
    return {
      node,
      api,
      gateway,
      openUrl: `${gateway.url}/#token=${owner.token}`,
      tokenFile,
      tokenCreated: created,
      stop() {
        stopped ??= (async () => {
          await offWebhook();
          await gateway.close();
          service.close();
          await node.stop();
        })();
        return stopped;
      },
    };
  } catch (err) {
    api?.close();
    await node.stop();
    throw err;
  }
}
