/**
 * Page objects for the BitStable UI: each knows its page's test ids, so the scenarios read as
 * what a person does.
 */
import type { Locator, Page } from 'playwright-core';
import { screenshot } from '../fixtures/browser';

const T = (id: string) => `[data-testid="${id}"]`;
const LONG = { timeout: 60_000 };

export class BitStableApp {
  constructor(
    readonly page: Page,
    readonly baseUrl: string,
  ) {}

  /** Opens the printed link (token in the fragment) and waits for the dashboard. */
  async open(openUrl: string): Promise<DashboardPage> {
    await this.page.goto(openUrl);
    await this.page.locator(T('page-dashboard')).waitFor(LONG);
    return new DashboardPage(this);
  }

  async go(hash: string): Promise<void> {
    await this.page.evaluate((h) => (window.location.hash = h), hash);
  }

  async nav(
    name: 'dashboard' | 'create' | 'money' | 'auctions' | 'regtest' | 'settings',
  ): Promise<void> {
    await this.page.locator(T(`nav-${name}`)).click();
  }

  shot(name: string): Promise<string> {
    return screenshot(this.page, name);
  }

  /** The bsUSD balance in the sidebar, in cents. */
  async balanceCents(): Promise<number> {
    return Number(await this.page.locator(T('bsusd-balance')).getAttribute('data-cents'));
  }

  /** Clicks `button` and reads the file the browser downloads: its suggested name and text. */
  async downloadFrom(button: Locator): Promise<{ name: string; text: string }> {
    const [file] = await Promise.all([this.page.waitForEvent('download', LONG), button.click()]);
    const path = await file.path();
    const { readFile } = await import('node:fs/promises');
    return { name: file.suggestedFilename(), text: await readFile(path, 'utf8') };
  }

  async waitForBalance(cents: number): Promise<void> {
    await this.page.locator(`${T('bsusd-balance')}[data-cents="${cents}"]`).waitFor(LONG);
  }

  dashboard = () => new DashboardPage(this);
  create = () => new CreateVaultPage(this);
  vault = (id: number) => new VaultPage(this, id);
  auctions = () => new AuctionsPage(this);
  regtest = () => new RegtestPage(this);
  settings = () => new SettingsPage(this);
  money = () => new MoneyPage(this);
}

export class DashboardPage {
  constructor(readonly app: BitStableApp) {}
  get page() {
    return this.app.page;
  }
  async show(): Promise<this> {
    await this.app.nav('dashboard');
    await this.page.locator(T('page-dashboard')).waitFor();
    return this;
  }
  row(vaultId: number): Locator {
    return this.page.locator(T(`vault-row-${vaultId}`));
  }
  async waitForState(vaultId: number, state: string): Promise<void> {
    await this.page.locator(`${T(`vault-row-${vaultId}`)}[data-state="${state}"]`).waitFor(LONG);
  }
  async sortBy(key: 'id' | 'state' | 'collateral' | 'debt' | 'ratio'): Promise<void> {
    await this.page.locator(T(`sort-${key}`)).click();
  }
}

