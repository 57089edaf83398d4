/**
 * Accounts (SPEC §3, §5): bsa1 ids, sign-in by BIP340 signature of a single-use challenge bound
 * to the node, sessions, invites, and bsUSD transfers with statements — on a real SQLite file.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bech32, bech32m } from 'bech32';
import { afterAll, describe, expect, it } from 'vitest';
import { accountIdOf, parseAccountId } from '../../core/accounts/id';
import { adoptLocalAccount, ensureNodeId } from '../../core/accounts/local';
import { accountKey, signLogin, verifyLogin } from '../../core/accounts/login';
import { AccountService } from '../../core/accounts/service';
import { network } from '../../core/config/networks';
import { openDatabase, type Sqlite } from '../../core/db/database';
import { logicalHash } from '../../core/db/snapshot';
import { holderAccount } from '../../core/ledger/bsusd';
import { codeOf, codeOfSync } from '../helpers/errors';
import { sqliteStore } from '../../core/store/sqlite';

const dir = mkdtempSync(join(tmpdir(), 'bitstable-accounts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshDb = (): Sqlite => openDatabase(join(dir, `db-${++n}.sqlite`));

/** Where the wallets in these tests reach the node. */
const AT = 'http://127.0.0.1:7430';

const wallet = () => {
  const secret = randomBytes(32);
  return { secret, id: accountKey(secret).id };
};

describe('account ids', () => {
  it('are the x-only key as bech32m with prefix bsa, and read back to the same key', () => {
    const key = randomBytes(32);
    const id = accountIdOf(key);
    expect(id).toMatch(/^bsa1[02-9ac-hj-np-z]{58}$/);
    expect(Buffer.from(parseAccountId(id)).equals(key)).toBe(true);
  });

  it('refuse a mistyped character, another prefix, bech32 (not m), upper case and other lengths', () => {
    const id = accountIdOf(randomBytes(32));
    const last = id.at(-1) === 'q' ? 'p' : 'q';
    const cases = [
      id.slice(0, -1) + last, // one character off: the checksum catches it
      bech32m.encode('bc', bech32m.toWords(randomBytes(32))),
      bech32.encode('bsa', bech32.toWords(randomBytes(32))),
      id.toUpperCase(),
      bech32m.encode('bsa', bech32m.toWords(randomBytes(20))),
      '',
      42,
    ];
    for (const c of cases)
      expect(
        codeOfSync(() => parseAccountId(c)),
        String(c),
      ).toBe('INVALID_ACCOUNT');
  });
});

