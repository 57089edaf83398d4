/**
 * Accounts over the gateway, on a real regtest node (SPEC §3, §5): Alice and Bob sign in with
 * their account keys (BIP340 signature of the node's challenge), each sees only their own
 * vaults, bsUSD moves from Alice to Bob and Bob sees it arrive on his socket, Bob takes Alice's
 * auction with his own bsUSD and the settlement pays his address; a bot token bound to Carol's
 * account spends only Carol's bsUSD. Every refusal is typed and changes nothing.
 *
 * (The owner key of every vault is still the node's own software key here: the owner's key on
 * the owner's machine is the next part of issue 12.)
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { accountIdOf } from '../../core/accounts/id';
import { accountKey, signLogin } from '../../core/accounts/login';
import { createApiService, type ApiService } from '../../core/api/dispatcher';
import type { ApiEvent } from '../../core/api/events';
import { logicalHash } from '../../core/db/snapshot';
import { startGateway, WS_PROTOCOL, type Gateway } from '../../core/gateway/server';
import { newToken, type TokenEntry } from '../../core/gateway/tokens';
import { holderAccount } from '../../core/ledger/bsusd';
import { keyExpression } from '../../core/bitcoin/keys';
import { network as networkInfo } from '../../core/config/networks';
import { SoftwareSigner } from '../../core/signers/software';
import { receivedAt, setPrice, useBitStableNode } from '../helpers/app';

const t = useBitStableNode();
const carol = accountKey(randomBytes(32)).id;
const botToken: TokenEntry = {
  label: 'carol-bot',
  roles: ['liquidator'],
  token: newToken(),
  account: carol,
};
const operatorToken: TokenEntry = { label: 'operator', roles: ['admin'], token: newToken() };
/** A liquidator token bound to no account: it acts for nobody, so it spends nobody's bsUSD. */
const unboundToken: TokenEntry = { label: 'unbound', roles: ['liquidator'], token: newToken() };
let api: ApiService;
let gw: Gateway;

beforeAll(async () => {
  const { app } = t();
  await app.accounts.register(carol, 'carol-bot');
  api = createApiService({ core: app });
  gw = await startGateway({
    api,
    core: app,
    tokens: [botToken, operatorToken, unboundToken],
    port: 0,
  });
});
afterAll(async () => {
  await gw?.close();
  api?.close();
});

type RpcReply = { result?: unknown; error?: { message: string; data: { code: string } } };

