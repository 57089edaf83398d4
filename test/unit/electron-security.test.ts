/**
 * The window's security policy as configured (SPEC §10), checked in plain Node: webPreferences,
 * the Content-Security-Policy, which URLs are the app's, the navigation and window-open guards,
 * the external-link allowlist, and permissions.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  contentSecurityPolicy,
  createNavigationGuard,
  createWindowOpenHandler,
  isAllowedExternalUrl,
  isAppUrl,
  appFileFor,
  APP_INDEX_URL,
  mainWindowOptions,
  navigationDecision,
  permissionDecision,
  withSecurityHeaders,
  type AppOrigin,
} from '../../main/security';

const INDEX = join(
  '/',
  'opt',
  'BitStable',
  'resources',
  'app.asar',
  'out',
  'renderer',
  'index.html',
);
const APP = APP_INDEX_URL;
const prod: AppOrigin = { rendererIndexPath: INDEX, devServerUrl: null };
const dev: AppOrigin = { rendererIndexPath: INDEX, devServerUrl: 'http://localhost:5173/' };

/** Parses a CSP into directive → sources. */
function directives(csp: string): Map<string, string[]> {
  return new Map(
    csp.split(';').map((d) => {
      const [name, ...values] = d.trim().split(/\s+/);
      return [name!, values];
    }),
  );
}

describe('the main window', () => {
  const options = mainWindowOptions({ preloadPath: '/x/preload/index.cjs', devTools: false });
  const prefs = options.webPreferences!;

  it('isolates and sandboxes the page, with no Node, no webviews, and web security on', () => {
    expect(prefs).toMatchObject({
      preload: '/x/preload/index.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webviewTag: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      disableBlinkFeatures: 'Auxclick',
      devTools: false,
    });
  });

  it('enables nothing risky beyond that (no remote module, no blink features, no extra args)', () => {
    const keys = Object.keys(prefs);
    for (const risky of [
      'enableRemoteModule',
      'enableBlinkFeatures',
      'additionalArguments',
      'partition',
      'session',
    ]) {
      expect(keys).not.toContain(risky);
    }
    expect(options.show).toBe(false);
  });

  it('offers DevTools only when asked (development)', () => {
    expect(mainWindowOptions({ preloadPath: 'p', devTools: true }).webPreferences!.devTools).toBe(
      true,
    );
  });
});

describe('the app:// scheme', () => {
  it('serves files of the built renderer only: no other host, no way out of its folder', () => {
    const dir = join(INDEX, '..');
    expect(appFileFor('app://bitstable/index.html', dir)).toBe(INDEX);
    expect(appFileFor('app://bitstable/', dir)).toBe(INDEX);
    expect(appFileFor('app://bitstable/assets/index-abc.js', dir)).toBe(
      join(dir, 'assets', 'index-abc.js'),
    );
    // Dot segments, plain or encoded, never leave the folder: the parser folds them, or the
    // decoded path resolves outside and is refused.
    for (const tricky of [
      'app://bitstable/../../etc/passwd',
      'app://bitstable/%2e%2e/%2e%2e/etc/passwd',
      'app://bitstable/..%2f..%2f..%2f..%2fetc%2fpasswd',
      'app://bitstable/assets/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd',
    ]) {
      const file = appFileFor(tricky, dir);
      expect(file === null || file.startsWith(`${dir}/`), `${tricky} → ${file}`).toBe(true);
    }
    for (const bad of ['app://other/index.html', 'file:///etc/passwd', 'app://bitstable/%E0%A4%A'])
      expect(appFileFor(bad, dir), bad).toBeNull();
  });
});

describe('the Content-Security-Policy', () => {
  it("the page's own <meta> policy is the main process's, less what a meta tag cannot carry", () => {
    const html = readFileSync(new URL('../../renderer/index.html', import.meta.url), 'utf8');
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)![1]!;
    const header = directives(contentSecurityPolicy());
    header.delete('frame-ancestors');
    expect(directives(meta)).toEqual(header);
  });

  it('in production allows only the app’s own scripts and connections', () => {
    const csp = directives(contentSecurityPolicy());
    expect(csp.get('default-src')).toEqual(["'none'"]);
    expect(csp.get('script-src')).toEqual(["'self'"]);
    expect(csp.get('connect-src')).toEqual(["'self'"]);
    for (const d of [
      'object-src',
      'frame-src',
      'child-src',
      'frame-ancestors',
      'form-action',
      'base-uri',
    ]) {
      expect(csp.get(d)).toEqual(["'none'"]);
    }
    expect(csp.get('img-src')).toEqual(["'self'", 'data:']);
    const all = contentSecurityPolicy();
    expect(all).not.toMatch(/unsafe-eval|https?:|ws:|\*/);
    expect(csp.get('script-src')).not.toContain("'unsafe-inline'");
  });

  it('in development adds only the dev server (its scripts and HMR socket)', () => {
    const csp = directives(contentSecurityPolicy({ devServerUrl: 'http://localhost:5173/' }));
    expect(csp.get('script-src')).toEqual(["'self'", "'unsafe-inline'", 'http://localhost:5173']);
    expect(csp.get('connect-src')).toEqual([
      "'self'",
      'http://localhost:5173',
      'ws://localhost:5173',
    ]);
    expect(contentSecurityPolicy({ devServerUrl: 'http://localhost:5173/' })).not.toMatch(
      /unsafe-eval/,
    );
  });

  it('replaces any policy a response brings, whatever the header’s case', () => {
    const headers = withSecurityHeaders(
      {
        'content-security-policy': ['default-src *'],
        'CONTENT-SECURITY-POLICY-REPORT-ONLY': 'x',
        'Content-Type': ['text/html'],
      },
      contentSecurityPolicy(),
    );
    const csp = Object.entries(headers).filter(([k]) =>
      k.toLowerCase().startsWith('content-security-policy'),
    );
    expect(csp).toEqual([['Content-Security-Policy', [contentSecurityPolicy()]]]);
    expect(headers['Content-Type']).toEqual(['text/html']);
    expect(headers['X-Content-Type-Options']).toEqual(['nosniff']);
    expect(withSecurityHeaders(undefined, 'x')['Content-Security-Policy']).toEqual(['x']);
  });
});