describe('sign-in', () => {
  it('verifies only the account key’s signature of this node’s challenge', () => {
    const a = wallet();
    const b = wallet();
    const at = 'http://127.0.0.1:7430';
    const sig = signLogin(a.secret, 'node-1', 'ab'.repeat(32), at);
    expect(verifyLogin(a.id, 'node-1', 'ab'.repeat(32), sig, at)).toBe(true);
    expect(verifyLogin(b.id, 'node-1', 'ab'.repeat(32), sig, at)).toBe(false); // another account
    expect(verifyLogin(a.id, 'node-2', 'ab'.repeat(32), sig, at)).toBe(false); // another node
    expect(verifyLogin(a.id, 'node-1', 'cd'.repeat(32), sig, at)).toBe(false); // another challenge
    expect(verifyLogin(a.id, 'node-1', 'ab'.repeat(32), sig, 'http://evil:1')).toBe(false); // elsewhere
    expect(verifyLogin(a.id, 'node-1', 'ab'.repeat(32), 'zz', at)).toBe(false);
  });

  it('hands out a session for a fresh challenge, once; refuses replays, expired and foreign challenges', async () => {
    const db = freshDb();
    let now = 1_000_000;
    const accounts = new AccountService({
      store: sqliteStore(db),
      nodeId: await ensureNodeId(sqliteStore(db), network('regtest')),
      registration: 'open',
      clock: () => now,
    });
    accounts.addOrigin(AT);
    const a = wallet();
    const { challenge, nodeId } = accounts.challenge();
    const signature = signLogin(a.secret, nodeId, challenge, AT);
    const session = await accounts.signIn({ accountId: a.id, challenge, signature, origin: AT });
    expect(session.accountId).toBe(a.id);
    expect(await accounts.sessionAccount(session.token)).toBe(a.id);
    expect(await accounts.get(a.id)).toMatchObject({ id: a.id });
    // The same answer again: the challenge was used.
    expect(
      await codeOf(
        async () => await accounts.signIn({ accountId: a.id, challenge, signature, origin: AT }),
      ),
    ).toBe('SIGN_IN_FAILED');
    // A challenge this node never gave.
    const made = 'ef'.repeat(32);
    expect(
      await codeOf(
        async () =>
          await accounts.signIn({
            accountId: a.id,
            challenge: made,
            signature: signLogin(a.secret, nodeId, made, AT),
            origin: AT,
          }),
      ),
    ).toBe('SIGN_IN_FAILED');
    // Answered too late.
    const late = accounts.challenge();
    now += 6 * 60_000;
    expect(
      await codeOf(
        async () =>
          await accounts.signIn({
            accountId: a.id,
            challenge: late.challenge,
            signature: signLogin(a.secret, nodeId, late.challenge, AT),
            origin: AT,
          }),
      ),
    ).toBe('SIGN_IN_FAILED');
    // A wrong signature burns the challenge and registers nobody.
    const b = wallet();
    const c = accounts.challenge();
    const wrong = signLogin(a.secret, nodeId, c.challenge, AT);
    expect(
      await codeOf(
        async () =>
          await accounts.signIn({
            accountId: b.id,
            challenge: c.challenge,
            signature: wrong,
            origin: AT,
          }),
      ),
    ).toBe('SIGN_IN_FAILED');
    expect(await accounts.get(b.id)).toBeNull();
    // Sessions end.
    now += 31 * 24 * 3_600_000;
    expect(await accounts.sessionAccount(session.token)).toBeNull();
    expect(await accounts.sessionAccount('not-a-token')).toBeNull();
    db.close();
  });

  it('refuses a login relayed through another node: the signature names the address the wallet reached', async () => {
    const db = freshDb();
    const honest = new AccountService({
      store: sqliteStore(db),
      nodeId: 'node-h',
      registration: 'open',
    });
    honest.addOrigin(AT);
    const a = wallet();
    // The wallet talks to a node in between at another address, which passes H's challenge on.
    const { challenge, nodeId } = honest.challenge();
    const relayed = signLogin(a.secret, nodeId, challenge, 'http://127.0.0.1:9999');
    expect(
      await codeOf(
        async () =>
          await honest.signIn({
            accountId: a.id,
            challenge,
            signature: relayed,
            origin: 'http://127.0.0.1:9999',
          }),
      ),
    ).toBe('SIGN_IN_FAILED');
    // Claiming H's own address does not help: the signature names the other one.
    const next = honest.challenge();
    const signedElsewhere = signLogin(a.secret, nodeId, next.challenge, 'http://127.0.0.1:9999');
    expect(
      await codeOf(
        async () =>
          await honest.signIn({
            accountId: a.id,
            challenge: next.challenge,
            signature: signedElsewhere,
            origin: AT,
          }),
      ),
    ).toBe('SIGN_IN_FAILED');
    expect(await honest.get(a.id)).toBeNull();
    db.close();
  });

  it('hands out challenges without storing them: a flood of them does not push out anyone’s', async () => {
    const db = freshDb();
    const accounts = new AccountService({
      store: sqliteStore(db),
      nodeId: 'n',
      registration: 'open',
    });
    accounts.addOrigin(AT);
    const a = wallet();
    const mine = accounts.challenge();
    for (let i = 0; i < 50_000; i++) accounts.challenge();
    const session = await accounts.signIn({
      accountId: a.id,
      challenge: mine.challenge,
      signature: signLogin(a.secret, 'n', mine.challenge, AT),
      origin: AT,
    });
    expect(session.accountId).toBe(a.id);
    // A challenge with its expiry changed is not this node's.
    const c = accounts.challenge().challenge;
    const forged = c.slice(0, 24) + 'ff'.repeat(8) + c.slice(40);
    expect(
      await codeOf(
        async () =>
          await accounts.signIn({
            accountId: a.id,
            challenge: forged,
            signature: signLogin(a.secret, 'n', forged, AT),
            origin: AT,
          }),
      ),
    ).toBe('SIGN_IN_FAILED');
    db.close();
  });

  it('registers a new account only with an unused invite where registration is by invite', async () => {
    const db = freshDb();
    const accounts = new AccountService({
      store: sqliteStore(db),
      nodeId: 'n',
      registration: 'invite',
    });
    accounts.addOrigin(AT);
    const answer = async (w: ReturnType<typeof wallet>, inviteCode?: string) => {
      const { challenge } = accounts.challenge();
      return await accounts.signIn({
        accountId: w.id,
        challenge,
        origin: AT,
        signature: signLogin(w.secret, 'n', challenge, AT),
        ...(inviteCode ? { inviteCode } : {}),
      });
    };
    const a = wallet();
    expect(await codeOf(async () => await answer(a))).toBe('REGISTRATION_CLOSED');
    expect(await accounts.get(a.id)).toBeNull();
    const code = await accounts.createInvite();
    expect((await answer(a, code)).accountId).toBe(a.id);
    expect(await codeOf(async () => await answer(wallet(), code))).toBe('REGISTRATION_CLOSED'); // used once
    expect((await answer(a)).accountId).toBe(a.id); // a registered account needs no code
    db.close();
  });
});

