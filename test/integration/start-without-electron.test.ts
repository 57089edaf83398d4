/**
 * `npm start` where no Electron binary can be had (issue 16): instead of instructions and exit 1,
 * it says why there is no desktop window, runs the same app on local regtest in the browser host,
 * prints its link — and the app answers there. Stopped with SIGTERM, it stops its bitcoind too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startScript, type Child } from '../helpers/process';
import { rpcCall } from '../helpers/rpc';

const dir = mkdtempSync(join(tmpdir(), 'bitstable-start-'));
let child: Child | null = null;
afterAll(async () => {
  await child?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe('npm start without an Electron binary', () => {
  it('runs the app in the browser host and prints its link', async () => {
    child = startScript('start.mjs', ['--data-dir', dir, '--port', '0'], {
      BITSTABLE_PASSPHRASE: 'start-test-passphrase',
      DISPLAY: '',
      WAYLAND_DISPLAY: '',
    });
    const [, url, token] = await child.waitFor(/Open: (http:\/\/\S+)\/#token=([A-Za-z0-9_-]+)/);
    expect(child.output()).toContain('needs the Electron binary, and it is not installed here');
    await child.waitFor(/No desktop browser to open here/);
    expect((await rpcCall(url!, token!, 'status.get')).network).toBe('regtest');
    const exited = new Promise<number | null>((resolve) =>
      child!.child.once('exit', (code) => resolve(code)),
    );
    child.child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
