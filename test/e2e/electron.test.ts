/**
 * The real desktop app under Playwright's Electron driver: the window opens hardened, the
 * dashboard renders, a vault is created and funded on local regtest, and quitting stops the
 * regtest bitcoind the app started.
 *
 * Runs wherever an Electron binary is installed (and, on Linux, a display such as Xvfb is
 * there). Where it is not — these build machines cannot download Electron's binary — it is
 * skipped, and says why and how to run it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BitStableApp } from './pages/app';

const ROOT = resolve(import.meta.dirname, '..', '..');
const T = (id: string) => `[data-testid="${id}"]`;

/**
 * The Electron binary's path, or why there is none. Resolved the way the electron package's
 * index.js does (path.txt, dist/), but without `require('electron')`: that tries to download the
 * binary when it is missing.
 */
function findElectron(): { path: string } | { missing: string } {
  let pkgDir: string;
  try {
    pkgDir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return { missing: 'the electron package is not installed' };
  }
  const pathFile = join(pkgDir, 'path.txt');
  const name = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : null;
  const dist = process.env.ELECTRON_OVERRIDE_DIST_PATH ?? join(pkgDir, 'dist');
  if (!name && !process.env.ELECTRON_OVERRIDE_DIST_PATH) {
    return {
      missing:
        'node_modules/electron has no path.txt (it was installed with ELECTRON_SKIP_BINARY_DOWNLOAD=1)',
    };
  }
  const path = join(dist, name ?? 'electron');
  return existsSync(path) ? { path } : { missing: `${path} does not exist` };
}

function skipReason(): string | null {
  const electron = findElectron();
  if ('missing' in electron) {
    return `no Electron binary is installed: ${electron.missing}. Install it with \`ELECTRON_SKIP_BINARY_DOWNLOAD=0 node node_modules/electron/install.js\` (needs Electron's download host), then run \`npm run test:e2e\`; the browser e2e tests cover the same UI against \`npm run headless\`.`;
  }
  const probe = spawnSync(electron.path, ['-e', "require('better-sqlite3')(':memory:').close()"], {
    cwd: ROOT,
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    encoding: 'utf8',
  });
  if (probe.status !== 0) {
    return 'the native modules are built for Node, not Electron: run `npm run electron:rebuild` first (and `npm rebuild better-sqlite3 node-hid usb` after, for the Node tests).';
  }
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return 'no display: run it under a display server, e.g. `xvfb-run -a npx vitest run --project e2e test/e2e/electron.test.ts`.';
  }
  return null;
}

const SKIP = skipReason();
if (SKIP) console.warn(`[e2e] The Electron app test is skipped: ${SKIP}`);

describe.skipIf(SKIP !== null)(
  `the desktop app (Electron)${SKIP ? ` — skipped: ${SKIP}` : ''}`,
  () => {
    let dataDir: string;
    let electronApp: ElectronApplication | undefined;
    let page: Page;

    beforeAll(async () => {
      const build = spawnSync('npx', ['electron-vite', 'build'], { cwd: ROOT, stdio: 'inherit' });
      if (build.status !== 0) throw new Error('electron-vite build failed');
      dataDir = mkdtempSync(join(tmpdir(), 'bitstable-electron-'));
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
      electronApp = await _electron.launch({
        executablePath: (findElectron() as { path: string }).path,
        args: [ROOT, ...(process.env.CI ? ['--no-sandbox'] : [])],
        cwd: ROOT,
        env: {
          ...env,
          BITSTABLE_DATA_DIR: dataDir,
          BITSTABLE_NETWORK: 'regtest',
          ELECTRON_ENABLE_LOGGING: '1',
        },
        timeout: 60_000,
      });
      page = await electronApp.firstWindow();
    });

    afterAll(async () => {
      await electronApp?.close().catch(() => undefined);
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    it('opens one hardened window whose page has no Node and only the bridge', async () => {
      const windows = await electronApp!.evaluate(
        ({ BrowserWindow }) => BrowserWindow.getAllWindows().length,
      );
      expect(windows).toBe(1);
      const seen = await page.evaluate(async () => {
        const w = window as unknown as { require?: unknown; process?: unknown; bitstable: object };
        // The <meta> CSP and the header's are one policy: connect-src 'self' refuses it.
        const violation = new Promise<string>((done) => {
          document.addEventListener('securitypolicyviolation', (e) => done(e.effectiveDirective), {
            once: true,
          });
          setTimeout(() => done('none'), 2_000);
        });
        await fetch('http://127.0.0.1:9/').catch(() => undefined);
        return {
          require: typeof w.require,
          process: typeof w.process,
          bridge: Object.keys(w.bitstable).sort(),
          evalBlocked: (() => {
            try {
              return eval('1') !== 1;
            } catch {
              return true;
            }
          })(),
          headerCsp: await violation,
        };
      });
      expect(seen).toEqual({
        require: 'undefined',
        process: 'undefined',
        bridge: ['apiVersion', 'desktop', 'methods', 'on', 'onEvent'],
        evalBlocked: true,
        headerCsp: 'connect-src',
      });
    });

    it('renders the dashboard', async () => {
      await page.locator(T('page-dashboard')).waitFor({ timeout: 120_000 });
      const status = await page.evaluate(() =>
        (
          window as unknown as { bitstable: { desktop: { status(): Promise<unknown> } } }
        ).bitstable.desktop.status(),
      );
      expect(status).toMatchObject({ startup: { state: 'ready' } });
    });

    it('creates a vault on regtest and sees its deposit confirm', async () => {
      const app = new BitStableApp(page, '');
      const create = app.create();
      const id = await create.createVault({ label: 'From the desktop app' });
      expect(id).toBeGreaterThan(0);
      await create.fundAndConfirm('0.5');
      await app.shot('electron-vault-active');
    });

    it('refuses navigation away from the app', async () => {
      const before = page.url();
      await page.evaluate(() => (window.location.href = 'https://example.com/'));
      await page.waitForTimeout(500);
      expect(page.url()).toBe(before);
    });

    it('quits cleanly, stopping the regtest bitcoind it started', async () => {
      const cookie = join(dataDir, 'regtest', 'bitcoind', 'regtest', '.cookie');
      expect(existsSync(cookie)).toBe(true);
      await electronApp!.close();
      electronApp = undefined;
      // bitcoind deletes its cookie file when it shuts down cleanly.
      expect(existsSync(cookie)).toBe(false);
    });
  },
);
