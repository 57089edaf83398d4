/**
 * Electron main process. Thin: it applies the security policy (security.ts), binds the API over
 * IPC (ipc.ts), starts the core (node-host.ts) with keys sealed by the OS keychain (keystore.ts),
 * and runs signed auto-updates (updates/). The logic lives in those modules, which are plain Node
 * and tested without Electron; this file only hands them Electron's objects.
 *
 *   BITSTABLE_DATA_DIR    the data folder (default: Electron's userData folder)
 *   BITSTABLE_NETWORK     regtest (default: local regtest with its own bitcoind), signet, testnet, mainnet
 *   BITSTABLE_PASSPHRASE  seal keys with this passphrase instead of the OS keychain
 *   BITSTABLE_GUARDIAN_KEY the guardian's [fingerprint/48'/c'/0'/2']xpub, which signs by PSBT file
 *                         (required off regtest; regtest defaults to a software guardian)
 *   BITSTABLE_RPC_URL …, BITSTABLE_LEDGER  Bitcoin Core and the Ledger off regtest (core/app/env-config.ts)
 *   BITSTABLE_UPDATE_URL  a generic update feed instead of the one built in (https, or http on loopback)
 */
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  net,
  protocol,
  safeStorage,
  session,
  shell,
  type Session,
  type WebContents,
} from 'electron';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { nodeOptionsFromEnv } from '../core/app/env-config';
import { readSavedSettings } from '../core/app/saved-settings';
import { readProtocolChoice } from '../core/wallet/choice';
import { NETWORKS, type NetworkName } from '../core/config/networks';
import { BitStableError } from '../core/errors';
import { resolvePassphrase } from '../core/gateway/host';
import { FileKeyStore } from '../core/keys/file-keystore';
import type { KeyStore } from '../core/keys/keystore';
import { PassphraseKeyStore, scryptFor } from '../core/keys/passphrase-keystore';
import { checkPassphraseStrength } from '../core/keys/passphrase-strength';
import {
  CHANNELS,
  type BridgeEventMessage,
  type OpenedPsbt,
  type UpdateStatus,
} from '../preload/bridge';
import { bindApiHandlers, bindShellHandler, createSenderCheck } from './ipc';
import {
  chooseKeyStore,
  hasSecrets,
  keyDirs,
  SafeStorageCipher,
  safeStorageStatus,
} from './keystore';
import { buildMenuTemplate } from './menu';
import { CoreHost } from './node-host';
import { psbtPathsFromArgv, readPsbtFile } from './psbt-file';
import {
  contentSecurityPolicy,
  createNavigationGuard,
  createWindowOpenHandler,
  isAllowedExternalUrl,
  mainWindowOptions,
  permissionDecision,
  withSecurityHeaders,
  APP_INDEX_URL,
  APP_SCHEME,
  appFileFor,
  type AppOrigin,
} from './security';
import { highestSeenStore } from './updates/seen';
import { UpdateController, type UpdaterLike } from './updates/controller';
import { UPDATE_PUBLIC_KEYS } from './updates/public-key';
import {
  feedFileName,
  feedUrlFor,
  parseAppUpdateConfig,
  sourceFromEnv,
  type UpdateSource,
} from './updates/source';

const UPDATE_FIRST_CHECK_MS = 15_000;
const UPDATE_INTERVAL_MS = 4 * 60 * 60 * 1000;
const STOP_TIMEOUT_MS = 30_000;

// Every renderer is sandboxed, whatever a window's options say.
app.enableSandbox();
// Everything the app writes is its user's alone (folders made before this are tightened where
// they are opened: core/ops/private.ts).
process.umask(0o077);
if (process.env.BITSTABLE_DATA_DIR)
  app.setPath('userData', resolve(process.env.BITSTABLE_DATA_DIR));

// The app's pages come from app://bitstable (see security.ts); the scheme must be registered as
// privileged before the app is ready.
protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);

const dev = !app.isPackaged && !!process.env.ELECTRON_RENDERER_URL;
const origin: AppOrigin = {
  rendererIndexPath: join(import.meta.dirname, '../renderer/index.html'),
  devServerUrl: dev ? process.env.ELECTRON_RENDERER_URL : null,
};
const log = pino(
  { name: 'bitstable-main', level: process.env.BITSTABLE_LOG_LEVEL ?? 'info' },
  pino.destination({ dest: join(app.getPath('logs'), 'main.log'), mkdir: true, sync: true }),
);

let mainWindow: BrowserWindow | null = null;
/** Set once the core is stopped, so before-quit lets the quit through. */
let readyToQuit = false;
let core: CoreHost | null = null;
let updates: UpdateController | null = null;
const openedFiles: OpenedPsbt[] = [];

