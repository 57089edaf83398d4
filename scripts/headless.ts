/**
 * `npm run headless`: BitStable in plain Node with the gateway and the UI for a browser.
 *
 *   --port N          (BITSTABLE_PORT, default 7420; 0 picks a free one)
 *   --data-dir DIR    (BITSTABLE_DATA_DIR, default ./data)
 *   --network NAME    (BITSTABLE_NETWORK, default regtest: local regtest mode)
 *   --host ADDR       (BITSTABLE_HOST, default 127.0.0.1; non-loopback needs --allow-remote)
 *   --allow-remote
 *   --guardian-key KEY  (BITSTABLE_GUARDIAN_KEY) the guardian's [fingerprint/48'/c'/0'/2']xpub; it
 *                     signs by PSBT file. Required off regtest, where the default is a software key.
 *   BITSTABLE_RPC_URL, _COOKIE or _USER/_PASSWORD, _WALLET, _FALLBACK_URL; BITSTABLE_LEDGER:
 *                     the Bitcoin Core and the Ledger to use off regtest (core/app/env-config.ts)
 *   --add-token ROLES [--label TEXT] [--account ID]   adds a token with comma-separated roles
 *                     (acting for account bsa1…, registered at the next start) and exits
 *   --revoke-token LABEL|PREFIX  removes tokens by label or token prefix (8+ characters) and
 *                     exits; a running host refuses them within a second, and closes their sockets
 *   --show-link       prints the link with its token again (it is shown when the token is made)
 *   BITSTABLE_PASSPHRASE  the key store passphrase (on regtest a generated one is kept if unset)
 *   --connect URL     a wallet host: this wallet (its own account key, owner key and records)
 *                     connected to the protocol node at URL (`npm run protocol`), serving its UI;
 *                     BITSTABLE_RPC_URL/_COOKIE then name the wallet's own Bitcoin node (optional,
 *                     recommended). Without --connect: the protocol node chosen in Settings, or
 *                     local mode (node and wallet in one process) when none was chosen.
 *   BITSTABLE_ORACLE, BITSTABLE_PRICE_MARGIN_BPS  the exchanges a wallet host asks itself to check
 *                     the node's price, and how far apart warns (core/app/env-config.ts)
 *   BITSTABLE_EXIT_ALONE_AFTER_S  how long the protocol node must be unreachable before the
 *                     wallet host offers an exit without it (owner + guardian)
 *
 * The URL to open is printed on stdout, with the token in its fragment on the start that made
 * it (or with --show-link); logs are JSON on stderr.
 */
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { ROLES, type Role } from '../core/api/contract';
import { NETWORKS, type NetworkName } from '../core/config/networks';
import {
  exitAloneAfterFromEnv,
  nodeOptionsFromEnv,
  priceMarginFromEnv,
} from '../core/app/env-config';
import { isBitStableError } from '../core/errors';
import { startHeadless } from '../core/gateway/host';
import { addToken, revokeTokens } from '../core/gateway/tokens';
import { readProtocolChoice } from '../core/wallet/choice';
import { readSavedSettings } from '../core/app/saved-settings';
import { startWalletHost } from '../core/wallet/host';
import { createLogger, logEvents } from '../core/ops/log';

const ROOT = resolve(import.meta.dirname, '..');
const RENDERER_OUT = join(ROOT, 'out', 'renderer');

