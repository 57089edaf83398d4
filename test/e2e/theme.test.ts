/**
 * The light theme (Settings → Appearance), in Chromium: chosen through the window's storage
 * (`bitstable.theme`), it is in force from the first paint after a reload, and a choice made in
 * another tab applies at once, without one; axe-core reports no critical and no serious violation
 * of WCAG 2 A/AA (colour contrast included) on any page or review dialog in it, with vaults in
 * every state a page shows differently; back to dark, the page is dark again; "system" follows
 * the system's colour scheme as it changes. Screenshots: test-artifacts/e2e/98-theme-….
 */
import { describe, expect, it } from 'vitest';
import { axeViolations } from './fixtures/axe';
import { openVaultsInEveryState } from './fixtures/every-state';
import { useE2eSession } from './fixtures/session';

const session = useE2eSession('theme');
const call = (method: string, params?: unknown) => session().call(method, params);
const app = () => session().app;
const page = () => app().page;
const T = (id: string) => `[data-testid="${id}"]`;
const THEME_SETTING = 'bitstable.theme';
/** The page's critical and serious axe violations now (test/e2e/fixtures/axe.ts). */
const violations = () => axeViolations(page());

/** The theme on <html>, and whether <body>'s computed background is light or dark. */
async function shown(): Promise<{ theme: string | null; body: string }> {
  const { theme, luminance } = await page().evaluate(() => {
    const [r, g, b] = (getComputedStyle(document.body).backgroundColor.match(/[\d.]+/g) ?? [])
      .slice(0, 3)
      .map((c) => Number(c) / 255)
      .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
    return {
      theme: document.documentElement.getAttribute('data-theme'),
      // Relative luminance, 0 black … 1 white (WCAG 2).
      luminance: 0.2126 * r! + 0.7152 * g! + 0.0722 * b!,
    };
  });
  const body = luminance > 0.8 ? 'light' : luminance < 0.02 ? 'dark' : `luminance ${luminance}`;
  return { theme, body };
}
const LIGHT = { theme: 'light', body: 'light' };
const DARK = { theme: 'dark', body: 'dark' };

/** Saves a theme choice in this page's storage and reloads: what a restart of the app does. */
async function chooseAndReload(choice: 'dark' | 'light' | 'system', ready: string): Promise<void> {
  await page().evaluate(([k, v]) => localStorage.setItem(k!, v!), [THEME_SETTING, choice]);
  await page().reload();
  await page().locator(ready).first().waitFor({ timeout: 60_000 });
}

