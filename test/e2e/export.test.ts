/**
 * CSV exports for taxes, and the vault history chart (the issue "the app as a careful user
 * expects it"), in Chromium on local regtest. A vault labelled with a comma and quotes gets a
 * deposit, a mint, a repay and a withdrawal; its Export CSV downloads a file with one row for
 * each, the amounts exact, the txids of its deposit and withdrawal, the label intact. The bsUSD
 * statement, longer than the page on screen, exports every entry, a memo with a comma intact.
 * After a few price rounds the chart's time axis has distinct ticks and the liquidation price
 * and ratio are marked and labelled. axe finds nothing critical or serious on either page.
 * Screenshots: test-artifacts/e2e/96-….
 */
import { describe, expect, it } from 'vitest';
import { axeViolations } from './fixtures/axe';
import { until } from '../helpers/rpc';
import { useE2eSession } from './fixtures/session';

const session = useE2eSession('export');
const call = (method: string, params?: unknown) => session().call(method, params);
const app = () => session().app;
const T = (id: string) => `[data-testid="${id}"]`;

/** RFC 4180, read independently of the app's writer: records of fields, quotes undone. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i++;
    } else field += c;
  }
  if (field !== '' || record.length > 0) throw new Error('the last record has no CRLF');
  return records;
}

/** The records as objects by the header's names. */
function rowsOf(text: string): { header: string[]; rows: Record<string, string>[] } {
  const [header, ...rest] = parseCsv(text);
  for (const r of rest) expect(r).toHaveLength(header!.length);
  return {
    header: header!,
    rows: rest.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i]!]))),
  };
}

/** "-1234.56" → -123456, read as text (no floating point). */
const units = (text: string, places: number): number => {
  const m = new RegExp(`^(-?)(\\d+)\\.(\\d{${places}})$`).exec(text);
  if (!m) throw new Error(`not a ${places}-place decimal: ${text}`);
  return (m[1] ? -1 : 1) * (Number(m[2]) * 10 ** places + Number(m[3]));
};

/** A date the export wrote: ISO 8601 in UTC, within the test's run. */
function checkDate(text: string, since: number): void {
  expect(text).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  const ms = Date.parse(text);
  expect(ms).toBeGreaterThanOrEqual(since - 1_000);
  expect(ms).toBeLessThanOrEqual(Date.now());
}

/** The page's critical and serious axe violations now (test/e2e/fixtures/axe.ts). */
const violations = () => axeViolations(app().page);

const LABEL = 'Alice, "tax" vault';
const MEMO = 'rent, "March"';

