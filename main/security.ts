/**
 * The window's security policy as plain data and pure functions, so that plain-Node tests can
 * check exactly what the app configures (SPEC §10): the window's webPreferences, the
 * Content-Security-Policy, which URLs count as the app's own, the navigation and window-open
 * guards, the allowlist of external links, and the permission decisions.
 *
 * Electron appears here only as types; main/index.ts applies these to the real objects.
 */
import type {
  BrowserWindowConstructorOptions,
  HandlerDetails,
  WindowOpenHandlerResponse,
} from 'electron';
import { resolve, sep } from 'node:path';

/**
 * The app's own pages are served from a privileged scheme, not file://: one origin of their own
 * (`app://bitstable`), so `'self'` in the CSP means the app and nothing else on disk, and a file
 * that happens to lie beside the renderer is never the app.
 */
export const APP_SCHEME = 'app';
export const APP_HOST = 'bitstable';
export const APP_INDEX_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

/**
 * The file under the built renderer's folder that an app:// URL names; null for another host, a
 * path that leaves the folder, or anything unreadable. App routes live in the hash, so `/` is
 * the index page.
 */
export function appFileFor(url: string, rendererDir: string): string | null {
  const parsed = parse(url);
  if (!parsed || parsed.protocol !== `${APP_SCHEME}:` || parsed.host !== APP_HOST) return null;
  let rel: string;
  try {
    rel = decodeURIComponent(parsed.pathname);
  } catch {
    return null;
  }
  if (rel === '/' || rel === '') rel = '/index.html';
  if (rel.includes('\0')) return null;
  const root = resolve(rendererDir);
  const file = resolve(root, `.${rel}`);
  return file.startsWith(root + sep) ? file : null;
}

/** Where the app's own pages come from: the built renderer file, or the dev server in development. */
export interface AppOrigin {
  /** Absolute path of out/renderer/index.html (served as APP_INDEX_URL). */
  rendererIndexPath: string;
  /** electron-vite's dev server (ELECTRON_RENDERER_URL), only when not packaged. */
  devServerUrl?: string | null;
}

/** The BrowserWindow options of the one main window. */
export function mainWindowOptions(options: {
  preloadPath: string;
  devTools: boolean;
}): BrowserWindowConstructorOptions {
  return {
    width: 1280,
    height: 820,
    minWidth: 960,
    minHeight: 640,
    title: 'BitStable',
    // Shown on ready-to-show, so the window never flashes blank.
    show: false,
    backgroundColor: '#101418',
    webPreferences: {
      preload: options.preloadPath,
      // The page and the preload live in separate JavaScript worlds.
      contextIsolation: true,
      // The renderer is an OS-sandboxed Chromium process; the preload gets only Electron's
      // sandboxed module set.
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      // No <webview>: it would be a second, unguarded browser inside the window.
      webviewTag: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      // Middle-click would open links in new windows outside the window-open guard's flow.
      disableBlinkFeatures: 'Auxclick',
      // Dialogs the page opens in a loop can be suppressed by the user.
      safeDialogs: true,
      spellcheck: false,
      // DevTools in development only: a console in a wallet is an invitation to paste-this scams.
      devTools: options.devTools,
    },
  };
}

/**
 * The Content-Security-Policy of the app's pages. Production: only the app's own scripts, no
 * inline or remote script, no eval, nothing fetched from anywhere (the renderer talks to the core
 * over IPC, so `connect-src 'self'` is all it needs), no frames, no plugins, no forms.
 * Development adds the dev server (its scripts, its inline React Refresh preamble, its HMR
 * WebSocket), never in a packaged app.
 */
export function contentSecurityPolicy(options: { devServerUrl?: string | null } = {}): string {
  const dev = options.devServerUrl ? new URL(options.devServerUrl) : null;
  const devHttp = dev ? dev.origin : null;
  const devWs = dev ? `${dev.protocol === 'https:' ? 'wss:' : 'ws:'}//${dev.host}` : null;
  const directives: Array<[string, string[]]> = [
    ['default-src', ["'none'"]],
    ['script-src', dev ? ["'self'", "'unsafe-inline'", devHttp!] : ["'self'"]],
    // Inline styles: React style attributes and libraries that inject <style>; styles cannot run code.
    ['style-src', ["'self'", "'unsafe-inline'"]],
    ['img-src', ["'self'", 'data:']],
    ['font-src', ["'self'", 'data:']],
    ['connect-src', dev ? ["'self'", devHttp!, devWs!] : ["'self'"]],
    ['worker-src', ["'self'"]],
    ['manifest-src', ["'self'"]],
    ['media-src', ["'none'"]],
    ['object-src', ["'none'"]],
    ['frame-src', ["'none'"]],
    ['child-src', ["'none'"]],
    ['frame-ancestors', ["'none'"]],
    ['form-action', ["'none'"]],
    ['base-uri', ["'none'"]],
  ];
  return directives.map(([name, values]) => `${name} ${values.join(' ')}`).join('; ');
}