async function rpc(body: unknown, token: string | null): Promise<RpcReply | RpcReply[]> {
  const res = await fetch(`${gw.url}/rpc`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
  return (await res.json()) as RpcReply | RpcReply[];
}

/** Calls one method; resolves with the result or rejects with the typed code. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- replies are JSON; the assertions check them
async function call<T = any>(
  token: string | null,
  method: string,
  params: unknown = {},
): Promise<T> {
  const reply = (await rpc({ jsonrpc: '2.0', id: 1, method, params }, token)) as RpcReply;
  if (reply.error)
    throw Object.assign(new Error(reply.error.message), { code: reply.error.data.code });
  return reply.result as T;
}

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (err: { code?: string }) => err.code ?? 'no code',
  );

/** A wallet: an account key, signed in at the node over the gateway. */
async function signIn(label: string) {
  const secret = randomBytes(32);
  const { id } = accountKey(secret);
  const { challenge, nodeId } = await call<{ challenge: string; nodeId: string }>(
    null,
    'auth.challenge',
  );
  const session = await call<{ token: string; accountId: string }>(null, 'auth.signIn', {
    accountId: id,
    challenge,
    origin: gw.url,
    signature: signLogin(secret, nodeId, challenge, new URL(gw.url).origin),
    label,
  });
  expect(session.accountId).toBe(id);
  return { id, token: session.token };
}

function socket(token: string): Promise<{ ws: WebSocket; events: ApiEvent[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${gw.url.replace('http', 'ws')}/rpc`, [
      WS_PROTOCOL,
      `bearer.${token}`,
    ]);
    const events: ApiEvent[] = [];
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as { method?: string; params?: ApiEvent };
      if (msg.method === 'event' && msg.params) events.push(msg.params);
    });
    ws.once('open', () => resolve({ ws, events }));
    ws.once('error', reject);
  });
}

async function until(what: string, ok: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** An owner key of the caller's own (from their wallet; the node's is not theirs). */
const ownerKey = async () =>
  keyExpression(
    await new SoftwareSigner({
      role: 'owner',
      network: networkInfo('regtest'),
      secret: { seed: randomBytes(32) },
    }).accountKey(),
  );

/** A vault of the caller's, funded and confirmed, with `mintCents` minted. */
async function openVault(token: string, sats: number, mintCents: number) {
  const returnAddress = (await call(token, 'regtest.newAddress')).address as string;
  const vault = await call(token, 'vaults.create', { returnAddress, ownerKey: await ownerKey() });
  await call(token, 'regtest.faucet', { address: vault.address, amountSats: sats });
  await call(token, 'regtest.mine', { blocks: 1 });
  await call(token, 'vaults.mint', { vaultId: vault.id, amountCents: mintCents });
  return vault as { id: number; address: string };
}

describe('accounts: many parties on one node', () => {
  it('Alice mints and pays Bob; Bob cannot touch her vault but takes her auction with his own bsUSD', async () => {
    const { app } = t();
    await setPrice(app, 4_500_000);
    const alice = await signIn('alice');
    const bob = await signIn('bob');
    const bobSocket = await socket(bob.token);
    try {
      const aliceVault = await openVault(alice.token, 50_000_000, 1_000_000); // 225 %
      const bobVault = await openVault(bob.token, 200_000_000, 1_200_000);

      // Each sees their own vaults only; the other's is FORBIDDEN, to read and to change.
      const ids = async (token: string) =>
        ((await call(token, 'vaults.list')).items as { id: number }[]).map((v) => v.id);
      expect(await ids(alice.token)).toEqual([aliceVault.id]);
      expect(await ids(bob.token)).toEqual([bobVault.id]);
      const before = logicalHash(app.db);
      for (const [method, params] of [
        ['vaults.get', { vaultId: aliceVault.id }],
        ['vaults.mint', { vaultId: aliceVault.id, amountCents: 100_000 }],
        ['vaults.repay', { vaultId: aliceVault.id, amountCents: 100_000 }],
        ['vaults.previewClose', { vaultId: aliceVault.id, destination: aliceVault.address }],
        ['vaults.history', { vaultId: aliceVault.id, fromMs: 0, toMs: Date.now(), maxPoints: 5 }],
      ] as const) {
        expect(await codeOf(call(bob.token, method, params)), method).toBe('FORBIDDEN');
      }
      expect(logicalHash(app.db)).toBe(before);

      // Alice → Bob: 2,000 bsUSD; Bob's socket hears it; Alice's vault events never reach him.
      const sent = await call(alice.token, 'bsusd.transfer', {
        to: bob.id,
        amountCents: 200_000,
        memo: 'for the bike',
      });
      expect(sent).toMatchObject({ to: bob.id, amountCents: 200_000, balanceCents: 800_000 });
      await until('the transfer event', () =>
        bobSocket.events.some((e) => e.type === 'bsusd.transfer'),
      );
      expect(bobSocket.events.find((e) => e.type === 'bsusd.transfer')!.payload).toMatchObject({
        from: alice.id,
        to: bob.id,
        amountCents: 200_000,
        memo: 'for the bike',
      });
      expect((await call(bob.token, 'account.get')).balanceCents).toBe(1_400_000);

      // The price falls; Alice's vault is liquidated; Bob sees the auction (public data).
      await call(bob.token, 'regtest.setPrice', { priceCents: 2_800_000 }); // 140 %
      const { auctions } = await call(bob.token, 'auctions.list', { live: true });
      const auction = (auctions as { id: number; vaultId: number; tabCents: number }[]).find(
        (a) => a.vaultId === aliceVault.id,
      )!;
      expect(auction).toBeDefined();
      expect(
        bobSocket.events.some(
          (e) => e.type === 'vault.changed' && e.payload.vaultId === aliceVault.id,
        ),
      ).toBe(false);
      expect(
        bobSocket.events.some(
          (e) => e.type === 'auction.started' && e.payload.vaultId === aliceVault.id,
        ),
      ).toBe(true);

      // Carol's bot holds no bsUSD: its take is refused, and nobody else's bsUSD pays for it.
      const carolAddress = (await call(operatorToken.token, 'regtest.newAddress')).address;
      const unchanged = logicalHash(app.db);
      expect(
        await codeOf(
          call(botToken.token, 'auctions.take', {
            auctionId: auction.id,
            maxSats: 50_000_000,
            maxPriceCents: 10_000_000,
            btcAddress: carolAddress,
          }),
        ),
      ).toBe('INSUFFICIENT_BALANCE');
      expect(logicalHash(app.db)).toBe(unchanged);

      // Bob takes it all with his own bsUSD; the settlement pays his address.
      const bobAddress = (await call(bob.token, 'regtest.newAddress')).address as string;
      const take = await call(bob.token, 'auctions.take', {
        auctionId: auction.id,
        maxSats: 50_000_000,
        maxPriceCents: 10_000_000,
        btcAddress: bobAddress,
      });
      expect(take.costCents).toBe(auction.tabCents);
      expect((await call(bob.token, 'balance.get')).bsusdCents).toBe(1_400_000 - auction.tabCents);
      expect((await call(alice.token, 'balance.get')).bsusdCents).toBe(800_000);
      await call(bob.token, 'regtest.mine', { blocks: 1 });
      await call(bob.token, 'regtest.mine', { blocks: 1 });
      expect(await receivedAt(app, bobAddress)).toBe(take.sats);
      expect((await call(alice.token, 'vaults.get', { vaultId: aliceVault.id })).state).toBe(
        'liquidated',
      );

      // Statements add up: each line's balance follows from the one before, and ends at the balance.
      for (const who of [alice, bob]) {
        const { items } = await call(who.token, 'bsusd.statement', { limit: 500 });
        const lines = [
          ...(items as { amountCents: number; balanceAfterCents: number }[]),
        ].reverse();
        let running = 0;
        for (const l of lines) {
          running += l.amountCents;
          expect(l.balanceAfterCents).toBe(running);
        }
        expect(running).toBe(await app.store.ledger.balance(holderAccount(who.id)));
      }
      const bobLines = (await call(bob.token, 'bsusd.statement')).items as {
        kind: string;
        counterparty: string | null;
      }[];
      expect(bobLines.map((l) => l.kind)).toEqual(['auction_payment', 'transfer', 'mint']);
      expect(bobLines[1]!.counterparty).toBe(alice.id);
      expect((await app.store.ledger.checkInvariant()).problems).toEqual([]);
    } finally {
      bobSocket.ws.close();
    }
  });

  it("a remote account must bring its own owner key: the node's own is refused, and so is none", async () => {
    const { app } = t();
    const mallory = await signIn('mallory');
    const before = logicalHash(app.db);
    const nodeOwner = keyExpression((await app.vaults.keySet(app.keySetId)).owner);
    expect(await codeOf(call(mallory.token, 'vaults.create', {}))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(call(mallory.token, 'vaults.create', { ownerKey: nodeOwner }))).toBe(
      'INVALID_ARGUMENT',
    );
    // Nor does the node hand out its own account's recovery kit, owner key or Bitcoin node.
    expect(await codeOf(call(mallory.token, 'recoveryKit.get'))).toBe('FORBIDDEN');
    expect((await call(mallory.token, 'status.get')).owner.key).toBe('');
    const settings = await call(mallory.token, 'settings.get');
    expect(settings.keys.owner.key).toBe('');
    expect(settings.node).toMatchObject({ rpcUrl: null, dataDir: null });
    expect(JSON.stringify(settings)).not.toContain(nodeOwner);
    // The operator still sees them.
    expect((await call(operatorToken.token, 'status.get')).owner.key).toBe(nodeOwner);
    expect(logicalHash(app.db)).toBe(before);
  });

  it('refuses transfers that cannot be made, with a code and a sentence, and changes nothing', async () => {
    const { app } = t();
    const alice = await signIn('alice-2');
    const bob = await signIn('bob-2');
    const before = logicalHash(app.db);
    const nobody = accountIdOf(randomBytes(32));
    const mistyped = bob.id.slice(0, -1) + (bob.id.endsWith('q') ? 'p' : 'q');
    const cases: [unknown, string][] = [
      [{ to: bob.id, amountCents: 1 }, 'INSUFFICIENT_BALANCE'],
      [{ to: nobody, amountCents: 1 }, 'ACCOUNT_NOT_FOUND'],
      [{ to: mistyped, amountCents: 1 }, 'INVALID_ACCOUNT'],
      [{ to: alice.id, amountCents: 1 }, 'INVALID_ARGUMENT'],
      [{ to: bob.id, amountCents: 0.5 }, 'INVALID_ARGUMENT'],
      [{ to: bob.id, amountCents: -1 }, 'INVALID_ARGUMENT'],
    ];
    for (const [params, code] of cases)
      expect(
        await codeOf(call(alice.token, 'bsusd.transfer', params)),
        JSON.stringify(params),
      ).toBe(code);
    // No session, a made-up session; the operator's token acts for the node's own account only
    // (which holds nothing here): it cannot move Alice's bsUSD.
    expect(await codeOf(call(null, 'balance.get'))).toBe('UNAUTHENTICATED');
    expect(await codeOf(call(newToken(), 'balance.get'))).toBe('UNAUTHENTICATED');
    expect(
      await codeOf(call(operatorToken.token, 'bsusd.transfer', { to: bob.id, amountCents: 1 })),
    ).toBe('INSUFFICIENT_BALANCE');
    for (const [method, params] of [
      ['bsusd.transfer', { to: bob.id, amountCents: 1 }],
      ['balance.get', {}],
      [
        'auctions.take',
        {
          auctionId: 1,
          maxSats: 1_000,
          maxPriceCents: 1,
          btcAddress: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
        },
      ],
    ] as const) {
      expect(await codeOf(call(unboundToken.token, method, params)), method).toBe(
        'ACCOUNT_REQUIRED',
      );
    }
    expect(logicalHash(app.db)).toBe(before);
  });

  it('two transfers in one batch that together exceed the balance: exactly one is made', async () => {
    const { app } = t();
    const payer = await signIn('payer');
    const a = await signIn('payee-a');
    const b = await signIn('payee-b');
    await openVault(payer.token, 50_000_000, 500_000);
    const batch = [a, b, a, b].map((to, i) => ({
      jsonrpc: '2.0',
      id: i + 1,
      method: 'bsusd.transfer',
      params: { to: to.id, amountCents: 300_000 },
    }));
    const replies = (await rpc(batch, payer.token)) as RpcReply[];
    const made = replies.filter((r) => r.result);
    expect(made).toHaveLength(1);
    expect(replies.filter((r) => r.error).map((r) => r.error!.data.code)).toEqual([
      'INSUFFICIENT_BALANCE',
      'INSUFFICIENT_BALANCE',
      'INSUFFICIENT_BALANCE',
    ]);
    expect(await app.store.ledger.balance(holderAccount(payer.id))).toBe(200_000);
    expect(
      (await app.store.ledger.balance(holderAccount(a.id))) +
        (await app.store.ledger.balance(holderAccount(b.id))),
    ).toBe(300_000);
    expect((await app.store.ledger.checkInvariant()).problems).toEqual([]);
  });

  it('signing out ends the session: the token is refused, its sockets close after the reply, a bot token cannot sign out', async () => {
    const dave = await signIn('dave');
    const first = await socket(dave.token);
    const second = await socket(dave.token);
    const closes = [first, second].map(
      ({ ws }) => new Promise<number>((resolve) => ws.once('close', (code) => resolve(code))),
    );
    // Signed out over the first socket, in a batch with a read that is in flight beside it:
    // the reply comes back whole before the socket closes.
    const replies: unknown[] = [];
    first.ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as unknown;
      if (Array.isArray(msg)) replies.push(...(msg as unknown[]));
    });
    first.ws.send(
      JSON.stringify([
        { jsonrpc: '2.0', id: 1, method: 'auth.signOut', params: {} },
        { jsonrpc: '2.0', id: 2, method: 'account.get', params: {} },
      ]),
    );
    expect(await Promise.all(closes)).toEqual([4001, 4001]);
    expect(replies).toEqual([
      expect.objectContaining({ id: 1, result: { signedOut: true } }),
      expect.objectContaining({ id: 2, result: expect.objectContaining({ id: dave.id }) }),
    ]);
    expect(await codeOf(call(dave.token, 'account.get'))).toBe('UNAUTHENTICATED');
    // A token from the token file is the operator's to revoke; it keeps working.
    expect(await codeOf(call(botToken.token, 'auth.signOut'))).toBe('SESSION_REQUIRED');
    expect(await codeOf(call(botToken.token, 'balance.get'))).toBe('ok');
    // Signing in again gives a fresh session; two sign-outs at once both end it.
    const again = await signIn('dave-again');
    const both = (await rpc(
      [1, 2].map((id) => ({ jsonrpc: '2.0', id, method: 'auth.signOut', params: {} })),
      again.token,
    )) as RpcReply[];
    expect(both.map((r) => r.result)).toEqual([{ signedOut: true }, { signedOut: true }]);
    expect(await codeOf(call(again.token, 'balance.get'))).toBe('UNAUTHENTICATED');
  });
});