/** Newest modification time of any file under `dir`. */
function newest(dir: string): number {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Builds the renderer into out/renderer unless it is already newer than its sources. */
export async function ensureRendererBuilt(log: (msg: string) => void = () => {}): Promise<string> {
  const index = join(RENDERER_OUT, 'index.html');
  const sources = Math.max(newest(join(ROOT, 'renderer')), newest(join(ROOT, 'core', 'api')));
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return RENDERER_OUT;
  log('Building the UI (out/renderer)');
  const [{ build }, config] = await Promise.all([
    import('vite'),
    import('../electron.vite.config'),
  ]);
  const renderer = (
    config.default as { renderer: { build?: Record<string, unknown> } & Record<string, unknown> }
  ).renderer;
  await build({
    ...renderer,
    configFile: false,
    logLevel: 'error',
    build: { ...renderer.build, emptyOutDir: true, chunkSizeWarningLimit: 2_000 },
  });
  return RENDERER_OUT;
}

async function main(): Promise<void> {
  // Everything this host writes (logs, backups, token and key files, databases) is its user's
  // alone; folders made before this are tightened where they are opened (core/ops/private.ts).
  process.umask(0o077);
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      network: { type: 'string' },
      host: { type: 'string' },
      'allow-remote': { type: 'boolean' },
      'guardian-key': { type: 'string' },
      'add-token': { type: 'string' },
      'revoke-token': { type: 'string' },
      'show-link': { type: 'boolean' },
      label: { type: 'string' },
      account: { type: 'string' },
      connect: { type: 'string' },
    },
  });
  const env = process.env;
  const dataDir = resolve(values['data-dir'] ?? env.BITSTABLE_DATA_DIR ?? join(ROOT, 'data'));

  if (values['revoke-token'] !== undefined) {
    try {
      const gone = revokeTokens(dataDir, values['revoke-token']);
      process.stdout.write(
        `Revoked ${gone.map((t) => `"${t.label}"`).join(', ')}: a running host refuses ${gone.length === 1 ? 'it' : 'them'} within a second.\n`,
      );
    } catch (err) {
      fail(isBitStableError(err) ? err.message : String(err));
    }
    return;
  }

  if (values['add-token'] !== undefined) {
    const roles = values['add-token'].split(',').map((r) => r.trim());
    const bad = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
    if (bad.length) fail(`Unknown role ${bad.join(', ')}; roles are ${ROLES.join(', ')}.`);
    let entry: ReturnType<typeof addToken>;
    try {
      entry = addToken(dataDir, roles as Role[], values.label ?? roles.join('+'), values.account);
    } catch (err) {
      fail(isBitStableError(err) ? err.message : String(err));
    }
    process.stdout.write(`${entry.token}\n`);
    return;
  }

  const network = (values.network ?? env.BITSTABLE_NETWORK ?? 'regtest') as NetworkName;
  if (!(NETWORKS as readonly string[]).includes(network))
    fail(`Unknown network "${network}"; use one of ${NETWORKS.join(', ')}.`);
  const portText = values.port ?? env.BITSTABLE_PORT ?? '7420';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    fail(`--port must be a whole number from 0 to 65535; got ${portText}.`);
  const host = values.host ?? env.BITSTABLE_HOST ?? '127.0.0.1';
  const allowRemote = values['allow-remote'] ?? env.BITSTABLE_ALLOW_REMOTE === '1';
  let connections: ReturnType<typeof nodeOptionsFromEnv>;
  // The environment with the command line's guardian key: what Settings' saved choices stand under.
  const given = {
    ...env,
    ...(values['guardian-key'] ? { BITSTABLE_GUARDIAN_KEY: values['guardian-key'] } : {}),
  };
  let priceMarginBps: number | undefined;
  let exitAloneAfterMs: number | undefined;
  try {
    priceMarginBps = priceMarginFromEnv(env);
    exitAloneAfterMs = exitAloneAfterFromEnv(env);
    connections = nodeOptionsFromEnv(given, network, {
      bitcoin: readSavedSettings(dataDir, network).bitcoin !== null,
    });
  } catch (err) {
    if (isBitStableError(err)) fail(err.message);
    throw err;
  }

  // Without --connect, the protocol node chosen in Settings (none chosen: this computer).
  let connect = values.connect;
  if (connect === undefined) {
    try {
      connect = readProtocolChoice(dataDir, network)?.url ?? undefined;
    } catch (err) {
      if (isBitStableError(err)) fail(err.message);
      throw err;
    }
  }
  const logger = createLogger({
    base: { host: connect ? 'wallet' : 'headless', network },
    destination: pino.destination(2),
  });
  const staticDir = await ensureRendererBuilt((m) => logger.info({}, m));
  if (connect !== undefined) {
    const bitcoin = connections.bitcoin?.kind === 'rpc' ? connections.bitcoin.rpc : undefined;
    const wallet = await startWalletHost({
      dataDir,
      network,
      connect,
      port,
      host,
      allowRemote,
      ...(env.BITSTABLE_PASSPHRASE ? { passphrase: env.BITSTABLE_PASSPHRASE } : {}),
      ...(bitcoin ? { bitcoin } : {}),
      ...(values.label ? { label: values.label } : {}),
      ...(connections.oracleOverrides !== undefined
        ? { oracleOverrides: connections.oracleOverrides }
        : {}),
      ...(priceMarginBps !== undefined ? { priceMarginBps } : {}),
      ...(exitAloneAfterMs !== undefined ? { exitAloneAfterMs } : {}),
      // BITSTABLE_LEDGER: the owner's Ledger signs in this wallet (the node never sees it).
      ...(connections.owner ? { owner: connections.owner } : {}),
      staticDir,
      logger,
    }).catch((err: unknown) => {
      if (isBitStableError(err)) fail(err.message);
      throw err;
    });
    process.stdout.write(
      [
        '',
        wallet.connected
          ? `BitStable wallet connected to the protocol node at ${connect} (node ${wallet.nodeId}).`
          : `The protocol node at ${connect} (node ${wallet.nodeId}) does not answer; this wallet runs from its own records and keeps trying.`,
        `Account: ${wallet.accountId}`,
        wallet.wallet.verifiesCoins
          ? 'Coins are checked against your own Bitcoin node.'
          : 'No Bitcoin node of your own: collateral figures come from the protocol node, unverified.',
        openLine(
          wallet.openUrl,
          wallet.tokenCreated || values['show-link'] === true,
          wallet.tokenFile,
        ),
        'Press Ctrl+C to stop.',
        '',
      ].join('\n'),
    );
    onSignals(() => wallet.stop(), logger);
    return;
  }
  const host_ = await startHeadless({
    dataDir,
    network,
    port,
    host,
    allowRemote,
    ...(env.BITSTABLE_PASSPHRASE ? { passphrase: env.BITSTABLE_PASSPHRASE } : {}),
    connections,
    env: given,
    staticDir,
    logger,
  }).catch((err: unknown) => {
    if (isBitStableError(err)) fail(err.message);
    throw err;
  });

  logEvents(host_.node.bus, logger);
  // The regtest bitcoind this host started: where its files are and how to reach it
  // (bitcoin-cli -datadir=… -rpcport=…, or Sparrow and Electrum's own node settings).
  const regtest = host_.node.regtest;
  const regtestLine = regtest
    ? `Bitcoin node (regtest): datadir ${regtest.dataDir} RPC ${regtest.rpc.url} cookie=${join(regtest.dataDir, 'regtest', '.cookie')}`
    : null;
  if (regtest) {
    logger.info(
      { datadir: regtest.dataDir, rpc: regtest.rpc.url },
      'the regtest Bitcoin node of this host',
    );
  }
  process.stdout.write(
    [
      '',
      `BitStable is running on ${network}${network === 'regtest' ? ' (local regtest mode)' : ''}.`,
      openLine(host_.openUrl, host_.tokenCreated || values['show-link'] === true, host_.tokenFile),
      `(The token is in the URL fragment, which the browser never sends to the server. Tokens: ${host_.tokenFile})`,
      ...(regtestLine ? [regtestLine] : []),
      'Press Ctrl+C to stop.',
      '',
    ].join('\n'),
  );

  onSignals(() => host_.stop(), logger);
}

/**
 * The link to open: with its token when the token file was just made (or --show-link), and
 * otherwise without it — a token printed at every start ends up in logs.
 */
export function openLine(openUrl: string, withToken: boolean, tokenFile: string): string {
  return withToken
    ? `Open: ${openUrl}`
    : `Open: ${openUrl.slice(0, openUrl.indexOf('#'))} — the token is in ${tokenFile} (shown when it was made; --show-link prints the link again)`;
}

/** Stops cleanly on SIGINT/SIGTERM (once), then exits. */
export function onSignals(stopHost: () => Promise<void>, logger: ReturnType<typeof createLogger>) {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    stopHost()
      .then(() => {
        logger.info({}, 'stopped');
        logger.flush();
        process.exit(0);
      })
      .catch((err: unknown) => {
        logger.error({ err }, 'stop failed');
        process.exit(1);
      });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

function fail(message: string): never {
  process.stderr.write(`bitstable: ${message}\n`);
  process.exit(2);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  main().catch((err: unknown) => {
    process.stderr.write(
      `bitstable: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  });
}