describe('the app’s own pages', () => {
  it('are the built index.html (any hash) and, in development only, the dev server', () => {
    expect(isAppUrl(APP, prod)).toBe(true);
    expect(isAppUrl(`${APP}#/vaults/3`, prod)).toBe(true);
    expect(isAppUrl('app://bitstable/#/', prod)).toBe(true);
    expect(isAppUrl('app://bitstable/other.html', prod)).toBe(false);
    expect(isAppUrl('app://elsewhere/index.html', prod)).toBe(false);
    // No file:// page is the app's, not even the built renderer opened directly.
    expect(isAppUrl(pathToFileURL(INDEX).href, prod)).toBe(false);
    expect(isAppUrl(pathToFileURL('/etc/passwd').href, prod)).toBe(false);
    expect(isAppUrl(pathToFileURL(join(INDEX, '..', 'other.html')).href, prod)).toBe(false);
    expect(isAppUrl('http://localhost:5173/', prod)).toBe(false);
    expect(isAppUrl('http://localhost:5173/#/x', dev)).toBe(true);
    expect(isAppUrl('http://localhost:5174/', dev)).toBe(false);
    expect(isAppUrl('http://127.0.0.1:5173/', dev)).toBe(false);
    expect(isAppUrl('not a url', prod)).toBe(false);
  });
});

describe('the navigation guard', () => {
  const run = (url: string, origin = prod) => {
    const opened: string[] = [];
    let prevented = false;
    createNavigationGuard(origin, (u) => opened.push(u))(
      { preventDefault: () => (prevented = true) },
      url,
    );
    return { prevented, opened };
  };

  it('lets the app’s own page through', () => {
    expect(run(`${APP}#/auctions`)).toEqual({ prevented: false, opened: [] });
    expect(run('http://localhost:5173/', dev)).toEqual({ prevented: false, opened: [] });
  });

  it('sends allowlisted https links to the browser instead of the window', () => {
    expect(run('https://mempool.space/tx/abc')).toEqual({
      prevented: true,
      opened: ['https://mempool.space/tx/abc'],
    });
  });

  it.each([
    'https://evil.example/phish',
    'http://mempool.space/tx/abc',
    'https://mempool.space.evil.example/',
    'https://user:pass@github.com/',
    'file:///etc/passwd',
    'javascript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'http://localhost:5173/',
  ])('refuses %s', (url) => {
    expect(run(url)).toEqual({ prevented: true, opened: [] });
    expect(navigationDecision(url, prod)).toBe('deny');
  });
});

describe('the window-open handler', () => {
  it('never opens a window; allowlisted links go to the browser', () => {
    const opened: string[] = [];
    const handler = createWindowOpenHandler((u) => opened.push(u));
    expect(handler({ url: 'https://github.com/bitstable' })).toEqual({ action: 'deny' });
    expect(handler({ url: APP })).toEqual({ action: 'deny' });
    expect(handler({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
    expect(handler({ url: 'smb://evil.example/share' })).toEqual({ action: 'deny' });
    expect(opened).toEqual(['https://github.com/bitstable']);
  });
});

describe('external links', () => {
  it('must be https to an exact allowlisted host, on the default port', () => {
    expect(isAllowedExternalUrl('https://support.ledger.com/article/1')).toBe(true);
    expect(isAllowedExternalUrl('https://GITHUB.com/x')).toBe(true);
    expect(isAllowedExternalUrl('https://github.com:8443/x')).toBe(false);
    expect(isAllowedExternalUrl('https://gist.github.com/x')).toBe(false);
    expect(isAllowedExternalUrl('https://xn--mmpool-2ya.space/')).toBe(false);
    expect(isAllowedExternalUrl(`https://github.com/${'a'.repeat(5000)}`)).toBe(false);
  });
});

describe('permissions', () => {
  it('the page may write to the clipboard and show notifications, and nothing else', () => {
    expect(permissionDecision('clipboard-sanitized-write', APP, prod)).toBe(true);
    expect(permissionDecision('notifications', APP, prod)).toBe(true);
    for (const p of [
      'hid',
      'usb',
      'serial',
      'media',
      'geolocation',
      'clipboard-read',
      'openExternal',
      'fileSystem',
    ]) {
      expect(permissionDecision(p, APP, prod)).toBe(false);
    }
  });

  it('a page that is not the app gets nothing', () => {
    for (const p of ['clipboard-sanitized-write', 'notifications'])
      expect(permissionDecision(p, 'https://evil.example/', prod)).toBe(false);
  });
});