describe('the light theme, in the browser', () => {
  it('is kept across a reload, applies live from another tab, and passes axe on every page', async () => {
    const { pending, owing, warning, falling } = await openVaultsInEveryState(call);

    const seen: Record<string, string[]> = {};
    const check = async (name: string, ready: string, shot?: string) => {
      await page().locator(ready).first().waitFor({ timeout: 60_000 });
      expect(await shown(), name).toEqual(LIGHT);
      seen[name] = await violations();
      if (shot) await app().shot(`98-theme-${shot}`);
    };

    // Dark until chosen otherwise; the page asking for a token is in the chosen theme too.
    await page().goto(session().host.url);
    await page().locator(T('token-screen')).waitFor();
    expect(await shown()).toEqual(DARK);
    await chooseAndReload('light', T('token-screen'));
    await check('token screen', T('token-screen'), 'token-screen');
    await page().goto('about:blank'); // the link differs only in its fragment: load it afresh
    await app().open(session().host.openUrl);

    await check('dashboard', T('vault-table'), 'dashboard');
    for (const [hash, name, ready, shot] of [
      ['#/vaults/new', 'new vault', `${T('page-create')}, form`, 'create'],
      ['#/bsusd', 'send and receive', T('money-page'), 'money'],
      ['#/redeem', 'redeem', 'h1', undefined],
      ['#/pool', 'stability pool', 'h1', undefined],
      ['#/auctions', 'auctions', T('page-auctions'), 'auctions'],
      ['#/regtest', 'regtest', T('page-regtest'), 'regtest'],
      ['#/settings', 'settings', T('recovery-descriptor'), 'settings'],
      ['#/alone', 'without the protocol node', 'h1', undefined],
      ['#/nowhere', 'not found', 'main', undefined],
    ] as const) {
      await app().go(hash);
      await check(name, ready, shot);
    }
    const vaultPage = (id: number) => `${T('page-vault')}[data-vault-id="${id}"]`;
    for (const [v, name, ready, shot] of [
      [pending, 'pending vault', T('deposit-panel'), 'vault-pending'],
      [owing, 'vault with debt', T('ratio-chart'), 'vault-debt'],
      [warning, 'vault in Warning', vaultPage(warning.id), 'vault-warning'],
      [falling, 'vault at auction', vaultPage(falling.id), 'vault-auction'],
    ] as const) {
      await app().go(`#/vaults/${v.id}`);
      await page().locator(vaultPage(v.id)).waitFor();
      await check(name, ready, shot);
    }

    // The review dialogs, open.
    await app().go(`#/vaults/${owing.id}`);
    await page().locator(vaultPage(owing.id)).waitFor();
    for (const kind of ['mint', 'repay'] as const) {
      await page()
        .locator(T(`op-tab-${kind}`))
        .click();
      await page()
        .locator(T(`${kind}-amount`))
        .fill('10');
      await page()
        .locator(T(`${kind}-review`))
        .click();
      await check(`${kind} review`, `${T(`${kind}-dialog`)}[open]`, `${kind}-review`);
      await page()
        .locator(`${T(`${kind}-dialog`)}[open]`)
        .getByRole('button', { name: 'Cancel' })
        .click();
    }
    await page().locator(T('op-tab-withdraw')).click();
    await page().locator(T('withdraw-use-wallet')).click();
    await page().locator(T('withdraw-amount')).fill('0.01');
    await page().locator(T('withdraw-review')).click();
    await check(
      'withdraw review',
      `${T('withdraw-dialog')}[open] ${T('review-outputs')}`,
      'withdraw-review',
    );
    await page()
      .locator(`${T('withdraw-dialog')}[open]`)
      .getByRole('button', { name: 'Cancel' })
      .click();

    await app().go('#/auctions');
    await page().locator(T('take-open')).first().click();
    await page().locator(T('take-use-wallet')).click();
    await page().waitForFunction(() =>
      (
        document.querySelector<HTMLInputElement>('dialog[open] [data-testid="take-address"]')
          ?.value ?? ''
      ).startsWith('bcrt1'),
    );
    await page().locator(T('take-review')).click();
    await check('take review', `${T('take-dialog')}[open] ${T('take-confirm')}`, 'take-review');
    await page().keyboard.press('Escape');

    // Settings' forms with a problem under a field: the danger colour on a light card.
    await app().go('#/settings');
    await page().locator(T('bitcoin-node-own')).check();
    await page().locator(T('bitcoin-url')).fill('http://me:pw@127.0.0.1:1');
    await check('settings forms', T('bitcoin-url-problem'), 'settings-forms');

    const bad = Object.entries(seen).filter(([, v]) => v.length > 0);
    expect(bad, bad.map(([p, v]) => `${p}:\n  ${v.join('\n  ')}`).join('\n')).toEqual([]);
    expect(Object.keys(seen)).toHaveLength(20);

    // Chosen in another tab (as Settings → Appearance does): this one follows at once, no reload.
    await app().go(`#/vaults/${owing.id}`);
    await page().locator(T('ratio-chart')).waitFor();
    const other = await page().context().newPage();
    try {
      await other.goto(`${session().host.url}/`);
      await other.evaluate(([k]) => localStorage.setItem(k!, 'dark'), [THEME_SETTING]);
      await expect.poll(shown).toEqual(DARK);
      await app().shot('98-theme-back-to-dark');
      await other.evaluate(([k]) => localStorage.setItem(k!, 'light'), [THEME_SETTING]);
      await expect.poll(shown).toEqual(LIGHT);
    } finally {
      await other.close();
    }
    // And kept as chosen across a reload.
    await chooseAndReload('dark', T('ratio-chart'));
    expect(await shown()).toEqual(DARK);
  }, 300_000);

  it('"Follow the system" follows the system colour scheme as it changes', async () => {
    await app().go('#/');
    await page().emulateMedia({ colorScheme: 'light' });
    await chooseAndReload('system', T('page-dashboard'));
    expect(await shown()).toEqual(LIGHT);
    await page().emulateMedia({ colorScheme: 'dark' });
    await expect.poll(shown).toEqual(DARK);
    await app().shot('98-theme-system-dark');
    await page().emulateMedia({ colorScheme: 'light' });
    await expect.poll(shown).toEqual(LIGHT);
    await app().shot('98-theme-system-light');
    // A fixed choice no longer follows it.
    await chooseAndReload('dark', T('page-dashboard'));
    await page().emulateMedia({ colorScheme: 'light' });
    expect(await shown()).toEqual(DARK);
    await page().emulateMedia({ colorScheme: null });
  });
});
