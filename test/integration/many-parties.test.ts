/**
 * Many parties as real processes on one regtest chain (issue 12): a protocol node
 * (`npm run protocol`), two wallet hosts connected to it (`npm run headless -- --connect`),
 * each with its own account key, software owner key, records and Bitcoin node connection, and a
 * liquidator bot over the gateway with a token bound to its own account.
 *
 * Alice opens a vault (its address checked by her wallet), deposits, mints 10,000 bsUSD and
 * sends 2,000 to Bob; Bob cannot read or change her vault but sees her auction; the price falls;
 * the bot, holding nothing, cannot take; Bob takes it with his own bsUSD; the settlement pays
 * Bob's address; Alice's vault is Liquidated, as her wallet's own Bitcoin node sees too;
 * statements and the ledger add up. The protocol
 * node's files hold no owner secret of Alice's, and its process never loaded a device library.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountKey } from '../../core/accounts/login';
import { network as networkInfo } from '../../core/config/networks';
import { PassphraseKeyStore } from '../../core/keys/passphrase-keystore';
import { rootOf } from '../../core/keys/software-key';
import { RpcClient, toSats } from '../../core/node/rpc';
import type { Sqlite } from '../../core/db/database';
import {
  ProtocolClient,
  webSocketTransport,
  type ProtocolError,
} from '../../core/wallet/protocol-client';
import { startScript, type Child } from '../helpers/process';
import { rpcCall, until } from '../helpers/rpc';
import { sqliteStore } from '../../core/store/sqlite';

const PASSPHRASE = 'many-parties-test-passphrase';
const ROOT = resolve(import.meta.dirname, '../..');
const dirs: string[] = [];
const children: Child[] = [];
const tmp = (name: string) => {
  const d = mkdtempSync(join(tmpdir(), `bitstable-${name}-`));
  dirs.push(d);
  return d;
};

let protocolDir: string;
let gatewayUrl: string;
let bitcoinRpc: RpcClient;
let protocolPid: number;
let bot: ProtocolClient;
const bobAccount = { id: '' };
interface Host {
  url: string;
  token: string;
  account: string;
  dir: string;
  child: Child;
}
let alice: Host;
let bob: Host;

async function walletHost(label: string, rpcUrl: string, cookie: string): Promise<Host> {
  const dir = tmp(`wallet-${label}`);
  const c = startScript(
    'headless.ts',
    ['--connect', gatewayUrl, '--data-dir', dir, '--port', '0', '--label', label],
    { BITSTABLE_PASSPHRASE: PASSPHRASE, BITSTABLE_RPC_URL: rpcUrl, BITSTABLE_RPC_COOKIE: cookie },
  );
  children.push(c);
  const [, url, token] = await c.waitFor(/Open: (http:\/\/\S+)\/#token=([A-Za-z0-9_-]+)/);
  const [, account] = await c.waitFor(/Account: (bsa1\S+)/);
  expect(c.output()).toContain('Coins are checked against your own Bitcoin node.');
  return { url: url!, token: token!, account: account!, dir, child: c };
}

beforeAll(async () => {
  protocolDir = tmp('protocol');
  // The bot's token, bound to its own account (registered when the node starts).
  const botAccount = accountKey(randomBytes(32)).id;
  const botToken = execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'scripts/headless.ts'),
      '--data-dir',
      protocolDir,
      '--add-token',
      'liquidator',
      '--account',
      botAccount,
      '--label',
      'bot',
    ],
    { cwd: ROOT, encoding: 'utf8' },
  ).trim();

  const node = startScript('protocol.ts', ['--port', '0', '--data-dir', protocolDir], {
    BITSTABLE_PASSPHRASE: PASSPHRASE,
  });
  children.push(node);
  protocolPid = node.child.pid!;
  const [, rpcUrl, cookie] = await node.waitFor(/Bitcoin RPC: (\S+) cookie=(\S+)/);
  [, gatewayUrl] = (await node.waitFor(/Gateway: (http:\/\/\S+)/)) as unknown as [string, string];
  bitcoinRpc = new RpcClient({ url: rpcUrl!, auth: { kind: 'cookie', cookieFile: cookie! } });
  [alice, bob] = await Promise.all([
    walletHost('alice', rpcUrl!, cookie!),
    walletHost('bob', rpcUrl!, cookie!),
  ]);
  bobAccount.id = bob.account;
  bot = new ProtocolClient(await webSocketTransport(gatewayUrl, botToken));
}, 240_000);

afterAll(async () => {
  await bot?.close().catch(() => undefined);
  await Promise.allSettled(children.map((c) => c.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}, 120_000);

/** One call on a wallet host's wallet API (what its UI calls). */

