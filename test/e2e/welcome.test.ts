/**
 * The first start on the regtest playground (issue 15 item 13), in Chromium: the dashboard says
 * that nothing here is real money and lists the life of a vault as six steps; each ticks itself as
 * the node reports it done (here driven through the API, as the UI's own buttons would), and the
 * guide stays hidden once hidden, across a reload. Screenshots: test-artifacts/e2e/71-… and 72-….
 */
import { describe, expect, it } from 'vitest';
import { until } from '../helpers/rpc';
import { useE2eSession } from './fixtures/session';

const session = useE2eSession('welcome');
const call = (method: string, params?: unknown) => session().call(method, params);
const app = () => session().app;
const T = (id: string) => `[data-testid="${id}"]`;

describe('the regtest welcome, in the browser', () => {
  it('says it is not real money, ticks each step as it is done, and stays hidden once hidden', async () => {
    await app().open(session().host.openUrl);
    const welcome = app().page.locator(T('welcome'));
    await welcome.waitFor();
    expect(await welcome.innerText()).toContain('Nothing here is real money.');
    expect(await app().page.locator(T('network-name')).innerText()).toContain('not real money');
    const steps = welcome.locator(T('welcome-steps'));
    const done = () =>
      steps
        .locator('li')
        .evaluateAll((lis) =>
          lis
            .filter((li) => li.getAttribute('data-done') === 'true')
            .map((li) => li.getAttribute('data-step')),
        );
    expect(await done()).toEqual([]);
    await app().shot('71-welcome-first-start');

    const expectDone = (list: string[]) => expect.poll(done, { timeout: 30_000 }).toEqual(list);
    const returnAddress = (await call('regtest.newAddress')).address as string;
    const vault = await call('vaults.create', { returnAddress });
    await expectDone(['open']);
    await call('regtest.faucet', { address: vault.address, amountSats: 10_000_000 });
    await expectDone(['open', 'fund']);
    await call('regtest.mine', { blocks: 1 });
    await until(
      'the vault active',
      () => call('vaults.get', { vaultId: vault.id }),
      (v) => v.state === 'active',
    );
    await expectDone(['open', 'fund', 'confirm']);
    await call('regtest.setPrice', { priceCents: 4_500_000 });
    await call('vaults.mint', { vaultId: vault.id, amountCents: 260_000 });
    await expectDone(['open', 'fund', 'confirm', 'mint', 'price']);
    // Under 150 %: its auction starts.
    await call('regtest.setPrice', { priceCents: 3_800_000 });
    await expectDone(['open', 'fund', 'confirm', 'mint', 'price', 'auction']);
    expect(await welcome.locator(T('welcome-hide')).innerText()).toContain('Done');
    await app().shot('72-welcome-all-done');

    await welcome.locator(T('welcome-hide')).click();
    expect(await welcome.count()).toBe(0);
    await app().page.reload();
    await app().page.locator(T('page-dashboard')).waitFor();
    await app().page.locator(T('vault-table')).waitFor();
    expect(await app().page.locator(T('welcome')).count()).toBe(0);
  });
});
