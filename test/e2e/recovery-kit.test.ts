/**
 * Settings as a careful user expects it, in Chromium on local regtest with a guardian who signs
 * by file (BITSTABLE_GUARDIAN_KEY, only the guardian's xpub on the host):
 * - the recovery kit with 1,005 vaults: its Export button at the top of the card, the vaults
 *   summed up in one line and listed 20 at a time on demand (every one in the exported file), the
 *   descriptor copied exactly to the clipboard (and a refused clipboard said so), its QR code on
 *   demand and named for screen readers; no critical or serious axe violation;
 * - the PSBT inspector naming whose signatures a file holds: the emergency exit the person saves
 *   for the guardian (the owner's), the same file once the guardian's own wallet signed it (owner
 *   and guardian: 2 of 3), and a liquidation's settlement saved for the guardian (the protocol's).
 * Screenshots: test-artifacts/e2e/90-… to 95-….
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Psbt } from 'bitcoinjs-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { axeViolations } from './fixtures/axe';
import { keyExpression } from '../../core/bitcoin/keys';
import { network as networkInfo } from '../../core/config/networks';
import { softwareGuardianAccount } from '../../core/keys/node-keys';
import { rootOf } from '../../core/keys/software-key';
import { createVaults, openActiveVault, until } from '../helpers/rpc';
import { useE2eSession } from './fixtures/session';

const net = networkInfo('regtest');
const guardianSeed = randomBytes(32);
const session = useE2eSession('recovery-kit', {
  BITSTABLE_GUARDIAN_KEY: keyExpression(softwareGuardianAccount(guardianSeed, net)),
});
const call = (method: string, params?: unknown) => session().call(method, params);
const app = () => session().app;
const page = () => session().app.page;
const T = (id: string) => `[data-testid="${id}"]`;
const LONG = { timeout: 60_000 };
const VAULTS = 1_005;
const files = mkdtempSync(join(tmpdir(), 'bitstable-e2e-recovery-'));
afterAll(() => rmSync(files, { recursive: true, force: true }));

/** The page's critical and serious axe violations now (test/e2e/fixtures/axe.ts). */
const violations = () => axeViolations(page());

/** Saves what a click downloads into the test's folder; returns its path. */
async function downloadOf(click: () => Promise<void>, name: string): Promise<string> {
  const [download] = await Promise.all([page().waitForEvent('download'), click()]);
  const path = join(files, name);
  await download.saveAs(path);
  return path;
}