const call = (host: Host, method: string, params: unknown = {}) =>
  rpcCall(host.url, host.token, method, params);

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (err: { code?: string }) => err.code ?? 'no code',
  );

async function openVault(host: Host, sats: number, mintCents: number) {
  const returnAddress = (await call(host, 'regtest.newAddress')).address as string;
  const vault = await call(host, 'vaults.create', { returnAddress });
  await call(host, 'regtest.faucet', { address: vault.address, amountSats: sats });
  await call(host, 'regtest.mine', { blocks: 1 });
  await until(
    `vault #${vault.id} active`,
    () => call(host, 'vaults.get', { vaultId: vault.id }),
    (v) => v.state === 'active',
  );
  await call(host, 'vaults.mint', { vaultId: vault.id, amountCents: mintCents });
  return vault as { id: number; address: string; descriptor: string };
}

describe('a protocol node, two wallets and a bot, each its own process', () => {
  it('Alice mints and pays Bob; Bob takes her auction with his own bsUSD; the settlement pays him', async () => {
    await call(alice, 'regtest.setPrice', { priceCents: 4_500_000 });
    const aliceVault = await openVault(alice, 50_000_000, 1_000_000); // 10,000 bsUSD at 225 %
    // Her wallet's own Bitcoin node sees the deposit too.
    expect((await call(alice, 'vaults.get', { vaultId: aliceVault.id })).ownView).toMatchObject({
      collateralSats: 50_000_000,
      agrees: true,
    });
    // The vault is on Alice's own owner key (her wallet's, not the node's).
    const aliceStatus = await call(alice, 'status.get');
    expect(aliceVault.descriptor).toContain(aliceStatus.owner.key.slice(0, 20));
    expect(aliceStatus.accountId).toBe(alice.account);

    const sent = await call(alice, 'bsusd.transfer', { to: bob.account, amountCents: 200_000 });
    expect(sent.balanceCents).toBe(800_000);
    expect((await call(bob, 'balance.get')).bsusdCents).toBe(200_000);

    // Bob cannot read or change Alice's vault.
    expect(await codeOf(call(bob, 'vaults.get', { vaultId: aliceVault.id }))).toBe('FORBIDDEN');
    expect(
      await codeOf(call(bob, 'vaults.mint', { vaultId: aliceVault.id, amountCents: 100_000 })),
    ).toBe('FORBIDDEN');
    const bobVault = await openVault(bob, 200_000_000, 1_200_000);
    expect((await call(bob, 'vaults.list')).items.map((v: { id: number }) => v.id)).toEqual([
      bobVault.id,
    ]);

    // The price falls: Alice's vault is liquidated; everyone sees the auction.
    await call(bob, 'regtest.setPrice', { priceCents: 2_800_000 });
    const { auctions } = await bot.call('auctions.list', { live: true });
    const auction = auctions.find((a) => a.vaultId === aliceVault.id)!;
    expect(auction).toBeDefined();

    // The bot holds no bsUSD: its take is refused, and nobody else pays for it.
    const botAddress = (await call(bob, 'regtest.newAddress')).address as string;
    const refused = await bot
      .call('auctions.take', {
        auctionId: auction.id,
        maxSats: 50_000_000,
        maxPriceCents: 10_000_000,
        btcAddress: botAddress,
      })
      .then(
        () => 'ok',
        (err: ProtocolError) => err.code,
      );
    expect(refused).toBe('INSUFFICIENT_BALANCE');

    const bobAddress = (await call(bob, 'regtest.newAddress')).address as string;
    const take = await call(bob, 'auctions.take', {
      auctionId: auction.id,
      maxSats: 50_000_000,
      maxPriceCents: 10_000_000,
      btcAddress: bobAddress,
    });
    expect(take.costCents).toBe(auction.tabCents);
    await call(bob, 'regtest.mine', { blocks: 1 });
    await until(
      'the settlement to confirm',
      async () =>
        toSats(await bitcoinRpc.call('getreceivedbyaddress', [bobAddress, 1], { wallet: 'miner' })),
      (received) => received === take.sats,
    );
    await call(bob, 'regtest.mine', { blocks: 1 });
    const liquidated = await until(
      "Alice's vault Liquidated",
      () => call(alice, 'vaults.get', { vaultId: aliceVault.id }),
      (v) => v.state === 'liquidated',
    );
    // …and her wallet's own Bitcoin node agrees: the coins are gone from the vault.
    expect(liquidated.ownView).toMatchObject({ collateralSats: 0, incomingSats: 0, agrees: true });

    // Statements add up, and so does the ledger (read from the node's database).
    for (const host of [alice, bob]) {
      const { items } = await call(host, 'bsusd.statement', { limit: 500 });
      let running = 0;
      for (const l of [...items].reverse()) {
        running += l.amountCents;
        expect(l.balanceAfterCents).toBe(running);
      }
      expect(running).toBe((await call(host, 'balance.get')).bsusdCents);
    }
    expect((await call(bob, 'balance.get')).bsusdCents).toBe(1_400_000 - auction.tabCents);
    const db = new Database(join(protocolDir, 'regtest', 'bitstable.sqlite'), { readonly: true });
    try {
      expect((await sqliteStore(db as unknown as Sqlite).ledger.checkInvariant()).problems).toEqual(
        [],
      );
    } finally {
      db.close();
    }
  });

  it("the protocol node holds no owner secret of Alice's and never loaded a device library", async () => {
    const net = networkInfo('regtest');
    const keys = new PassphraseKeyStore(join(alice.dir, 'regtest', 'keys'), PASSPHRASE);
    const mnemonic = Buffer.from(await keys.get('software-owner-mnemonic.regtest')).toString(
      'utf8',
    );
    const root = rootOf({ mnemonic }, net);
    const secrets = [
      mnemonic,
      mnemonic.split(' ').slice(0, 4).join(' '),
      root.toBase58(),
      root.derivePath("m/48'/1'/0'/2'").toBase58(),
      Buffer.from(root.privateKey!).toString('hex'),
    ].map((s) => Buffer.from(s));
    const files: string[] = [];
    const walk = (d: string) => {
      for (const name of readdirSync(d)) {
        const p = join(d, name);
        const s = statSync(p);
        if (s.isDirectory()) walk(p);
        else if (s.size < 200_000_000) files.push(p);
      }
    };
    walk(protocolDir);
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) {
      const content = readFileSync(f);
      for (const secret of secrets) expect(content.includes(secret), f).toBe(false);
    }
    // Its process maps no USB/HID library (no device transport was ever loaded).
    const maps = `/proc/${protocolPid}/maps`;
    if (existsSync(maps)) {
      expect(readFileSync(maps, 'utf8')).not.toMatch(/HID|hidapi|libusb|node-hid/i);
    }
  });

  it('a wallet host that stops ends its session at the node: no live session of its account is left', async () => {
    const db = new Database(join(protocolDir, 'regtest', 'bitstable.sqlite'), { readonly: true });
    const live = (account: string) =>
      db
        .prepare('SELECT COUNT(*) FROM sessions WHERE account_id = ? AND expires_at > ?')
        .pluck()
        .get(account, Date.now()) as number;
    try {
      expect(live(alice.account)).toBeGreaterThan(0);
      await alice.child.stop();
      expect(alice.child.child.exitCode).toBe(0);
      expect(live(alice.account)).toBe(0);
      expect(live(bob.account)).toBeGreaterThan(0);
    } finally {
      db.close();
    }
  });
});