function send(message: BridgeEventMessage): void {
  const wc = mainWindow?.webContents;
  if (wc && !wc.isDestroyed()) wc.send(CHANNELS.event, message);
}

function openExternal(url: string): void {
  // Validated again here: this is the only door to the OS browser.
  if (isAllowedExternalUrl(url)) void shell.openExternal(url);
  else log.warn({ url: url.slice(0, 200) }, 'refused to open a link outside the allowlist');
}

/** Guards every webContents the app ever creates (the window, DevTools, anything unexpected). */
function hardenContents(contents: WebContents): void {
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(createWindowOpenHandler(openExternal));
  const guard = createNavigationGuard(origin, openExternal);
  contents.on('will-navigate', (event) => guard(event, event.url));
  contents.on('will-frame-navigate', (event) => guard(event, event.url));
  contents.on('will-redirect', (event) => guard(event, event.url));
}

function hardenSession(ses: Session): void {
  const csp = contentSecurityPolicy({ devServerUrl: origin.devServerUrl ?? null });
  ses.webRequest.onHeadersReceived((details, callback) => {
    // DevTools (development only) brings its own policy.
    if (details.url.startsWith('devtools:')) return callback({});
    callback({ responseHeaders: withSecurityHeaders(details.responseHeaders, csp) });
  });
  ses.setPermissionRequestHandler((wc, permission, callback, details) => {
    const allowed = permissionDecision(permission, details.requestingUrl ?? wc.getURL(), origin);
    if (!allowed) log.warn({ permission }, 'denied a permission request');
    callback(allowed);
  });
  ses.setPermissionCheckHandler((wc, permission, _requestingOrigin, details) =>
    permissionDecision(permission, details.requestingUrl ?? wc?.getURL() ?? '', origin),
  );
  // The renderer never touches devices: the core talks to the Ledger from this process.
  ses.setDevicePermissionHandler(() => false);
  ses.on('select-hid-device', (event, _details, callback) => {
    event.preventDefault();
    callback(null);
  });
  ses.on('select-usb-device', (event, _details, callback) => {
    event.preventDefault();
    callback();
  });
  ses.on('select-serial-port', (event, _ports, _wc, callback) => {
    event.preventDefault();
    callback('');
  });
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow(
    mainWindowOptions({
      preloadPath: join(import.meta.dirname, '../preload/index.cjs'),
      devTools: !app.isPackaged,
    }),
  );
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = null;
  });
  if (origin.devServerUrl) void win.loadURL(origin.devServerUrl);
  else void win.loadURL(APP_INDEX_URL);
  return win;
}

function networkFromEnv(): NetworkName {
  const value = process.env.BITSTABLE_NETWORK ?? 'regtest';
  if ((NETWORKS as readonly string[]).includes(value)) return value as NetworkName;
  log.warn({ value }, 'unknown BITSTABLE_NETWORK; using regtest');
  return 'regtest';
}

async function openKeyStore(dataDir: string, network: NetworkName): Promise<KeyStore> {
  const dirs = keyDirs(dataDir, network);
  const keychain = safeStorageStatus(safeStorage, process.platform);
  const passphrase = process.env.BITSTABLE_PASSPHRASE;
  // Not inherited by bitcoind or anything else this process starts.
  delete process.env.BITSTABLE_PASSPHRASE;
  const choice = chooseKeyStore({
    network,
    keychain,
    existing: {
      safeStorage: await hasSecrets(dirs.safeStorage),
      passphrase: await hasSecrets(dirs.passphrase),
    },
    passphrase,
  });
  log.info(
    { store: choice.kind, keychain: keychain.available ? keychain.backend : 'none' },
    'key store',
  );
  switch (choice.kind) {
    case 'safeStorage':
      return new FileKeyStore(dirs.safeStorage, new SafeStorageCipher(safeStorage));
    case 'passphrase':
      checkPassphraseStrength(choice.passphrase, network);
      return new PassphraseKeyStore(dirs.passphrase, choice.passphrase, {
        scrypt: scryptFor(network),
      });
    case 'regtest-generated-passphrase':
      return new PassphraseKeyStore(
        dirs.passphrase,
        resolvePassphrase(dataDir, 'regtest', undefined, log),
        { scrypt: scryptFor('regtest') },
      );
    case 'refuse':
      void dialog.showMessageBox({
        type: 'warning',
        title: 'BitStable',
        message: 'No safe place for keys',
        detail: choice.message,
      });
      throw new BitStableError('KEYSTORE_ERROR', choice.message, {
        reason: 'io',
        name: 'key-store',
      });
  }
}

function updateSource(): UpdateSource | string | null {
  const fromEnv = sourceFromEnv(process.env.BITSTABLE_UPDATE_URL);
  if (fromEnv) return fromEnv;
  const file = join(process.resourcesPath, 'app-update.yml');
  if (!app.isPackaged || !existsSync(file)) return null;
  return (
    parseAppUpdateConfig(readFileSync(file, 'utf8')) ??
    'This build names an update server BitStable cannot verify.'
  );
}

