/**
 * Gateway tokens as an operator handles them (issue 16), with real processes: the link with the
 * admin token is printed when the token is made and not at the next start; a bot token added
 * with --add-token works at once, and revoked with --revoke-token it is refused within a second
 * without a restart — its open WebSocket is closed too.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { WS_PROTOCOL, WS_TOKEN_PREFIX } from '../../core/gateway/server';
import { scratch, type Child } from '../helpers/process';
import { rpcCall, until } from '../helpers/rpc';

const PASSPHRASE = 'tokens-test-passphrase';
const files = scratch('bitstable-tokens');
let dir: string;

/** Runs one of the host's commands that exit (add or revoke a token); resolves with its stdout. */
async function command(args: string[]): Promise<string> {
  const c = files.start('headless.ts', ['--data-dir', dir, ...args], {
    BITSTABLE_PASSPHRASE: PASSPHRASE,
  });
  await new Promise<void>((resolve) => c.child.once('exit', () => resolve()));
  return c.output();
}

async function startHost(): Promise<{ child: Child; url: string }> {
  const c = files.start('headless.ts', ['--data-dir', dir, '--port', '0'], {
    BITSTABLE_PASSPHRASE: PASSPHRASE,
  });
  const [, url] = await c.waitFor(/Open: (http:\/\/127\.0\.0\.1:\d+)/);
  await c.waitFor(/Press Ctrl\+C/);
  return { child: c, url: url! };
}

beforeAll(() => {
  dir = files.tmp('data');
});
// Stops the hosts, kills a bitcoind one left behind, and removes the folder.
afterAll(() => files.cleanup(), 120_000);

describe('gateway tokens', () => {
  it('shows the admin link once, and a revoked token stops working without a restart', async () => {
    const first = await startHost();
    expect(first.child.output()).toMatch(
      /Open: http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]{43}/,
    );
    // It names its regtest bitcoind: the folder, the RPC address and the cookie, which exist.
    const [, datadir, rpcUrl, cookie] =
      /Bitcoin node \(regtest\): datadir (\S+) RPC (\S+) cookie=(\S+)/.exec(first.child.output())!;
    expect(datadir!.startsWith(dir)).toBe(true);
    expect(rpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(existsSync(cookie!)).toBe(true);

    const bot = (await command(['--add-token', 'liquidator', '--label', 'bot'])).split('\n')[0]!;
    expect(bot).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Added while the host runs: it works at once.
    await until(
      'the new token to be known',
      () => rpcCall(first.url, bot, 'auctions.list', {}),
      () => true,
      5_000,
    );
    const ws = new WebSocket(`${first.url.replace('http', 'ws')}/rpc`, [
      WS_PROTOCOL,
      `${WS_TOKEN_PREFIX}${bot}`,
    ]);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));

    const said = await command(['--revoke-token', 'bot']);
    expect(said).toContain('Revoked "bot"');
    expect(await command(['--revoke-token', 'nobody'])).toMatch(/No token is labelled "nobody"/);
    const refused = await until(
      'the revoked token to be refused',
      () =>
        rpcCall(first.url, bot, 'auctions.list', {}).then(
          () => 'ok',
          (err: { code?: string }) => err.code,
        ),
      (code) => code === 'UNAUTHENTICATED',
      5_000,
    );
    expect(refused).toBe('UNAUTHENTICATED');
    expect(await closed).toBe(4001);

    // The next start names the token file instead of printing the token.
    await first.child.stop();
    const second = await startHost();
    expect(second.child.output()).not.toMatch(/#token=/);
    expect(second.child.output()).toContain('the token is in');
  });
});
