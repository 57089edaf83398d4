/**
 * The Electron security checklist, item by item, against what the app really configures
 * (main/security.ts): the items @doyensec/electronegativity checks that apply to this app. Each
 * item names its electronegativity check. `npm run check:electronegativity` also runs the tool.
 */
import { describe, expect, it } from 'vitest';
import {
  ALLOWED_PERMISSIONS,
  contentSecurityPolicy,
  createNavigationGuard,
  createWindowOpenHandler,
  isAllowedExternalUrl,
  mainWindowOptions,
  permissionDecision,
} from '../../main/security';

const origin = { rendererIndexPath: '/opt/BitStable/resources/app.asar/out/renderer/index.html' };
const prefs = mainWindowOptions({
  preloadPath: '/opt/BitStable/resources/app.asar/out/preload/index.cjs',
  devTools: false,
}).webPreferences!;
const csp = Object.fromEntries(
  contentSecurityPolicy()
    .split(';')
    .map((d) => d.trim().split(/\s+/))
    .filter((d) => d[0])
    .map(([name, ...values]) => [name!, values]),
);

describe('Electron security checklist (electronegativity checks that apply)', () => {
  it.each([
    [
      'NODE_INTEGRATION_HTML_CHECK / NODE_INTEGRATION_JS_CHECK',
      () =>
        prefs.nodeIntegration === false &&
        prefs.nodeIntegrationInWorker === false &&
        prefs.nodeIntegrationInSubFrames === false,
    ],
    ['CONTEXT_ISOLATION_JS_CHECK', () => prefs.contextIsolation === true],
    ['SANDBOX_JS_CHECK', () => prefs.sandbox === true],
    ['WEB_SECURITY_JS_CHECK', () => prefs.webSecurity !== false],
    ['INSECURE_CONTENT_JS_CHECK', () => prefs.allowRunningInsecureContent !== true],
    ['EXPERIMENTAL_FEATURES_JS_CHECK', () => prefs.experimentalFeatures !== true],
    ['BLINK_FEATURES_JS_CHECK', () => !('enableBlinkFeatures' in prefs)],
    [
      'AUXCLICK_JS_CHECK',
      () =>
        String(prefs.disableBlinkFeatures ?? '')
          .split(',')
          .includes('Auxclick'),
    ],
    ['WEBVIEW_TAG (ALLOWPOPUPS / preload in webviews)', () => prefs.webviewTag === false],
    ['REMOTE_MODULE_JS_CHECK', () => !('enableRemoteModule' in prefs)],
    [
      'PRELOAD_JS_CHECK: the preload is a local file of the app',
      () => typeof prefs.preload === 'string' && prefs.preload.startsWith('/'),
    ],
    ['DEVTOOLS in installed builds', () => prefs.devTools === false],
  ])('%s', (_name, holds) => {
    expect(holds()).toBe(true);
  });

  it('CSP_GLOBAL_CHECK: a strict Content-Security-Policy (no remote or inline script, no eval, no frames)', () => {
    expect(csp['default-src']).toEqual(["'none'"]);
    expect(csp['script-src']).toEqual(["'self'"]);
    expect(csp['connect-src']).toEqual(["'self'"]);
    expect(csp['object-src'] ?? csp['default-src']).toEqual(["'none'"]);
    expect(csp['frame-src'] ?? csp['default-src']).toEqual(["'none'"]);
    expect(Object.values(csp).flat()).not.toContain("'unsafe-eval'");
    expect(csp['script-src']).not.toContain("'unsafe-inline'");
  });

  it('LIMIT_NAVIGATION_GLOBAL_CHECK: navigation away from the app is prevented', () => {
    let prevented = 0;
    const guard = createNavigationGuard(origin, () => {});
    for (const url of [
      'https://evil.example/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'http://127.0.0.1:8080/',
    ]) {
      guard({ preventDefault: () => prevented++ }, url);
    }
    expect(prevented).toBe(4);
  });

  it('NEW_WINDOW / OPEN_EXTERNAL_JS_CHECK: no new windows; only allowlisted https links go to the browser', () => {
    const opened: string[] = [];
    const handler = createWindowOpenHandler((u) => opened.push(u));
    for (const url of [
      'https://evil.example/',
      'file:///etc/passwd',
      'smb://host/share',
      'http://github.com/',
    ]) {
      expect(handler({ url })).toEqual({ action: 'deny' });
    }
    expect(opened).toEqual([]);
    expect(isAllowedExternalUrl('https://github.com/doyensec/electronegativity')).toBe(true);
    expect(isAllowedExternalUrl('https://github.com.evil.example/')).toBe(false);
  });

  it('PERMISSION_REQUEST_HANDLER_GLOBAL_CHECK: every permission the app does not need is denied', () => {
    for (const p of [
      'hid',
      'usb',
      'serial',
      'media',
      'geolocation',
      'openExternal',
      'clipboard-read',
    ]) {
      expect(permissionDecision(p, 'file://' + origin.rendererIndexPath, origin)).toBe(false);
    }
    expect(ALLOWED_PERMISSIONS).toEqual(['clipboard-sanitized-write', 'notifications']);
    for (const p of ALLOWED_PERMISSIONS)
      expect(permissionDecision(p, 'https://evil.example/', origin)).toBe(false);
  });
});
