/**
 * Alerts that reach the user (issue 15 item 2), in Chromium on local regtest: with desktop
 * notifications turned on in Settings, a price drop that puts a vault in Warning brings a toast,
 * a dashboard banner "1 vault needs attention" and a notification; the vault's page opens on
 * Repay and names what gets it back to 160 %; a further drop that starts its auction does the
 * same again, as danger. The notifications are the browser's real Notification API (permission
 * granted to the page as a user would), observed through a recording subclass injected before
 * the app loads. A ratio of the user's own (Settings) alerts the same way as a vault goes under
 * it. Screenshots: test-artifacts/e2e/60-… to 63-…, 76-… and 77-….
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openActiveVault, rpcCall, until } from '../helpers/rpc';
import { launchBrowser, type Browser } from './fixtures/browser';
import { startHeadless, type Headless } from './fixtures/headless';
import { BitStableApp } from './pages/app';

let host: Headless | undefined;
let browser: Browser | undefined;
let app: BitStableApp;
const call = (method: string, params: unknown = {}) =>
  rpcCall(host!.url, host!.token, method, params);

declare global {
  interface Window {
    shownNotifications?: { title: string; body: string }[];
  }
}

beforeAll(async () => {
  host = await startHeadless();
  browser = await launchBrowser();
  await browser.context.grantPermissions(['notifications'], { origin: new URL(host.url).origin });
  await browser.context.addInitScript(() => {
    const Real = window.Notification;
    window.shownNotifications = [];
    class Recorded extends Real {
      constructor(title: string, options?: NotificationOptions) {
        super(title, options);
        window.shownNotifications!.push({ title, body: options?.body ?? '' });
      }
    }
    window.Notification = Recorded;
  });
  app = new BitStableApp(browser.page, host.url);
}, 240_000);

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') await app?.shot('failed-alerts').catch(() => undefined);
});

afterAll(async () => {
  await Promise.allSettled([browser?.close(), host?.stop()]);
});

const shown = () => app.page.evaluate(() => window.shownNotifications ?? []);

describe('alerts, in the browser', () => {
  it('Warning and an auction each bring a toast, the dashboard banner and a desktop notification; the vault opens on Repay with what gets it back', async () => {
    await call('regtest.setPrice', { priceCents: 4_500_000 });
    const returnAddress = (await call('regtest.newAddress')).address as string;
    // 0.1 BTC at $45,000 against 2,600 bsUSD: 173 %.
    const vault = await openActiveVault(call, [10_000_000], { returnAddress });
    await call('vaults.mint', { vaultId: vault.id, amountCents: 260_000 });

    await app.open(host!.openUrl);
    await app.nav('settings');
    const toggle = app.page.locator('[data-testid="notify-toggle"]');
    await toggle.check();
    await expect
      .poll(() => app.page.locator('[data-testid="notify-state"]').innerText())
      .toMatch(/^On\./);
    await app.shot('60-alerts-settings');

    const dashboard = await app.dashboard().show();
    await dashboard.waitForState(vault.id, 'active');
    expect(await app.page.locator('[data-testid="attention-banner"]').count()).toBe(0);

    // $41,000: 157.69 %, in Warning.
    await call('regtest.setPrice', { priceCents: 4_100_000 });
    const toast = app.page.locator(`[data-testid="vault-toast-${vault.id}"]`);
    await expect.poll(() => toast.innerText(), { timeout: 30_000 }).toMatch(/is in Warning/);
    expect(await toast.getAttribute('data-tone')).toBe('warn');
    const banner = app.page.locator('[data-testid="attention-banner"]');
    await expect
      .poll(() => banner.innerText())
      .toMatch(
        new RegExp(
          `1 vault needs attention: 1 in Warning\\.[\\s\\S]*#${vault.id} at 157\\.\\d\\d %`,
        ),
      );
    await expect
      .poll(shown)
      .toContainEqual(expect.objectContaining({ title: `Vault #${vault.id} is in Warning` }));
    await app.shot('61-alerts-warning');

    // The list shows them; the vault opens on Repay, with the repay or deposit that cures it.
    await app.page.locator('[data-testid="attention-warning"]').click();
    await expect
      .poll(() => app.page.locator('[data-testid="state-filter"]').inputValue())
      .toBe('warning');
    await app.go(`#/vaults/${vault.id}`);
    await expect
      .poll(() => app.page.locator('[data-testid="op-tab-repay"]').getAttribute('aria-selected'))
      .toBe('true');
    // At $41,000, 160 % holds at most 2,562.50 bsUSD, or 2,600 needs 0.10146342 BTC (a few
    // cents more of each as the stability fee accrues).
    await expect
      .poll(() => app.page.locator('[data-testid="back-to"]').innerText())
      .toMatch(
        /Repay 37\.\d\d bsUSD or add 0\.0014\d{4} BTC to get back to 160\.00 % at \$41,000\.00/,
      );
    // A toast about the vault on screen needs no link to it.
    expect(await toast.locator('a').count()).toBe(0);
    await app.shot('62-alerts-vault-warning');

    // $36,000: 138 %, its auction starts.
    await call('regtest.setPrice', { priceCents: 3_600_000 });
    await until(
      'the vault in an auction',
      () => call('vaults.get', { vaultId: vault.id }),
      (v) => v.state === 'liquidating',
    );
    await expect.poll(() => toast.innerText(), { timeout: 30_000 }).toMatch(/is being liquidated/);
    expect(await toast.getAttribute('data-tone')).toBe('danger');
    await expect
      .poll(shown)
      .toContainEqual(expect.objectContaining({ title: `Vault #${vault.id} is being liquidated` }));
    await app.go('#/');
    await expect
      .poll(() => banner.innerText())
      .toMatch(/1 vault needs attention: 1 being liquidated/);
    expect(await banner.getAttribute('class')).toContain('danger');
    await app.shot('63-alerts-liquidating');

    // Dismissed, the toast is gone.
    await toast.getByRole('button', { name: /Dismiss/ }).click();
    expect(await toast.count()).toBe(0);
  });

  it('a ratio of your own, set in Settings and checked under the field, brings a toast and a notification as a vault goes under it', async () => {
    await call('regtest.setPrice', { priceCents: 4_500_000 });
    const returnAddress = (await call('regtest.newAddress')).address as string;
    // 0.1 BTC at $45,000 against 2,000 bsUSD: 225 %.
    const vault = await openActiveVault(call, [10_000_000], { returnAddress });
    await call('vaults.mint', { vaultId: vault.id, amountCents: 200_000 });

    // An alert kept in the window's storage by an earlier version moves to the host, once.
    await app.page.evaluate(() => localStorage.setItem('bitstable.ratioAlertBps', '18500'));
    await app.page.reload();
    await expect
      .poll(() => call('settings.saved').then((s) => s.saved.ratioAlertBps), { timeout: 15_000 })
      .toBe(18_500);
    await expect
      .poll(() => app.page.evaluate(() => localStorage.getItem('bitstable.ratioAlertBps')))
      .toBeNull();

    await app.nav('settings');
    const form = app.page.locator('[data-testid="ratio-alert-form"]');
    const field = form.locator('[data-testid="ratio-alert"]');
    await field.fill('140');
    expect(await form.locator('[data-testid="ratio-alert-problem"]').innerText()).toBe(
      'Give a ratio above 150.00 %: under it a vault is already at auction.',
    );
    expect(await form.locator('[data-testid="ratio-alert-save"]').isDisabled()).toBe(true);
    await field.fill('200');
    expect(await form.locator('[data-testid="ratio-alert-problem"]').count()).toBe(0);
    await form.locator('[data-testid="ratio-alert-save"]').click();
    // Kept by the host (settings.saved), so shown once it is saved.
    await expect
      .poll(() => form.locator('[data-testid="ratio-alert-state"]').innerText())
      .toBe('Alerting under 200.00 %.');
    await app.shot('76-alerts-own-ratio-set');

    await app.dashboard().show();
    const toast = app.page.locator(`[data-testid="vault-toast-${vault.id}"]`);
    // $43,000: 215 %, still above the alert.
    await call('regtest.setPrice', { priceCents: 4_300_000 });
    await expect
      .poll(() => call('vaults.get', { vaultId: vault.id }).then((v) => v.ratioBps))
      .toBeLessThan(21_600);
    // (Its toast may still say it became active; none says it is under the alert.)
    expect(await toast.innerText().catch(() => '')).not.toContain('under your');
    // $39,000: 195 %, under it (and above Warning's 160 %).
    await call('regtest.setPrice', { priceCents: 3_900_000 });
    await expect
      .poll(() => toast.innerText(), { timeout: 30_000 })
      .toMatch(/is under your 200\.00 % alert[\s\S]*Its ratio is 19\d\.\d\d %/);
    await expect
      .poll(shown)
      .toContainEqual(
        expect.objectContaining({ title: `Vault #${vault.id} is under your 200.00 % alert` }),
      );
    expect((await call('vaults.get', { vaultId: vault.id })).state).toBe('active');
    await app.shot('77-alerts-own-ratio-crossed');
  });
});