async function createUpdates(): Promise<UpdateController> {
  const source = updateSource();
  const reason =
    UPDATE_PUBLIC_KEYS.length === 0
      ? 'This build has no update signing key, so it does not update itself. Download new versions from the project page.'
      : typeof source === 'string'
        ? source
        : source === null
          ? 'Updates are checked by installed builds only.'
          : null;
  const fileName = feedFileName(process.platform, process.arch);
  let updater: UpdaterLike = inactiveUpdater;
  if (!reason && source && typeof source !== 'string') {
    // electron-updater loads electron at import: only here, never in plain-Node tests.
    const { autoUpdater } = (await import('electron-updater')).default;
    autoUpdater.autoDownload = false;
    autoUpdater.autoInstallOnAppQuit = false;
    autoUpdater.allowPrerelease = false;
    autoUpdater.allowDowngrade = false;
    autoUpdater.logger = {
      info: (m: unknown) => log.info({ updater: String(m) }, 'electron-updater'),
      warn: (m: unknown) => log.warn({ updater: String(m) }, 'electron-updater'),
      error: (m: unknown) => log.error({ updater: String(m) }, 'electron-updater'),
    };
    if (process.env.BITSTABLE_UPDATE_URL && source.provider === 'generic') {
      autoUpdater.setFeedURL({ provider: 'generic', url: source.url });
      autoUpdater.forceDevUpdateConfig = !app.isPackaged;
    }
    updater = autoUpdater;
  }
  const controller = new UpdateController({
    updater,
    currentVersion: app.getVersion(),
    publicKeys: UPDATE_PUBLIC_KEYS,
    feedUrl: (version) => feedUrlFor(source as UpdateSource, version, fileName),
    fetch: (url) => net.fetch(url, { cache: 'no-store', redirect: 'follow' }),
    onStatus: (status: UpdateStatus) => send({ type: 'update.status', payload: status }),
    beforeInstall: async () => {
      await stopCore();
      readyToQuit = true;
      // The new version starts while this one exits; let it take the single-instance lock.
      app.releaseSingleInstanceLock();
    },
    disabledReason: reason,
    logger: log,
    highestSeen: highestSeenStore(join(app.getPath('userData'), 'update-highest-seen.json')),
  });
  controller.schedule(UPDATE_FIRST_CHECK_MS, UPDATE_INTERVAL_MS);
  return controller;
}

const inactiveUpdater: UpdaterLike = {
  checkForUpdates: async () => null,
  downloadUpdate: async () => [],
  quitAndInstall: () => undefined,
  on: () => undefined,
};

async function openPsbtPaths(paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    try {
      openedFiles.push(await readPsbtFile(path));
      send({ type: 'file.opened', payload: { count: openedFiles.length } });
    } catch (err) {
      const message = err instanceof BitStableError ? err.message : `Could not open ${path}.`;
      void dialog.showMessageBox({
        type: 'error',
        title: 'BitStable',
        message: 'Not a PSBT',
        detail: message,
      });
    }
  }
}

async function chooseAndOpenPsbt(): Promise<void> {
  const options = {
    title: 'Open a PSBT',
    filters: [
      { name: 'PSBT', extensions: ['psbt'] },
      { name: 'All files', extensions: ['*'] },
    ],
    properties: ['openFile' as const],
  };
  const result = mainWindow
    ? await dialog.showOpenDialog(mainWindow, options)
    : await dialog.showOpenDialog(options);
  if (!result.canceled) await openPsbtPaths(result.filePaths);
}

function showAbout(): void {
  if (process.platform === 'win32') {
    void dialog.showMessageBox({
      type: 'info',
      title: 'About BitStable',
      message: `BitStable ${app.getVersion()}`,
      detail: `Bitcoin-collateralized bsUSD vaults, signed on a Ledger.\nElectron ${process.versions.electron}`,
    });
  } else {
    app.showAboutPanel();
  }
}

function projectPage(): (() => void) | undefined {
  const source = updateSource();
  if (!source || typeof source === 'string' || source.provider !== 'github') return undefined;
  return () => openExternal(`https://github.com/${source.owner}/${source.repo}`);
}

let stoppingCore: Promise<void> | null = null;
function stopCore(): Promise<void> {
  stoppingCore ??= (async () => {
    updates?.stop();
    if (!core) return;
    const timeout = new Promise<void>((done) => setTimeout(done, STOP_TIMEOUT_MS).unref());
    await Promise.race([
      core.stop().catch((err: unknown) => log.error({ err }, 'stopping the core failed')),
      timeout,
    ]);
  })();
  return stoppingCore;
}