describe('Settings: the recovery kit at scale, and whose signatures a PSBT holds', () => {
  it('1,005 vaults: Export at the top, the vaults summed up and paged, the descriptor copied and as a QR code', async () => {
    const { host } = session();
    const started = Date.now();
    await createVaults(host.url, host.token, VAULTS, 'kit');
    const kit = await call('recoveryKit.get');
    const vaults = kit.keySets[0].vaults as { index: number; address: string }[];
    expect(vaults.length, `made in ${Date.now() - started} ms`).toBe(VAULTS);

    await app().open(host.openUrl);
    const settings = await app().settings().show();
    const card = settings.recoveryKit();
    const set = card.locator(T('recovery-key-set')).first();
    await expect
      .poll(() => set.locator(T('recovery-vault-summary')).innerText(), LONG)
      .toBe('1,005 vaults, addresses 0 to 1,004');
    expect(await card.locator(T('recovery-export-note')).innerText()).toBe(
      'The exported kit is one file with the key set and the addresses of all 1,005 vaults.',
    );

    // The Export button is in the card's head, above the key set and its vault list, and the
    // whole card fits in a screen: the 1,005 addresses are not laid out on the page.
    const cardBox = (await card.boundingBox())!;
    const exportBox = (await card.locator(T('export-recovery-kit')).boundingBox())!;
    const listBox = (await set.locator(T('recovery-vaults')).boundingBox())!;
    expect(exportBox.y - cardBox.y).toBeLessThan(60);
    expect(exportBox.y + exportBox.height).toBeLessThan(listBox.y);
    expect(cardBox.height).toBeLessThan(900);
    expect(await set.locator(`${T('recovery-vault')}`).count()).toBeLessThanOrEqual(20);
    expect(await set.locator(T('recovery-vault')).first().isVisible()).toBe(false);
    await card.scrollIntoViewIfNeeded();
    await app().shot('90-recovery-kit-1005-vaults');

    // On demand: 20 at a time, by index, the addresses the kit holds.
    await set.locator(`${T('recovery-vaults')} summary`).click();
    const rows = set.locator(T('recovery-vault'));
    await expect.poll(() => rows.count()).toBe(20);
    const cells = (row: number) => rows.nth(row).locator('td').allInnerTexts();
    expect(await cells(0)).toEqual(['0', vaults[0]!.address, 'kit 1']);
    expect(await set.locator(T('recovery-vaults-range')).innerText()).toBe('1 to 20 of 1,005');
    await set.locator(T('recovery-vaults-next')).click();
    await expect.poll(() => cells(0)).toEqual(['20', vaults[20]!.address, 'kit 21']);
    expect(await cells(19)).toEqual(['39', vaults[39]!.address, 'kit 40']);
    expect(await set.locator(T('recovery-vaults-range')).innerText()).toBe('21 to 40 of 1,005');
    await app().shot('91-recovery-kit-vaults-page-2');

    // The exported file has every vault, the last one too.
    const path = await downloadOf(
      () => card.locator(T('export-recovery-kit')).click(),
      'recovery-kit.json',
    );
    const exported = JSON.parse(readFileSync(path, 'utf8'));
    expect(exported.keySets[0].vaults).toHaveLength(VAULTS);
    expect(exported.keySets[0].vaults[VAULTS - 1]).toMatchObject({
      index: 1_004,
      address: vaults[VAULTS - 1]!.address,
    });

    // Copy: a clipboard the browser refuses is said so; granted, it holds exactly the descriptor.
    const descriptor = await settings.descriptor();
    expect(descriptor).toBe(kit.keySets[0].descriptor);
    const status = set.locator(T('recovery-copy-status'));
    const cdp = await page().context().newCDPSession(page());
    await cdp.send('Browser.setPermission', {
      permission: { name: 'clipboard-write' },
      setting: 'denied',
      origin: host.url,
    });
    await set.locator(T('recovery-copy')).click();
    await expect.poll(() => status.getAttribute('data-state')).toBe('refused');
    expect(await status.innerText()).toMatch(/clipboard was refused/);
    await page()
      .context()
      .grantPermissions(['clipboard-read', 'clipboard-write'], { origin: host.url });
    await set.locator(T('recovery-copy')).click();
    await expect.poll(() => status.innerText()).toBe('Copied');
    expect(await page().evaluate(() => navigator.clipboard.readText())).toBe(descriptor);

    // The QR code, on demand, named for a screen reader.
    await set.locator(T('recovery-qr-toggle')).click();
    const qr = set.getByRole('img', { name: 'QR code of the descriptor of key set 1' });
    await qr.waitFor();
    expect(await qr.getAttribute('data-testid')).toBe('recovery-qr');
    const qrBox = (await qr.boundingBox())!;
    expect(qrBox.width).toBeGreaterThanOrEqual(288);
    expect(await set.locator(T('recovery-qr-toggle')).getAttribute('aria-expanded')).toBe('true');
    await qr.scrollIntoViewIfNeeded();
    await app().shot('92-recovery-kit-qr');

    // Open list, QR and copy note: still nothing critical or serious for axe.
    expect(await violations()).toEqual([]);
  });

  it('the PSBT inspector names the owner, the guardian and the protocol, and says how many of 3 it needs', async () => {
    await call('regtest.setPrice', { priceCents: 4_500_000 });
    const returnAddress = (await call('regtest.newAddress')).address as string;
    // One vault to exit from (no debt), one to be liquidated, one whose bsUSD pays for the take.
    const exit = await openActiveVault(call, [30_000_000]);
    const falling = await openActiveVault(call, [10_000_000], { returnAddress });
    const payer = await openActiveVault(call, [50_000_000], { returnAddress });
    await call('vaults.mint', { vaultId: falling.id, amountCents: 295_000 });
    await call('vaults.mint', { vaultId: payer.id, amountCents: 1_000_000 });

    // The emergency exit, signed by the owner here; the file saved for the guardian.
    const vault = await app().vault(exit.id).show();
    await vault.emergencyExit('Save its PSBT for the guardian');
    const requests = page().locator(T('guardian-requests'));
    await requests.waitFor(LONG);
    const exported = await downloadOf(
      () => requests.locator(T('guardian-export')).first().click(),
      'exit-for-guardian.psbt',
    );

    const settings = await app().settings().show();
    expect(await settings.inspectPsbt(exported)).toEqual([
      'Input 1: signed by you (owner); needs 2 of 3 signatures, 1 more.',
    ]);
    expect(
      await page()
        .locator(`${T('psbt-summary')} p`)
        .innerText(),
    ).toMatch(/^1 input, 1 output, fee [\d,]+ sats, not finalized yet\.$/);
    await page().locator(T('settings-psbt')).scrollIntoViewIfNeeded();
    await app().shot('93-psbt-signed-by-owner');

    // The guardian's own wallet signs it (by the fingerprints and paths in the file).
    const psbt = Psbt.fromBuffer(readFileSync(exported), { network: net.bitcoinjs });
    psbt.signAllInputsHD(rootOf({ seed: guardianSeed }, net));
    const signed = join(files, 'exit-signed-by-guardian.txt');
    writeFileSync(signed, `${psbt.toBase64()}\n`);
    expect(await settings.inspectPsbt(signed)).toEqual([
      'Input 1: signed by you (owner) and the guardian; 2 of 3 signatures, enough to send.',
    ]);
    await app().shot('94-psbt-signed-by-owner-and-guardian');

    // A liquidation's settlement: the protocol signs, then it waits for the guardian's file.
    await call('regtest.setPrice', { priceCents: 4_200_000 });
    await until(
      `vault #${falling.id} liquidating`,
      () => call('vaults.get', { vaultId: falling.id }),
      (v) => v.state === 'liquidating',
    );
    const auction = (await call('auctions.list', { vaultId: falling.id })).auctions[0];
    await call('auctions.take', {
      auctionId: auction.id,
      maxSats: 10_000_000,
      maxPriceCents: 10_000_000,
      btcAddress: (await call('regtest.newAddress')).address,
    });
    await until(
      'the settlement waiting for the guardian',
      () => call('spends.awaitingGuardian'),
      (list: { vaultId: number; kind: string }[]) =>
        list.some((r) => r.vaultId === falling.id && r.kind === 'settlement'),
    );
    await app().vault(falling.id).show();
    const settlement = await downloadOf(
      () =>
        page()
          .locator(`${T('guardian-requests')} ${T('guardian-export')}`)
          .first()
          .click(),
      'settlement-for-guardian.psbt',
    );
    await app().settings().show();
    expect(await settings.inspectPsbt(settlement)).toEqual([
      'Input 1: signed by the protocol; needs 2 of 3 signatures, 1 more.',
    ]);
    await page().locator(T('settings-psbt')).scrollIntoViewIfNeeded();
    await app().shot('95-psbt-signed-by-protocol');
    expect(await violations()).toEqual([]);
  });
});
