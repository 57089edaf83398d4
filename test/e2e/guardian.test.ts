/**
 * The guardian who signs PSBT files, in a real browser against the headless host started with
 * BITSTABLE_GUARDIAN_KEY (only the guardian's xpub) on a real regtest bitcoind. A person makes an
 * emergency exit: the app keeps it waiting for the guardian, the person saves the PSBT, the
 * guardian's own wallet (bitcoinjs with the guardian's seed, in this test process) signs it, a
 * wrong file is refused, the signed file is imported, and the vault closes once it confirms.
 * Screenshots go to test-artifacts/e2e/.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Psbt } from 'bitcoinjs-lib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { keyExpression } from '../../core/bitcoin/keys';
import { network as networkInfo } from '../../core/config/networks';
import { softwareGuardianAccount } from '../../core/keys/node-keys';
import { rootOf } from '../../core/keys/software-key';
import { launchBrowser, type Browser } from './fixtures/browser';
import { startHeadless, type Headless } from './fixtures/headless';
import { BitStableApp } from './pages/app';

const net = networkInfo('regtest');
const guardianSeed = randomBytes(32);
const T = (id: string) => `[data-testid="${id}"]`;
const LONG = { timeout: 60_000 };

let host: Headless | undefined;
let browser: Browser | undefined;
let app: BitStableApp;
const files = mkdtempSync(join(tmpdir(), 'bitstable-e2e-guardian-'));

beforeAll(async () => {
  host = await startHeadless({
    env: { BITSTABLE_GUARDIAN_KEY: keyExpression(softwareGuardianAccount(guardianSeed, net)) },
  });
  browser = await launchBrowser();
  app = new BitStableApp(browser.page, host.url);
});

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail' && browser) {
    await app.shot(`failed-guardian-${ctx.task.name.slice(0, 30).replace(/[^a-z0-9]+/gi, '-')}`);
  }
});

afterAll(async () => {
  await Promise.allSettled([browser?.close(), host?.stop()]);
  rmSync(files, { recursive: true, force: true });
});

describe('a guardian who signs PSBT files, in a browser', () => {
  let vaultId = 0;
  let exported: Buffer;

  it("an emergency exit is signed by the owner and waits for the guardian's file", async () => {
    await app.open(host!.openUrl);
    const create = app.create();
    vaultId = await create.createVault({ label: 'Dana', withReturnAddress: true });
    await create.fundAndConfirm('0.3');
    await create.goToVault();
    const vault = app.vault(vaultId);
    await vault.waitForState('active');
    // Nothing is sent when the owner signs, and the button says so.
    expect(await vault.emergencyExit('Save its PSBT for the guardian', '20-exit-review')).toBe(
      'Sign; the guardian signs next',
    );

    const card = app.page.locator(T('guardian-requests'));
    await card.waitFor(LONG);
    await app.page
      .locator(T('pending-spend'), { hasText: "waits for the guardian's signature" })
      .waitFor();
    await vault.waitForState('active'); // nothing was sent: the coins are still the vault's
    await app.shot('21-guardian-waiting');

    const [download] = await Promise.all([
      app.page.waitForEvent('download'),
      card.locator(T('guardian-export')).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^bitstable-vault-\d+-emergency-exit-\d+\.psbt$/);
    exported = readFileSync((await download.path())!);
    expect(exported.subarray(0, 5)).toEqual(Buffer.from('psbt\xff', 'latin1'));
  });

  it('a file without the guardian signature is refused and changes nothing', async () => {
    const unsigned = join(files, 'unsigned.psbt');
    writeFileSync(unsigned, exported);
    const card = app.page.locator(T('guardian-requests'));
    await card.locator(T('guardian-import')).setInputFiles(unsigned);
    await card.locator(`${T('error')}[data-code="PSBT_INVALID"]`).waitFor(LONG);
    expect(await card.locator(T('error')).innerText()).toContain('no valid signature');
    await app.shot('22-guardian-refused');
    expect(await app.page.locator(T('guardian-export')).count()).toBe(1); // still waiting
  });

  it("the guardian's signed file completes it, and the vault closes when it confirms", async () => {
    // The guardian's own wallet: it finds its key by the fingerprint and path in the PSBT.
    const psbt = Psbt.fromBuffer(exported, { network: net.bitcoinjs });
    psbt.signAllInputsHD(rootOf({ seed: guardianSeed }, net));
    const signed = join(files, 'signed-by-guardian.txt');
    writeFileSync(signed, `${psbt.toBase64()}\n`); // as base64 text this time
    const card = app.page.locator(T('guardian-requests'));
    await card.locator(T('guardian-import')).setInputFiles(signed);
    await card.waitFor({ state: 'detached', ...LONG });
    await app.page.locator(T('pending-spend'), { hasText: 'was broadcast' }).waitFor(LONG);
    // The request left the list, and what it sent is said, with its transaction id.
    expect(await app.page.locator(T('guardian-sent-txid')).innerText()).toMatch(/^[0-9a-f]{64}$/);
    // The coins are on their way out: nothing to mint against, nothing to close.
    const vault = app.vault(vaultId);
    await expect.poll(() => app.page.locator(T('op-tab-mint')).isDisabled(), LONG).toBe(true);
    expect(await app.page.locator(T('op-tab-close')).isDisabled()).toBe(true);
    await app.shot('23a-guardian-sent');
    // The Exit tab picked for the owner's signature gives way, with no click, to what the emptied
    // vault opens on: its result was closed long before the import, and no review is open.
    await expect.poll(() => vault.selectedTab(), LONG).toBe('return');
    expect(await app.page.locator(T('op-tab-exit')).getAttribute('aria-selected')).toBe('false');
    expect(await app.page.locator(T('op-tab-exit')).isDisabled()).toBe(true);
    expect(await app.page.locator(T('exit-destination')).count()).toBe(0);
    await app.shot('23b-guardian-sent-default-tab');

    const regtest = await app.regtest().show();
    await regtest.mine(1);
    await vault.show();
    await vault.waitForState('closed');
    await app.shot('23-guardian-closed');
  });
});
