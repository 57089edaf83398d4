/**
 * Settings → Protocol node (SPEC §9), as real processes: an app in local mode (`npm run
 * headless`) tests a protocol node's address (`npm run protocol`), chooses it, and after a
 * restart runs as a wallet connected to it; choosing "this computer" again brings local mode
 * back at the next start. Bad and unreachable addresses are refused with a sentence and change
 * nothing.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratch, type Child } from '../helpers/process';
import { rpcCall } from '../helpers/rpc';

const PASSPHRASE = 'choose-node-test-passphrase';
const files = scratch();
const tmp = files.tmp;

let gateway: string;
let nodeId: string;
let appDir: string;
let app: { child: Child; url: string; token: string };

async function startApp(): Promise<Child> {
  const c = files.start('headless.ts', ['--data-dir', appDir, '--port', '0', '--show-link'], {
    BITSTABLE_PASSPHRASE: PASSPHRASE,
  });
  const [, url, token] = await c.waitFor(/Open: (http:\/\/\S+)\/#token=([A-Za-z0-9_-]+)/);
  app = { child: c, url: url!, token: token! };
  return c;
}
const call = (method: string, params: unknown = {}) => rpcCall(app.url, app.token, method, params);
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (err: { code?: string }) => err.code,
  );

beforeAll(async () => {
  const node = files.start('protocol.ts', ['--port', '0', '--data-dir', tmp('choose-protocol')], {
    BITSTABLE_PASSPHRASE: PASSPHRASE,
  });
  [, gateway] = (await node.waitFor(/Gateway: (http:\/\/\S+)/)) as unknown as [string, string];
  [, nodeId] = (await node.waitFor(/Node id: (\S+)/)) as unknown as [string, string];
  appDir = tmp('choose-app');
  await startApp();
}, 240_000);

afterAll(() => files.cleanup(), 120_000);

describe('choosing the protocol node in Settings', () => {
  it('tests a node, uses it from the next start, and goes back to this computer', async () => {
    expect(await call('settings.protocolNode')).toEqual({
      running: { mode: 'local', url: null },
      chosen: { mode: 'local', url: null },
      restartNeeded: false,
    });

    // Addresses that are not a node: refused, nothing written.
    expect(await codeOf(call('settings.testProtocolNode', { url: 'ftp://127.0.0.1:1' }))).toBe(
      'INVALID_ARGUMENT',
    );
    const nobody = await call('settings.setProtocolNode', { url: 'http://127.0.0.1:9' }).catch(
      (err: Error & { code: string }) => err,
    );
    expect(nobody).toMatchObject({ code: 'NODE_UNREACHABLE' });
    expect(nobody.message).toMatch(/No BitStable protocol node at http:\/\/127\.0\.0\.1:9/);
    expect(existsSync(join(appDir, 'regtest', 'protocol-node.json'))).toBe(false);

    const tested = await call('settings.testProtocolNode', { url: `${gateway}/` });
    expect(tested).toMatchObject({ url: gateway, nodeId, network: 'regtest' });
    expect(tested.protocolFingerprint).toMatch(/^[0-9a-f]{8}$/);
    expect(tested.guardianFingerprint).toMatch(/^[0-9a-f]{8}$/);
    expect(await call('settings.setProtocolNode', { url: gateway })).toEqual({
      running: { mode: 'local', url: null },
      chosen: { mode: 'remote', url: gateway },
      restartNeeded: true,
    });

    // The next start is a wallet connected to that node.
    await app.child.stop();
    const wallet = await startApp();
    expect(wallet.output()).toContain(
      `BitStable wallet connected to the protocol node at ${gateway} (node ${nodeId}).`,
    );
    expect((await call('status.get')).protocolNode).toMatchObject({ nodeId, url: gateway });
    expect(await call('settings.protocolNode')).toMatchObject({ restartNeeded: false });

    // And back to this computer.
    expect(await call('settings.setProtocolNode', { url: null })).toMatchObject({
      chosen: { mode: 'local', url: null },
      restartNeeded: true,
    });
    await app.child.stop();
    const local = await startApp();
    expect(local.output()).toContain('local regtest mode');
    expect((await call('status.get')).protocolNode.url).toBeNull();
  });
});
