/**
 * Settings the person changes (issue 15 item 5), in Chromium on the headless host (local regtest,
 * its own real bitcoind): the Bitcoin node form checks each field as it is typed with the reason
 * under it, "Test connection" says who answers (the host's own bitcoind, reached as the person's
 * Core would be) or why not, Save tests first and then says a restart is due; the guardian's xpub
 * is refused under its field until it is one for this network; the oracle's threshold cannot
 * exceed the sources left on. What the next start does with them is in
 * test/integration/saved-settings.test.ts. Screenshots: test-artifacts/e2e/73-… to 75-….
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { network } from '../../core/config/networks';
import { testAccount } from '../helpers/keys';
import { openActiveVault } from '../helpers/rpc';
import { useE2eSession } from './fixtures/session';

const session = useE2eSession('settings');
const app = () => session().app;
const page = () => app().page;
const T = (id: string) => `[data-testid="${id}"]`;

describe('settings you can change, in the browser', () => {
  it('tests and saves a Bitcoin node, with each problem under its field', async () => {
    await app().open(session().host.openUrl);
    await app().nav('settings');
    const form = page().locator(T('bitcoin-node-form'));
    await form.waitFor();
    await form.locator(T('bitcoin-node-own')).check();

    // Credentials in the URL: refused under the field as it is typed, and Save stays off.
    await form.locator(T('bitcoin-url')).fill('http://me:secret@127.0.0.1:18443');
    await form.locator(T('bitcoin-cookie')).fill('/nowhere/.cookie');
    const urlProblem = form.locator(T('bitcoin-url-problem'));
    await expect
      .poll(() => urlProblem.innerText().catch(() => ''), { timeout: 10_000 })
      .toContain('not in the URL');
    expect(await form.locator(T('bitcoin-url')).getAttribute('aria-invalid')).toBe('true');
    expect(await form.locator(T('bitcoin-node-save')).isDisabled()).toBe(true);

    // The host's own bitcoind, as a person's Core: its RPC address and cookie file.
    const [, rpcUrl, cookie] = /RPC (\S+) cookie=(\S+)/.exec(session().host.output()) ?? [];
    expect(rpcUrl, 'the headless host names its bitcoind').toBeTruthy();
    await form.locator(T('bitcoin-url')).fill(rpcUrl!);
    await expect.poll(() => urlProblem.count()).toBe(0);

    // A cookie file that is not there: said when tested, nothing saved.
    await form.locator(T('bitcoin-node-test')).click();
    await expect.poll(() => form.innerText(), { timeout: 15_000 }).toMatch(/nowhere\/\.cookie/);
    await app().shot('73-settings-bitcoin-node-problem');

    await form.locator(T('bitcoin-cookie')).fill(cookie!);
    await form.locator(T('bitcoin-node-test')).click();
    const tested = form.locator(T('bitcoin-node-tested'));
    await tested.waitFor({ timeout: 15_000 });
    const said = await tested.innerText();
    expect(said).toContain('regtest');
    expect(said).toMatch(/Satoshi|Knots/);
    const { height } = (await session().call('status.get')).node as { height: number };
    expect(said).toContain(height.toLocaleString('en-US'));
    expect(await page().locator(T('settings-restart')).count()).toBe(0);

    await form.locator(T('bitcoin-node-save')).click();
    await form.locator(T('bitcoin-node-saved')).waitFor({ timeout: 15_000 });
    expect(await form.locator(T('bitcoin-node-saved')).innerText()).toContain(rpcUrl!);
    await page().locator(T('settings-restart')).waitFor();
    await app().shot('74-settings-bitcoin-node-saved');

    // Saved: the page read again shows it, and a restart is still due.
    await page().reload();
    await page().locator(T('bitcoin-node-form')).waitFor();
    expect(await page().locator(T('bitcoin-url')).inputValue()).toBe(rpcUrl);
    expect(await page().locator(T('bitcoin-cookie')).inputValue()).toBe(cookie);
    await page().locator(T('settings-restart')).waitFor();
    expect((await session().call('settings.saved')).saved.bitcoin.url).toBe(rpcUrl);

    // Back to BitStable's own node: nothing differs from this start, no restart due.
    await page().locator(T('bitcoin-node-managed')).check();
    await page().locator(T('bitcoin-node-save')).click();
    await expect.poll(() => page().locator(T('settings-restart')).count()).toBe(0);
  });

  it('refuses a guardian key for another network and a threshold above the sources on', async () => {
    await app().nav('settings');
    const guardian = page().locator(T('guardian-key-form'));
    await guardian.waitFor();
    const field = guardian.locator(T('guardian-key'));
    const problem = guardian.locator(T('guardian-key-problem'));
    await field.fill(testAccount('e2e-guardian', network('mainnet')).expression);
    await expect.poll(() => problem.innerText().catch(() => ''), { timeout: 10_000 }).not.toBe('');
    expect(await guardian.locator(T('guardian-key-save')).isDisabled()).toBe(true);

    const oracle = page().locator(T('oracle-form'));
    const sources = oracle.locator('input[type="checkbox"]');
    const n = await sources.count();
    for (let i = 0; i < n; i++) await sources.nth(i).uncheck();
    await oracle.locator(T('oracle-source-simulated')).check();
    await oracle.locator(T('oracle-threshold')).fill('2');
    const threshold = oracle.locator(T('oracle-threshold-problem'));
    expect(await threshold.innerText()).toContain('Only 1 source is on');
    await oracle.locator(T('oracle-deviation')).fill('150');
    expect(await oracle.locator(T('oracle-deviation-problem')).innerText()).toBe(
      'Give a share from 0.01 to 100 %, with at most 2 decimals.',
    );
    expect(await oracle.locator(T('oracle-save')).isDisabled()).toBe(true);
    await app().shot('75-settings-refused-under-fields');
    // Both back within bounds: saved, and the next start leaves out answers 3.5 % off.
    await oracle.locator(T('oracle-threshold')).fill('1');
    await oracle.locator(T('oracle-deviation')).fill('3.5');
    await oracle.locator(T('oracle-save')).click();
    await oracle.locator(T('oracle-saved')).waitFor();
    expect((await session().call('settings.saved')).saved.oracle).toMatchObject({
      threshold: 1,
      maxDeviationBps: 350,
    });

    await field.fill(testAccount('e2e-guardian', network('regtest')).expression);
    await expect.poll(() => problem.count(), { timeout: 10_000 }).toBe(0);
    await guardian.locator(T('guardian-key-save')).click();
    await guardian.locator(T('guardian-key-saved')).waitFor();
    await page().locator(T('settings-restart')).waitFor();
    expect((await session().call('settings.saved')).saved.guardianKey).toBe(
      testAccount('e2e-guardian', network('regtest')).expression,
    );
  });

  it('posts alerts to a webhook: a test from Settings, a vault under your own ratio alert, then one entering Warning', async () => {
    // A loopback server standing in for ntfy: what the host posts to it.
    const posted: { path: string; body: Record<string, unknown> }[] = [];
    const server: Server = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        posted.push({ path: req.url ?? '', body: JSON.parse(text) as Record<string, unknown> });
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    onTestFinished(() => new Promise<void>((r) => server.close(() => r())));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    await app().nav('settings');
    const form = page().locator(T('webhook-form'));
    await form.waitFor();
    await form.locator(T('webhook-url')).fill('ntfy.sh/no-scheme');
    await expect
      .poll(
        () =>
          form
            .locator(T('webhook-url-problem'))
            .innerText()
            .catch(() => ''),
        {
          timeout: 10_000,
        },
      )
      .toContain('is not an address');
    await form.locator(T('webhook-url')).fill(`${base}/my-vaults`);
    await expect.poll(() => form.locator(T('webhook-url-problem')).count()).toBe(0);
    await form.locator(T('webhook-test')).click();
    await expect
      .poll(
        () =>
          form
            .locator(T('webhook-status'))
            .innerText()
            .catch(() => ''),
        {
          timeout: 15_000,
        },
      )
      .toContain('Delivered “BitStable test alert”');
    expect(posted).toEqual([
      {
        path: '/',
        body: expect.objectContaining({ topic: 'my-vaults', title: 'BitStable test alert' }),
      },
    ]);
    await form.locator(T('webhook-save')).click();
    await form.locator(T('webhook-saved')).waitFor();
    expect(await page().locator(T('settings-restart')).count()).toBe(1); // the guardian key, above
    expect((await session().call('settings.saved')).saved.webhook).toEqual({
      format: 'ntfy',
      shown: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/my-vaults$/),
    });

    // Your own ratio alert, kept by the host: the webhook posts it too.
    const ratioForm = page().locator(T('ratio-alert-form'));
    await ratioForm.locator(T('ratio-alert')).fill('180');
    await ratioForm.locator(T('ratio-alert-save')).click();
    await expect
      .poll(() => ratioForm.locator(T('ratio-alert-state')).innerText())
      .toBe('Alerting under 180.00 %.');
    expect((await session().call('settings.saved')).saved.ratioAlertBps).toBe(18_000);

    // A vault of this window's account at 173 % (under 180 %), then in Warning: posted with no
    // window involved, the ratio alert once.
    await session().call('regtest.setPrice', { priceCents: 4_500_000 });
    const returnAddress = (await session().call('regtest.newAddress')).address as string;
    const vault = await openActiveVault(session().call, [10_000_000], { returnAddress });
    await session().call('vaults.mint', { vaultId: vault.id, amountCents: 260_000 });
    const underTitle = `Vault #${vault.id} is under your 180.00 % alert`;
    await expect
      .poll(() => posted.map((p) => p.body.title), { timeout: 30_000 })
      .toContain(underTitle);
    expect(posted.find((p) => p.body.title === underTitle)?.body.message).toMatch(
      /^Its ratio is 17\d\.\d\d %\. Repay some debt or add collateral/,
    );
    await session().call('regtest.setPrice', { priceCents: 4_100_000 });
    await expect
      .poll(() => posted.map((p) => p.body.title), { timeout: 30_000 })
      .toContain(`Vault #${vault.id} is in Warning`);
    expect(posted.filter((p) => p.body.title === underTitle)).toHaveLength(1);
    expect(
      posted.find((p) => p.body.title === `Vault #${vault.id} is in Warning`)?.body,
    ).toMatchObject({
      topic: 'my-vaults',
      priority: 4,
    });
    await page().reload();
    await expect
      .poll(
        () =>
          page()
            .locator(T('webhook-status'))
            .innerText()
            .catch(() => ''),
        {
          timeout: 15_000,
        },
      )
      .toMatch(new RegExp(`Delivered “Vault #${vault.id} is in Warning”[\\s\\S]*3 sent, 0 failed`));
    await app().shot('78-settings-webhook');
  });

  it('switches the theme from its card at once, and keeps it across a reload', async () => {
    await app().nav('settings');
    const card = page().locator(T('settings-theme'));
    await card.waitFor();
    const theme = () => page().evaluate(() => document.documentElement.dataset.theme ?? 'dark');
    await card.locator(T('theme-light')).check();
    expect(await theme()).toBe('light');
    await app().shot('79-settings-theme-light');
    await page().reload();
    await page().locator(T('settings-theme')).waitFor();
    expect(await theme()).toBe('light');
    expect(await page().locator(T('theme-light')).isChecked()).toBe(true);
    await page().locator(T('theme-dark')).check();
    expect(await theme()).toBe('dark');
  });
});
