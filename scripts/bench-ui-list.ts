/**
 * Benchmark of the vault list in the browser (issue 15 item 10), on the headless host (local
 * regtest, real SQLite) with 10,000 vaults (50 funded, the rest empty Pending), in Chromium:
 *
 *   bench ui_list vaults=10000 first_rows_ms_p50=… first_rows_ms_p99=… search_ms_p50=… search_ms_p99=… search_driver_ms_p99=… naive_search_ms_p99=… api_search_ms_p99=…
 *
 * - first_rows: a fresh load of the app until the list's first row is on screen.
 * - search: "#n" typed into the search box, timed in the page from the Enter key to the first
 *   frame in which vault n is the one row shown (the server filters, sorts and pages).
 * - search_driver: the same searches as the test driver sees them, its own round trips to the
 *   browser included (fill, press, polling for the row): what search measured until stop 28.
 * - api_search: the same search as one vaults.list call from Node (the server's share of it).
 * - naive_search: the same question answered in the page by a client-side scan: every vault
 *   fetched, 500 a page, and filtered there.
 * Targets: first rows p99 < 1,000 ms, search p99 < 100 ms. Run: npx tsx scripts/bench-ui-list.ts
 */
import { pathToFileURL } from 'node:url';
import { launchBrowser } from '../test/e2e/fixtures/browser';
import { startHeadless } from '../test/e2e/fixtures/headless';
import { createVaults, rpcCall } from '../test/helpers/rpc';
import { pct } from './bench/percentile';

const VAULTS = 10_000;
const FUNDED = 50;

export async function main(options: { print?: boolean } = {}): Promise<string> {
  const host = await startHeadless();
  const browser = await launchBrowser().catch(async (err: unknown) => {
    await host.stop();
    throw err;
  });
  try {
    const call = (method: string, params: unknown = {}) =>
      rpcCall(host.url, host.token, method, params);
    const ids = await createVaults(host.url, host.token, VAULTS, 'bench');
    for (const [n, id] of ids.slice(0, FUNDED).entries()) {
      const { address } = await call('vaults.get', { vaultId: id });
      await call('regtest.faucet', { address, amountSats: 100_000 });
      // The miner's change stays unconfirmed until a block: a chain of 25 at most.
      if (n % 20 === 19) await call('regtest.mine', { blocks: 1 });
    }
    await call('regtest.mine', { blocks: 1 });
    const { page } = browser;
    const firstRow = page.locator('[data-testid="vault-table"] tbody tr').first();

    const firstRows: number[] = [];
    for (let i = 0; i < 21; i++) {
      await page.goto('about:blank');
      const t = performance.now();
      await page.goto(host.openUrl);
      await firstRow.waitFor({ timeout: 60_000 });
      if (i > 0) firstRows.push(performance.now() - t); // the first load compiles the bundle
    }

    const search = page.locator('[data-testid="vault-search"]');
    const rows = page.locator('[data-testid="vault-table"] tbody tr');
    const searches: number[] = [];
    const driven: number[] = [];
    for (let i = 0; i < 40; i++) {
      const id = ids[(i * 2_477 + 311) % ids.length]!;
      // Timed in the page, from the Enter key to the first frame that shows the one row, as the
      // naive scan below is: the driver's own round trips (fill, press, polling) are not what a
      // person waits for. The driver's view is kept beside it (search_driver).
      // (A string: the bundler names the inner functions with a helper the page does not have.)
      await page.evaluate(`void (window.searched = new Promise((done) => {
        const box = document.querySelector('[data-testid="vault-search"]');
        box.addEventListener('keydown', function onKey(e) {
          if (e.key !== 'Enter') return;
          box.removeEventListener('keydown', onKey);
          const t = performance.now();
          requestAnimationFrame(function frame() {
            const shown = document.querySelectorAll('[data-testid="vault-table"] tbody tr');
            if (shown.length === 1 && document.querySelector('[data-testid="vault-row-${id}"]'))
              done(performance.now() - t);
            else requestAnimationFrame(frame);
          });
        });
      }))`);
      const t = performance.now();
      await search.fill(`#${id}`);
      await search.press('Enter');
      await page.locator(`[data-testid="vault-row-${id}"]`).waitFor({ timeout: 10_000 });
      await page.waitForFunction(
        () => document.querySelectorAll('[data-testid="vault-table"] tbody tr').length === 1,
      );
      driven.push(performance.now() - t);
      searches.push(
        await page.evaluate(() => (window as unknown as { searched: Promise<number> }).searched),
      );
    }
    if ((await rows.count()) !== 1) throw new Error('the search did not narrow the list to one');
    const api: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t = performance.now();
      await call('vaults.list', { search: `#${ids[i * 7]}`, hideEmptyPending: false, limit: 50 });
      api.push(performance.now() - t);
    }

    const naive: number[] = [];
    for (let i = 0; i < 10; i++) {
      const id = ids[(i * 3_571 + 97) % ids.length]!;
      const ms = await page.evaluate(
        async ({ url, token, id }) => {
          const t = performance.now();
          const found: number[] = [];
          for (let offset = 0; ; offset += 500) {
            const res = await fetch(`${url}/rpc`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
              body: JSON.stringify({
                jsonrpc: '2.0',
                id: 1,
                method: 'vaults.list',
                params: { offset, limit: 500 },
              }),
            });
            const { result } = (await res.json()) as {
              result: { total: number; items: { id: number }[] };
            };
            for (const v of result.items) if (v.id === id) found.push(v.id);
            if (offset + 500 >= result.total) break;
          }
          if (found.length !== 1) throw new Error(`the scan found ${found.length} vaults`);
          return performance.now() - t;
        },
        { url: host.url, token: host.token, id },
      );
      naive.push(ms);
    }

    const line =
      `bench ui_list vaults=${VAULTS} first_rows_ms_p50=${pct(firstRows, 0.5).toFixed(1)} first_rows_ms_p99=${pct(firstRows, 0.99).toFixed(1)} ` +
      `search_ms_p50=${pct(searches, 0.5).toFixed(1)} search_ms_p99=${pct(searches, 0.99).toFixed(1)} ` +
      `search_driver_ms_p99=${pct(driven, 0.99).toFixed(1)} naive_search_ms_p99=${pct(naive, 0.99).toFixed(1)} api_search_ms_p99=${pct(api, 0.99).toFixed(1)} target_first_rows_ms_p99=1000 target_search_ms_p99=100`;
    if (options.print !== false) console.log(line);
    return line;
  } finally {
    await browser.close();
    await host.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