export class CreateVaultPage {
  constructor(readonly app: BitStableApp) {}
  get page() {
    return this.app.page;
  }
  /** Walks the three steps; returns the new vault's id (the deposit step is left open). */
  async createVault(opts: {
    label: string;
    plannedBtc?: string;
    withReturnAddress?: boolean;
    shot?: string;
  }): Promise<number> {
    await this.app.nav('create');
    await this.page.locator(T('step-key')).waitFor();
    await this.page.locator(T('software-key-step')).waitFor();
    if (opts.shot) await this.app.shot(`${opts.shot}-1-key`);
    await this.page.locator(T('key-continue')).click();
    await this.page.locator(T('vault-label')).fill(opts.label);
    if (opts.plannedBtc) await this.page.locator(T('vault-planned')).fill(opts.plannedBtc);
    if (opts.withReturnAddress) {
      await this.page.getByRole('button', { name: 'Use a regtest wallet address' }).click();
      await this.page.waitForFunction(() =>
        (
          document.querySelector<HTMLInputElement>('[data-testid="vault-return"]')?.value ?? ''
        ).startsWith('bcrt1'),
      );
    }
    await this.page.locator(T('create-submit')).click();
    await this.page.locator(T('step-deposit')).waitFor(LONG);
    await this.page.locator(T('deposit-address')).waitFor();
    if (opts.shot) await this.app.shot(`${opts.shot}-2-deposit`);
    const title = await this.page.locator(`${T('step-deposit')} h2`).innerText();
    return Number(/#(\d+)/.exec(title)![1]);
  }
  /** Regtest: funds the shown deposit address from the faucet and mines a block; waits for Active. */
  async fundAndConfirm(btc: string): Promise<void> {
    await this.page.locator(T('fund-amount')).fill(btc);
    await this.page.locator(T('fund-from-faucet')).click();
    await this.page.locator(T('incoming')).waitFor(LONG);
    await this.page.locator(T('mine-one')).click();
    await this.page
      .locator(`${T('deposit-panel')} ${T('vault-state')}[data-state="active"]`)
      .waitFor(LONG);
  }
  async goToVault(): Promise<void> {
    await this.page.locator(T('go-to-vault')).click();
    await this.page.locator(T('page-vault')).waitFor();
  }
}

export class VaultPage {
  constructor(
    readonly app: BitStableApp,
    readonly id: number,
  ) {}
  get page() {
    return this.app.page;
  }
  async show(): Promise<this> {
    await this.app.go(`#/vaults/${this.id}`);
    await this.page.locator(`${T('page-vault')}[data-vault-id="${this.id}"]`).waitFor(LONG);
    return this;
  }
  async waitForState(state: string): Promise<void> {
    await this.page
      .locator(`${T('page-vault')} header ${T('vault-state')}[data-state="${state}"]`)
      .waitFor(LONG);
  }
  async debtText(): Promise<string> {
    return this.page.locator(T('vault-debt')).innerText();
  }
  /** Clicks Export CSV; the file the browser saved: its suggested name and its text. */
  exportCsv(): Promise<{ name: string; text: string }> {
    return this.app.downloadFrom(this.page.locator(T('vault-export-csv')));
  }
  /** The history chart's time-axis tick labels, as drawn (each small chart has the same axis). */
  async chartTimeTicks(chart: 'ratio' | 'price'): Promise<string[]> {
    const ticks = this.page.locator(
      `${T(`${chart}-chart`)} .recharts-xAxis-tick-labels .recharts-cartesian-axis-tick-value`,
    );
    await ticks.first().waitFor(LONG);
    return ticks.allTextContents();
  }
  /** The history chart's reference lines: how many are drawn, and their labels. */
  async chartReferenceLines(
    chart: 'ratio' | 'price',
  ): Promise<{ lines: number; labels: string[] }> {
    const box = this.page.locator(T(`${chart}-chart`));
    return {
      lines: await box.locator('.recharts-reference-line-line').count(),
      labels: await box.locator('.reference-label').allTextContents(),
    };
  }
  /** The operation tab shown now ('repay', 'exit', …), by aria-selected; null when none is. */
  async selectedTab(): Promise<string | null> {
    const ids = await this.page
      .locator(`${T('operations')} [role="tab"][aria-selected="true"]`)
      .evaluateAll((tabs) => tabs.map((t) => t.id));
    return ids[0]?.replace(/^tab-/, '') ?? null;
  }
  private async tab(name: string): Promise<void> {
    await this.page.locator(T(`op-tab-${name}`)).click();
  }
  /** Mint or repay through the review dialog. `amount` as typed ("25000", or null for "All"). */
  async changeDebt(kind: 'mint' | 'repay', amount: string | null, shot?: string): Promise<void> {
    await this.tab(kind);
    if (amount === null) await this.page.getByRole('button', { name: 'All', exact: true }).click();
    else await this.page.locator(T(`${kind}-amount`)).fill(amount);
    await this.page.locator(T(`${kind}-review`)).click();
    const dialog = this.page.locator(T(`${kind}-dialog`));
    await dialog.locator(T(`${kind}-confirm`)).waitFor();
    if (shot) await this.app.shot(shot);
    await dialog.locator(T(`${kind}-confirm`)).click();
    await dialog.locator(T('op-result')).waitFor(LONG);
    await dialog.locator(T('op-done')).click();
  }
  /**
   * Close the vault to a fresh regtest wallet address, through the review step. With `keepResult`
   * its result is left open in the dialog (the caller closes it).
   */
  async close(shot?: string, opts: { keepResult?: boolean } = {}): Promise<void> {
    await this.spendAll('close', 'Signed and broadcast', shot, opts.keepResult);
  }
  /** Emergency exit to a fresh regtest wallet address; `prompt` is the signer's last words. */
  /** Returns what the confirm button said (it names the guardian's turn when they sign by file). */
  async emergencyExit(prompt: string, shot?: string): Promise<string> {
    return await this.spendAll('exit', prompt, shot);
  }
  private async spendAll(
    kind: 'close' | 'exit',
    prompt: string,
    shot?: string,
    keepResult = false,
  ): Promise<string> {
    await this.tab(kind);
    // A mainnet address pasted into a regtest app is named under the field; no review.
    await this.page
      .locator(T(`${kind}-destination`))
      .fill('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4');
    await this.page
      .locator(T(`${kind}-destination-problem`), { hasText: 'That is a mainnet address' })
      .waitFor();
    if (!(await this.page.locator(T(`${kind}-review`)).isDisabled()))
      throw new Error('Review stayed enabled for a mainnet address');
    await this.page.locator(T(`${kind}-use-wallet`)).click();
    await this.page.waitForFunction(
      (k) =>
        (
          document.querySelector<HTMLInputElement>(`[data-testid="${k}-destination"]`)?.value ?? ''
        ).startsWith('bcrt1'),
      kind,
    );
    await this.page.locator(T(`${kind}-review`)).click();
    const dialog = this.page.locator(T(`${kind}-dialog`));
    await dialog.locator(T('review-outputs')).waitFor(LONG);
    if (shot) await this.app.shot(shot);
    const said = await dialog.locator(T(`${kind}-confirm`)).innerText();
    await dialog.locator(T(`${kind}-confirm`)).click();
    await dialog.locator(T('op-result')).waitFor(LONG);
    // The signer's prompts were shown as it signed.
    await this.page.locator(T('device-prompts'), { hasText: prompt }).waitFor();
    if (!keepResult) await dialog.locator(T('op-done')).click();
    return said;
  }
}

export class AuctionsPage {
  constructor(readonly app: BitStableApp) {}
  get page() {
    return this.app.page;
  }
  async show(): Promise<this> {
    await this.app.nav('auctions');
    await this.page.locator(T('page-auctions')).waitFor();
    return this;
  }
  /** The live auction of a vault: its row in the table. */
  row(vaultId: number): Locator {
    return this.page.locator(`${T('live-auctions')} tr[data-vault-id="${vaultId}"]`);
  }
  /** Opens the take dialog of a vault's auction (its amount, the whole lot left). */
  async openTake(vaultId: number): Promise<Locator> {
    const row = this.row(vaultId);
    await row.waitFor(LONG);
    await row.locator(T('take-open')).click();
    const dialog = this.page.locator(`${T('take-dialog')}[open]`);
    await dialog.locator(T('take-amount')).waitFor();
    return dialog;
  }
  /** Takes enough of vault's lot to cover the tab (the default amount), paid to a regtest wallet address. */
  async takeCovering(vaultId: number, shot?: string): Promise<string> {
    const form = await this.openTake(vaultId);
    await form.locator(T('take-use-wallet')).click();
    await this.page.waitForFunction(() =>
      (
        document.querySelector<HTMLInputElement>('dialog[open] [data-testid="take-address"]')
          ?.value ?? ''
      ).startsWith('bcrt1'),
    );
    await form.locator(T('take-review')).click();
    const dialog = this.page.locator(`${T('take-dialog')}[open]`);
    await dialog.locator(T('take-confirm')).waitFor();
    if (shot) await this.app.shot(shot);
    await dialog.locator(T('take-confirm')).click();
    const result = this.page.locator(T('take-result'));
    await result.waitFor(LONG);
    return result.innerText();
  }
}

export class RegtestPage {
  constructor(readonly app: BitStableApp) {}
  get page() {
    return this.app.page;
  }
  async show(): Promise<this> {
    await this.app.nav('regtest');
    await this.page.locator(T('page-regtest')).waitFor();
    return this;
  }
  async mine(blocks: number): Promise<void> {
    await this.page.locator(T('mine-blocks')).fill(String(blocks));
    const before = await this.page.locator(T('regtest-height')).innerText();
    await this.page.locator(T('mine-submit')).click();
    await this.page.waitForFunction(
      (b) => document.querySelector('[data-testid="regtest-height"]')?.textContent !== b,
      before,
      LONG,
    );
  }
  async setPrice(usd: string): Promise<void> {
    await this.page.locator(T('set-price')).fill(usd);
    await this.page.locator(T('set-price-submit')).click();
    await this.page.locator(`${T('set-price-result')}.ok-text`).waitFor(LONG);
    const cents = Math.round(Number(usd) * 100);
    await this.page
      .locator(`${T('topbar-price')}`)
      .filter({
        hasText: `$${(cents / 100).toLocaleString('en-US', { minimumFractionDigits: 2 })}`,
      })
      .waitFor(LONG);
  }
}

export class SettingsPage {
  constructor(readonly app: BitStableApp) {}
  get page() {
    return this.app.page;
  }
  async show(): Promise<this> {
    await this.app.nav('settings');
    await this.page.locator(T('page-settings')).waitFor();
    await this.page.locator(T('recovery-descriptor')).first().waitFor();
    return this;
  }
  descriptor(): Promise<string> {
    return this.page.locator(T('recovery-descriptor')).first().innerText();
  }
  /** The recovery kit card. */
  recoveryKit(): Locator {
    return this.page.locator(T('settings-recovery'));
  }
  /** Opens a PSBT file in the inspector; returns the line said of each input (or run of inputs). */
  async inspectPsbt(path: string): Promise<string[]> {
    const card = this.page.locator(T('settings-psbt'));
    await card.locator(T('psbt-file')).setInputFiles(path);
    const name = path.split('/').pop()!;
    await card.locator(`${T('psbt-summary')}[data-file="${name}"]`).waitFor(LONG);
    return card.locator(T('psbt-input-signers')).allInnerTexts();
  }
}

export class MoneyPage {
  constructor(readonly app: BitStableApp) {}
  get page() {
    return this.app.page;
  }
  async show(): Promise<this> {
    await this.app.nav('money');
    await this.page.locator(T('money-page')).waitFor();
    await this.page.locator(T('account-id')).waitFor();
    return this;
  }
  accountId(): Promise<string> {
    return this.page.locator(T('account-id')).innerText();
  }
  /** Fills Send, reviews, confirms; returns the confirmation's text. */
  async send(to: string, amount: string, memo: string, shot?: string): Promise<string> {
    await this.page.locator(T('send-to')).fill(to);
    await this.page.locator(T('send-amount')).fill(amount);
    await this.page.locator(T('send-memo')).fill(memo);
    await this.page.locator(T('send-review-button')).click();
    await this.page.locator(T('send-review')).waitFor();
    if (shot) await this.app.shot(shot);
    await this.page.locator(T('send-confirm')).click();
    const done = this.page.locator(T('send-done'));
    await done.waitFor(LONG);
    return done.innerText();
  }
  /** Clicks the statement's Export CSV; the file the browser saved: its name and its text. */
  exportCsv(): Promise<{ name: string; text: string }> {
    return this.app.downloadFrom(this.page.locator(T('statement-export-csv')));
  }
  statementKinds(): Promise<string[]> {
    return this.page
      .locator(T('statement-line'))
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-kind') ?? ''));
  }
}