describe('CSV exports and the history chart, in the browser', () => {
  const started = Date.now();
  let vaultId = 0;

  it("exports a vault's deposit, mint, repay and withdrawal, exactly, with txids", async () => {
    await call('regtest.setPrice', { priceCents: 4_500_000 });
    const returnAddress = (await call('regtest.newAddress')).address as string;
    const vault = await call('vaults.create', { label: LABEL, returnAddress });
    vaultId = vault.id;
    const deposit = (
      await call('regtest.faucet', { address: vault.address, amountSats: 10_000_000 })
    ).txid as string;
    await call('regtest.mine', { blocks: 1 });
    await until(
      'the vault active with its deposit',
      () => call('vaults.get', { vaultId }),
      (v) => v.state === 'active' && v.collateralSats === 10_000_000,
    );

    await app().open(session().host.openUrl);
    const page = await app().vault(vaultId).show();
    await page.changeDebt('mint', '1000');
    await page.changeDebt('repay', '250.50');
    await app().page.locator(T('vault-debt'), { hasText: '749.50 bsUSD' }).waitFor();
    // A withdrawal of 0.02 BTC, reviewed and signed through the API.
    const destination = (await call('regtest.newAddress')).address as string;
    const preview = await call('vaults.previewWithdraw', {
      vaultId,
      amountSats: 2_000_000,
      destination,
    });
    const sent = await call('vaults.withdraw', { vaultId, spendId: preview.spendId });
    await call('regtest.mine', { blocks: 1 });
    const after = await until(
      'the withdrawal out of the collateral',
      () => call('vaults.get', { vaultId }),
      (v) => v.collateralSats === 10_000_000 - 2_000_000 - sent.feeSats && !v.pendingSpend,
    );
    await app().page.locator(T('vault-collateral'), { hasText: '0.07' }).waitFor();
    await app().shot('96-vault-export');

    const file = await page.exportCsv();
    expect(file.name).toBe(`bitstable-vault-${vaultId}-history-regtest.csv`);
    const { header, rows } = rowsOf(file.text);
    expect(header).toEqual([
      'date_utc',
      'type',
      'collateral_change_btc',
      'collateral_after_btc',
      'debt_change_bsusd',
      'debt_after_bsusd',
      'network_fee_btc',
      'txid',
      'vault_id',
      'vault_label',
    ]);
    // Oldest first: what happened, in order, with the amounts as typed and as sent.
    const fee = (sent.feeSats as number).toString().padStart(8, '0');
    expect(rows.map((r) => [r.type, r.collateral_change_btc, r.debt_change_bsusd])).toEqual([
      ['deposit', '0.10000000', '0.00'],
      ['mint', '0.00000000', '1000.00'],
      ['repay', '0.00000000', '-250.50'],
      // What left the vault: the 0.02 BTC sent and the network fee (under 1 BTC, so 0.xxxxxxxx).
      ['withdraw', `-0.${String(2_000_000 + sent.feeSats).padStart(8, '0')}`, '0.00'],
    ]);
    expect(rows[3]!.network_fee_btc).toBe(`0.${fee}`);
    expect(rows.map((r) => r.txid)).toEqual([deposit, '', '', sent.txid]);
    expect(rows.map((r) => r.debt_after_bsusd)).toEqual(['0.00', '1000.00', '749.50', '749.50']);
    expect(units(rows[3]!.collateral_after_btc!, 8)).toBe(after.collateralSats);
    for (const r of rows) {
      checkDate(r.date_utc!, started);
      expect(r.vault_id).toBe(String(vaultId));
      // The comma and the quotes survive the round trip.
      expect(r.vault_label).toBe(LABEL);
    }
    const dates = rows.map((r) => Date.parse(r.date_utc!));
    expect(dates).toEqual([...dates].sort((a, b) => a - b));
  });

  it('marks the liquidation price and ratio on a chart whose time ticks are distinct', async () => {
    // A few price rounds, each accepted.
    for (const priceCents of [4_400_000, 4_600_000, 4_300_000, 4_500_000])
      await call('regtest.setPrice', { priceCents });
    const vault = app().vault(vaultId);
    await vault.show();
    // Fresh points: the chart asks again as the price moves.
    await app().page.reload();
    await vault.show();
    for (const chart of ['ratio', 'price'] as const) {
      const ticks = await vault.chartTimeTicks(chart);
      expect(ticks.length, ticks.join(' | ')).toBeGreaterThanOrEqual(3);
      expect(new Set(ticks).size, ticks.join(' | ')).toBe(ticks.length);
    }
    const liqPrice = await app()
      .page.locator(`${T('vault-liquidation-price')} .num`)
      .innerText();
    expect(await vault.chartReferenceLines('price')).toEqual({
      lines: 1,
      labels: [`Liquidation price ${liqPrice}`],
    });
    expect(await vault.chartReferenceLines('ratio')).toEqual({
      lines: 2,
      labels: ['Liquidation 150.00 %', 'Warning 160.00 %'],
    });
    // The text alternative says the same in words.
    expect(await app().page.locator(T('chart-summary')).textContent()).toContain(
      `liquidated if it falls under ${liqPrice}`,
    );
    await app().page.locator(T('history-chart')).scrollIntoViewIfNeeded();
    await app().shot('96a-history-chart');
    expect(await violations()).toEqual([]);
    // On a small laptop's window the header's button and the charts fit in it (once the charts
    // have followed the window's new width).
    const size = app().page.viewportSize()!;
    await app().page.setViewportSize({ width: 1024, height: 700 });
    const wide = () =>
      app().page.evaluate(() =>
        [...document.querySelectorAll('main .card, main .page-head, .recharts-wrapper')]
          .filter(
            (el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1,
          )
          .map((el) => el.className),
      );
    await expect.poll(wide, { timeout: 5_000 }).toEqual([]);
    await app().shot('96c-vault-1024');
    await app().page.setViewportSize(size);
  });

  it('exports every entry of the bsUSD statement, not only the page on screen', async () => {
    const bob = (await call('playground.addAccount', { label: 'Bob' })).accountId as string;
    // 30 small transfers through the API, one through the Send form with a memo to keep.
    for (let n = 1; n <= 30; n++)
      await call('bsusd.transfer', { to: bob, amountCents: n, memo: `gift ${n}` });
    const money = await app().money().show();
    await money.send(bob, '12.34', MEMO);
    await app().page.locator(T('statement-line')).first().waitFor();
    const { total } = await call('bsusd.statement', { limit: 1 });
    expect(total).toBe(33); // the mint, the repay and 31 transfers
    expect(await app().page.locator(T('statement-line')).count()).toBe(25);
    await app().shot('96b-statement-export');

    const file = await money.exportCsv();
    expect(file.name).toBe('bitstable-bsusd-statement-regtest.csv');
    const { header, rows } = rowsOf(file.text);
    expect(header).toEqual([
      'date_utc',
      'entry_id',
      'type',
      'amount_bsusd',
      'balance_after_bsusd',
      'vault_id',
      'counterparty',
      'memo',
    ]);
    expect(rows).toHaveLength(33);
    expect(rows.slice(0, 2).map((r) => [r.type, r.amount_bsusd, r.vault_id])).toEqual([
      ['mint', '1000.00', String(vaultId)],
      ['repay', '-250.50', String(vaultId)],
    ]);
    const transfers = rows.slice(2);
    expect(transfers.map((r) => r.amount_bsusd)).toEqual([
      ...Array.from({ length: 30 }, (_, i) => `-0.${String(i + 1).padStart(2, '0')}`),
      '-12.34',
    ]);
    expect(transfers.every((r) => r.type === 'transfer' && r.counterparty === bob)).toBe(true);
    expect(transfers.at(-1)!.memo).toBe(MEMO);
    // Each balance is the one before it and the amount, to the cent; the last is the balance now.
    let balance = 0;
    for (const r of rows) {
      balance += units(r.amount_bsusd!, 2);
      expect(units(r.balance_after_bsusd!, 2)).toBe(balance);
      checkDate(r.date_utc!, started);
    }
    expect(balance).toBe(await app().balanceCents());
    expect(new Set(rows.map((r) => r.entry_id)).size).toBe(33);
    expect(await violations()).toEqual([]);
  });
});