/**
 * Response headers with the app's CSP in force: any CSP the response carried is replaced (header
 * names are case-insensitive), so a dev server or a file cannot loosen it.
 */
export function withSecurityHeaders(
  headers: Record<string, string[] | string> | undefined,
  csp: string,
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const lower = name.toLowerCase();
    if (lower === 'content-security-policy' || lower === 'content-security-policy-report-only')
      continue;
    out[name] = Array.isArray(value) ? value : [value];
  }
  out['Content-Security-Policy'] = [csp];
  out['X-Content-Type-Options'] = ['nosniff'];
  return out;
}

/** True when `url` is one of the app's own pages (any hash or query on the same document). */
export function isAppUrl(url: string, origin: AppOrigin): boolean {
  const parsed = parse(url);
  if (!parsed) return false;
  // The app's page is app://bitstable/index.html; no file:// page is the app's, not even the
  // built renderer opened directly.
  if (parsed.protocol === `${APP_SCHEME}:`) {
    return (
      parsed.host === APP_HOST && (parsed.pathname === '/index.html' || parsed.pathname === '/')
    );
  }
  if (!origin.devServerUrl) return false;
  const dev = parse(origin.devServerUrl);
  return (
    !!dev &&
    (parsed.protocol === 'http:' || parsed.protocol === 'https:') &&
    parsed.origin === dev.origin
  );
}

/**
 * Web pages the app may open in the user's browser: the project, and block explorers and device
 * help the UI links to. Exact host names, https only.
 */
export const EXTERNAL_HOSTS: readonly string[] = [
  'github.com',
  'mempool.space',
  'blockstream.info',
  'bitcoincore.org',
  'www.ledger.com',
  'support.ledger.com',
];

/** True when `url` may be handed to the OS browser: https, an allowlisted host, no credentials. */
export function isAllowedExternalUrl(
  url: string,
  hosts: readonly string[] = EXTERNAL_HOSTS,
): boolean {
  const parsed = parse(url);
  if (!parsed) return false;
  if (parsed.protocol !== 'https:') return false;
  if (parsed.username || parsed.password) return false;
  if (parsed.port !== '') return false;
  // URL lowercases the host and turns IDN into punycode, so look-alike hosts do not match.
  return hosts.includes(parsed.hostname);
}

/** What to do with a navigation: stay (the app's own page), open outside, or refuse. */
export type NavigationDecision = 'allow' | 'external' | 'deny';

/** The decision for a navigation of the window to `url`. */
export function navigationDecision(url: string, origin: AppOrigin): NavigationDecision {
  if (isAppUrl(url, origin)) return 'allow';
  if (isAllowedExternalUrl(url)) return 'external';
  return 'deny';
}

/** Something with preventDefault(), like Electron's navigation events. */
export interface PreventableEvent {
  preventDefault(): void;
}

/**
 * The `will-navigate` / `will-frame-navigate` / `will-redirect` listener: anything but the app's
 * own page is prevented; allowlisted https links go to the OS browser instead.
 */
export function createNavigationGuard(
  origin: AppOrigin,
  openExternal: (url: string) => void,
): (event: PreventableEvent, url: string) => void {
  return (event, url) => {
    const decision = navigationDecision(url, origin);
    if (decision === 'allow') return;
    event.preventDefault();
    if (decision === 'external') openExternal(url);
  };
}

/**
 * The `setWindowOpenHandler` handler: the app never opens a second window. Allowlisted https links
 * (target=_blank, window.open) go to the OS browser; everything else is dropped.
 */
export function createWindowOpenHandler(
  openExternal: (url: string) => void,
): (details: Pick<HandlerDetails, 'url'>) => WindowOpenHandlerResponse {
  return ({ url }) => {
    if (isAllowedExternalUrl(url)) openExternal(url);
    return { action: 'deny' };
  };
}

/**
 * Permissions the app's page may have: copying an address or a PSBT to the clipboard, and desktop
 * notifications of vault alerts (which the user turns on in Settings). The page never needs HID,
 * USB, serial, camera, microphone, location or anything else (the core in main talks to the
 * Ledger).
 */
export const ALLOWED_PERMISSIONS: readonly string[] = [
  'clipboard-sanitized-write',
  'notifications',
];

/** The answer to a permission request or check from a page at `requestingUrl`. */
export function permissionDecision(
  permission: string,
  requestingUrl: string,
  origin: AppOrigin,
): boolean {
  return ALLOWED_PERMISSIONS.includes(permission) && isAppUrl(requestingUrl, origin);
}

function parse(url: string): URL | null {
  if (typeof url !== 'string' || url.length > 4096) return null;
  try {
    return new URL(url);
  } catch {
    return null;
  }
}