describe('bsUSD between accounts', () => {
  async function ledgerWith(...names: string[]) {
    const db = freshDb();
    for (const name of names) await sqliteStore(db).ledger.ensureHolder(name);
    // 100.00 bsUSD to the first holder, from the surplus's counterpart (deficit) to keep it balanced.
    await sqliteStore(db).ledger.post('bad_debt', null, [
      [holderAccount(names[0]!), 10_000],
      ['deficit', -10_000],
    ]);
    return db;
  }

  it('moves bsUSD in one balanced entry; the statements of both sides show it with the balance after', async () => {
    const db = await ledgerWith('alice', 'bob');
    await sqliteStore(db).transaction(
      async () => await sqliteStore(db).ledger.transfer('alice', 'bob', 2_500, 'lunch', 5),
    );
    expect(await sqliteStore(db).ledger.balance(holderAccount('alice'))).toBe(7_500);
    expect(await sqliteStore(db).ledger.balance(holderAccount('bob'))).toBe(2_500);
    expect((await sqliteStore(db).ledger.checkInvariant()).ok).toBe(true);
    const bob = await sqliteStore(db).ledger.statement('bob', 0, 10);
    expect(bob).toEqual({
      total: 1,
      items: [
        {
          entryId: expect.any(Number),
          ts: 5,
          kind: 'transfer',
          amountCents: 2_500,
          balanceAfterCents: 2_500,
          vaultId: null,
          memo: 'lunch',
          counterparty: 'alice',
        },
      ],
    });
    const alice = await sqliteStore(db).ledger.statement('alice', 0, 10);
    expect(alice.items.map((l) => [l.amountCents, l.balanceAfterCents])).toEqual([
      [-2_500, 7_500],
      [10_000, 10_000],
    ]);
    db.close();
  });

  it('never takes a balance below zero, and a refused transfer changes nothing', async () => {
    const db = await ledgerWith('alice', 'bob');
    const before = logicalHash(db);
    expect(
      await codeOf(
        async () =>
          await sqliteStore(db).transaction(
            async () => await sqliteStore(db).ledger.transfer('alice', 'bob', 10_001, null),
          ),
      ),
    ).toBe('INSUFFICIENT_BALANCE');
    expect(
      await codeOf(async () => await sqliteStore(db).ledger.transfer('alice', 'bob', 0, null)),
    ).toBe('INVALID_AMOUNT');
    expect(
      await codeOf(async () => await sqliteStore(db).ledger.transfer('alice', 'bob', 1.5, null)),
    ).toBe('INVALID_AMOUNT');
    expect(
      await codeOf(async () => await sqliteStore(db).ledger.transfer('alice', 'alice', 1, null)),
    ).toBe('INVALID_ARGUMENT');
    expect(logicalHash(db)).toBe(before);
    db.close();
  });

  it("the node's own account takes over what the app held before accounts: bsUSD as one transfer, and its vaults", async () => {
    const db = await ledgerWith('local');
    const accounts = new AccountService({
      store: sqliteStore(db),
      nodeId: 'n',
      registration: 'open',
    });
    const secret = randomBytes(32);
    const id = await adoptLocalAccount(sqliteStore(db), accounts, secret, 7);
    expect(await sqliteStore(db).ledger.balance(holderAccount(id))).toBe(10_000);
    expect(await sqliteStore(db).ledger.balance(holderAccount('local'))).toBe(0);
    expect((await sqliteStore(db).ledger.statement(id, 0, 5)).items[0]).toMatchObject({
      kind: 'transfer',
      amountCents: 10_000,
      counterparty: 'local',
    });
    // A second start finds nothing left to adopt.
    expect(await adoptLocalAccount(sqliteStore(db), accounts, secret, 8)).toBe(id);
    expect((await sqliteStore(db).ledger.statement(id, 0, 5)).total).toBe(1);
    expect((await sqliteStore(db).ledger.checkInvariant()).ok).toBe(true);
    db.close();
  });
});