/** Serves app://bitstable/… from the built renderer, under the app's CSP; nothing else. */
function serveAppScheme(): void {
  const rendererDir = join(origin.rendererIndexPath, '..');
  const csp = contentSecurityPolicy({ devServerUrl: null });
  protocol.handle(APP_SCHEME, async (request) => {
    const file = appFileFor(request.url, rendererDir);
    if (!file || !existsSync(file)) return new Response('Not found', { status: 404 });
    const res = await net.fetch(pathToFileURL(file).toString());
    const headers = new Headers(res.headers);
    headers.set('Content-Security-Policy', csp);
    headers.set('X-Content-Type-Options', 'nosniff');
    return new Response(res.body, { status: res.status, headers });
  });
}

async function start(): Promise<void> {
  serveAppScheme();
  hardenSession(session.defaultSession);
  app.setAboutPanelOptions({
    applicationName: 'BitStable',
    applicationVersion: app.getVersion(),
    version: `Electron ${process.versions.electron}`,
    copyright: 'BitStable contributors',
  });
  Menu.setApplicationMenu(
    Menu.buildFromTemplate(
      buildMenuTemplate(
        {
          openPsbt: () => void chooseAndOpenPsbt(),
          about: showAbout,
          checkForUpdates: () => void updates?.check(),
          ...(projectPage() ? { openProjectPage: projectPage() } : {}),
        },
        { platform: process.platform, dev: !app.isPackaged, appName: 'BitStable' },
      ),
    ),
  );

  const dataDir = app.getPath('userData');
  const network = networkFromEnv();
  mainWindow = createWindow();
  const isTrustedSender = createSenderCheck(origin, () =>
    mainWindow && !mainWindow.isDestroyed() ? mainWindow.webContents.id : null,
  );
  updates = await createUpdates();
  const updateStatus = updates.status();
  core = new CoreHost({
    dataDir,
    network,
    keyStore: () => openKeyStore(dataDir, network),
    connections: () =>
      nodeOptionsFromEnv(process.env, network, {
        bitcoin: readSavedSettings(dataDir, network).bitcoin !== null,
      }),
    protocolNode: () => readProtocolChoice(dataDir, network),
    hostInfo: {
      dataDir,
      updates: {
        automatic: updateStatus.state !== 'disabled',
        note:
          updateStatus.state === 'disabled'
            ? (updateStatus.message ?? 'Updates are off.')
            : 'BitStable checks for signed updates at start and every 4 hours, downloads them in the background, and restarts only when you say so.',
      },
    },
    logger: log,
    send,
  });
  const host = core;
  bindApiHandlers({
    ipcMain,
    dispatch: (m, p, ctx) => host.dispatch(m, p, ctx),
    isTrustedSender,
    logger: log,
  });
  const shellIpc = { ipcMain, isTrustedSender, logger: log };
  bindShellHandler(shellIpc, CHANNELS.desktopStatus, () => ({
    appVersion: app.getVersion(),
    platform: process.platform,
    startup: host.startup(),
    update: updates?.status() ?? { state: 'idle' },
  }));
  bindShellHandler(shellIpc, CHANNELS.checkForUpdates, () => updates!.check());
  bindShellHandler(shellIpc, CHANNELS.installUpdate, () => updates!.install());
  bindShellHandler(shellIpc, CHANNELS.takeOpenedFiles, () => openedFiles.splice(0));

  void host.start();
  await openPsbtPaths(psbtPathsFromArgv(process.argv.slice(1)));
}

if (!app.requestSingleInstanceLock()) {
  // Another BitStable runs: it receives our arguments (a .psbt to open) in 'second-instance'.
  app.quit();
} else {
  app.on('web-contents-created', (_event, contents) => hardenContents(contents));
  app.on('second-instance', (_event, argv) => {
    if (mainWindow) {
      if (mainWindow.isMinimized()) mainWindow.restore();
      mainWindow.focus();
    }
    void openPsbtPaths(psbtPathsFromArgv(argv.slice(1)));
  });
  // macOS hands files over with open-file, possibly before ready.
  app.on('open-file', (event, path) => {
    event.preventDefault();
    void app.whenReady().then(() => openPsbtPaths([path]));
  });
  app.on('window-all-closed', () => app.quit());

  // A clean quit stops the core first: background work, the database, and a regtest bitcoind.
  app.on('before-quit', (event) => {
    if (readyToQuit) return;
    event.preventDefault();
    void stopCore().finally(() => {
      readyToQuit = true;
      app.quit();
    });
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => app.quit());

  app
    .whenReady()
    .then(start)
    .catch((err: unknown) => {
      log.error({ err }, 'BitStable failed to start');
      dialog.showErrorBox('BitStable could not start', (err as Error)?.message ?? String(err));
      app.exit(1);
    });
}
