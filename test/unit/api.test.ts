/**
 * The API contract and its dispatcher, without a node: permissions are checked before anything
 * else, bad arguments never reach the core, results are checked against the contract, and every
 * failure crosses as a typed code with a plain sentence.
 */
import { describe, expect, it } from 'vitest';
import {
  API,
  allows,
  METHOD_NAMES,
  PERMISSIONS,
  ROLE_PERMISSIONS,
  ROLES,
  type Role,
} from '../../core/api/contract';
import { createApiService, invalidArguments } from '../../core/api/dispatcher';
import { API_ERROR_CODES, API_ONLY_ERROR_CODES } from '../../core/api/errors';
import type { ApiCore } from '../../core/api/handlers';
import { EVENT_SCHEMAS, CORE_EVENT_TYPES, type ApiEvent } from '../../core/api/events';
import { ERROR_CODES, BitStableError } from '../../core/errors';
import { EventBus } from '../../core/events/bus';

/** A core whose every part throws if touched, except what a test puts in. */
const LOCAL = 'bsa1local';
const ALICE = 'bsa1alice';
const BOB = 'bsa1bob';

function fakeCore(parts: Record<string, unknown> = {}): {
  core: ApiCore;
  bus: EventBus;
  touched: string[];
} {
  const touched: string[] = [];
  const bus = new EventBus();
  const trap = (name: string): unknown =>
    new Proxy(
      {},
      {
        get(_t, prop) {
          touched.push(`${name}.${String(prop)}`);
          return () => {
            throw new Error(`${name}.${String(prop)} must not be called`);
          };
        },
      },
    );
  const core = {
    network: { name: 'regtest' },
    params: {},
    db: trap('db'),
    bus,
    chain: trap('chain'),
    regtest: null,
    oracle: trap('oracle'),
    simulated: null,
    vaults: trap('vaults'),
    operations: trap('operations'),
    liquidation: trap('liquidation'),
    keySetId: 1,
    localAccountId: LOCAL,
    activeAccountId: () => LOCAL,
    isHere: (id: string | null) => id === LOCAL,
    playground: null,
    signers: trap('signers'),
    sync: async () => undefined,
    ...parts,
  } as unknown as ApiCore;
  return { core, bus, touched };
}

const as = (...roles: Role[]) => ({ roles });

describe('the contract', () => {
  it('names every method once, each with a params schema, a result schema and a permission', () => {
    expect(new Set(METHOD_NAMES).size).toBe(METHOD_NAMES.length);
    for (const name of METHOD_NAMES) {
      expect(PERMISSIONS).toContain(API[name].permission);
      expect(typeof API[name].params.safeParse).toBe('function');
      expect(typeof API[name].result.safeParse).toBe('function');
      expect(name).toMatch(/^[a-z][a-zA-Z]*\.[a-z][a-zA-Z]*$/);
    }
  });

  it('has unique error codes, and the boundary codes are not core codes', () => {
    expect(new Set(API_ERROR_CODES).size).toBe(API_ERROR_CODES.length);
    for (const c of API_ONLY_ERROR_CODES) expect(ERROR_CODES as readonly string[]).not.toContain(c);
  });

  it("maps the seed's permissions to roles: viewer reads, owner creates and modifies, liquidator takes, admin does all", () => {
    expect(ROLES).toEqual(['viewer', 'owner', 'liquidator', 'admin']);
    expect(allows(['viewer'], 'Read')).toBe(true);
    expect(allows(['viewer'], 'ModifyVault')).toBe(false);
    expect(allows(['owner'], 'CreateVault')).toBe(true);
    expect(allows(['owner'], 'Liquidate')).toBe(false);
    expect(allows(['liquidator'], 'Liquidate')).toBe(true);
    expect(allows(['liquidator'], 'AdminAccess')).toBe(false);
    expect(allows(['owner', 'liquidator'], 'Liquidate')).toBe(true);
    expect(ROLE_PERMISSIONS.admin).toEqual(PERMISSIONS);
    expect(allows([], 'Read')).toBe(false);
    expect(API['auctions.take'].permission).toBe('Liquidate');
    expect(API['vaults.create'].permission).toBe('CreateVault');
    expect(API['vaults.mint'].permission).toBe('ModifyVault');
    // On regtest the playground is every account's (SPEC §3); regtest-only is the handler's check.
    expect(API['regtest.mine'].permission).toBe('Playground');
    expect(allows(['viewer'], 'Playground')).toBe(false);
    expect(allows([], 'Public')).toBe(true);
    expect(API['auth.signIn'].permission).toBe('Public');
    expect(allows(['liquidator'], 'Transfer')).toBe(true);
    expect(allows(['viewer'], 'Transfer')).toBe(false);
  });

  it('has an event schema for every core event the host forwards', () => {
    for (const t of CORE_EVENT_TYPES) expect(EVENT_SCHEMAS[t]).toBeDefined();
  });
});

describe('the dispatcher', () => {
  it('refuses an unknown method with METHOD_NOT_FOUND', async () => {
    const api = createApiService(fakeCore());
    expect(await api.dispatch('vaults.steal', {}, as('admin'))).toMatchObject({
      ok: false,
      error: { code: 'METHOD_NOT_FOUND' },
    });
    expect(await api.dispatch('__proto__', {}, as('admin'))).toMatchObject({
      ok: false,
      error: { code: 'METHOD_NOT_FOUND' },
    });
  });

  it('refuses a method the roles do not allow with FORBIDDEN, before looking at arguments or the core', async () => {
    const f = fakeCore();
    const api = createApiService(f);
    for (const [method, roles] of [
      ['vaults.mint', ['viewer']],
      ['vaults.create', ['liquidator']],
      ['auctions.take', ['owner']],
      ['regtest.mine', ['viewer']],
      ['bsusd.transfer', ['viewer']],
      ['admin.createInvite', ['owner', 'liquidator']],
    ] as const) {
      const out = await api.dispatch(method, { nonsense: true }, as(...roles));
      expect(out, method).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
      if (!out.ok) expect(out.error.message).toMatch(/may not call/);
    }
    // No token at all: only sign-in may be called.
    const anonymous = await api.dispatch('status.get', {}, { roles: [], account: null });
    expect(anonymous).toMatchObject({ ok: false, error: { code: 'UNAUTHENTICATED' } });
    expect(f.touched).toEqual([]);
  });

  it("refuses another account's vault with FORBIDDEN and an account-less caller with ACCOUNT_REQUIRED, before the core acts", async () => {
    const mints: number[] = [];
    const f = fakeCore({
      vaults: { getVault: (id: number) => ({ id, accountId: id === 1 ? ALICE : BOB }) },
      operations: {
        mint: (id: number) => {
          mints.push(id);
          throw new Error('the core must not be asked');
        },
      },
    });
    const api = createApiService(f);
    const alice = { roles: ['owner'] as Role[], account: ALICE };
    expect(
      await api.dispatch('vaults.mint', { vaultId: 2, amountCents: 100 }, alice),
    ).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(await api.dispatch('vaults.get', { vaultId: 2 }, alice)).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN' },
    });
    // The operator may read Bob's vault but not change it.
    const operator = { roles: ['admin'] as Role[], account: null };
    expect(
      await api.dispatch('vaults.mint', { vaultId: 2, amountCents: 100 }, operator),
    ).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(await api.dispatch('balance.get', {}, operator)).toMatchObject({
      ok: false,
      error: { code: 'ACCOUNT_REQUIRED' },
    });
    expect(mints).toEqual([]);
  });

  it('auth.signOut ends the session it is called with, and refuses a gateway token with SESSION_REQUIRED', async () => {
    const ended: string[] = [];
    const f = fakeCore({ accounts: { signOut: (token: string) => ended.push(token) } });
    const api = createApiService(f);
    const bot = { roles: ['liquidator'] as Role[], account: ALICE };
    const out = await api.dispatch('auth.signOut', {}, bot);
    expect(out).toMatchObject({ ok: false, error: { code: 'SESSION_REQUIRED' } });
    if (!out.ok) expect(out.error.message).toMatch(/revoke/);
    expect(ended).toEqual([]);
    const session = { roles: ['owner', 'liquidator'] as Role[], account: ALICE, session: 'tok-a' };
    expect(await api.dispatch('auth.signOut', {}, session)).toEqual({
      ok: true,
      result: { signedOut: true },
    });
    expect(ended).toEqual(['tok-a']);
  });

  it("sends each caller only the events they may see: public ones, their own vaults', their transfers", async () => {
    const owners: Record<number, string> = { 1: ALICE, 2: BOB };
    const f = fakeCore({
      store: { vaults: { accountOf: (id: number) => owners[id] } },
    });
    const api = createApiService(f);
    const seen: Record<string, string[]> = { alice: [], bob: [], admin: [] };
    api.subscribe((e) => seen.alice!.push(`${e.type}`), { roles: ['owner'], account: ALICE });
    api.subscribe((e) => seen.bob!.push(`${e.type}`), { roles: ['owner'], account: BOB });
    api.subscribe((e) => seen.admin!.push(`${e.type}`), { roles: ['admin'], account: null });
    f.bus.emit('vault.changed', { vaultId: 1, state: 'active', collateralSats: 1, debtCents: 0 });
    f.bus.emit('price.accepted', { roundId: 1, priceCents: 100, ts: 1 });
    f.bus.emit('bsusd.transfer', { entryId: 1, from: ALICE, to: BOB, amountCents: 5, memo: null });
    f.bus.emit('spend.changed', { spendId: 1, vaultId: 2, kind: 'withdraw', state: 'signed' });
    await api.delivered!();
    expect(seen.alice).toEqual(['vault.changed', 'price.accepted', 'bsusd.transfer']);
    expect(seen.bob).toEqual(['price.accepted', 'bsusd.transfer', 'spend.changed']);
    expect(seen.admin).toHaveLength(4);
  });

  // Each invalid case: what was sent, and the field the sentence must name.
  const invalid: { description: string; method: string; params: unknown; field: string }[] = [
    {
      description: 'a vault id that is text',
      method: 'vaults.mint',
      params: { vaultId: 'one', amountCents: 100 },
      field: 'vaultId',
    },
    {
      description: 'a negative amount',
      method: 'vaults.mint',
      params: { vaultId: 1, amountCents: -5 },
      field: 'amountCents',
    },
    {
      description: 'a fractional amount (floats are never money)',
      method: 'vaults.repay',
      params: { vaultId: 1, amountCents: 10.5 },
      field: 'amountCents',
    },
    {
      description: 'zero sats',
      method: 'vaults.previewWithdraw',
      params: { vaultId: 1, amountSats: 0, destination: 'bcrt1q' },
      field: 'amountSats',
    },
    {
      description: 'more sats than exist',
      method: 'regtest.faucet',
      params: { address: 'x', amountSats: 2_100_000_000_000_001 },
      field: 'amountSats',
    },
    {
      description: 'a missing field',
      method: 'vaults.close',
      params: { vaultId: 1 },
      field: 'spendId',
    },
    {
      description: 'an unknown field',
      method: 'vaults.get',
      params: { vaultId: 1, admin: true },
      field: 'admin',
    },
    { description: 'not an object at all', method: 'vaults.get', params: [1], field: '' },
    {
      description: 'a label that is too long',
      method: 'vaults.create',
      params: { label: 'x'.repeat(81) },
      field: 'label',
    },
    {
      description: 'an unknown sort key',
      method: 'vaults.list',
      params: { sort: 'owner' },
      field: 'sort',
    },
    {
      description: 'too many blocks',
      method: 'regtest.mine',
      params: { blocks: 1_000_000 },
      field: 'blocks',
    },
  ];
  for (const c of invalid) {
    it(`refuses ${c.description} with INVALID_ARGUMENT naming the field, and never calls the core`, async () => {
      const f = fakeCore();
      const api = createApiService(f);
      const out = await api.dispatch(c.method, c.params, as('admin'));
      expect(out).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
      if (!out.ok) {
        expect(out.error.message).toContain(c.field);
        expect(out.error.message).toMatch(/^[A-Z].*\.$/); // one plain sentence
        expect(out.error.message).not.toMatch(/Invalid input|ZodError|expected/);
      }
      expect(f.touched).toEqual([]);
    });
  }

  it('passes a core refusal through with its code and sentence', async () => {
    const f = fakeCore({
      vaults: { getVault: () => ({ accountId: LOCAL }) },
      operations: {
        mint: () => {
          throw new BitStableError(
            'RATIO_TOO_LOW',
            'Minting that much would leave the vault at 120.00 %.',
            { ratioBps: 12_000 },
          );
        },
      },
    });
    const out = await createApiService(f).dispatch(
      'vaults.mint',
      { vaultId: 1, amountCents: 100 },
      as('owner'),
    );
    expect(out).toEqual({
      ok: false,
      error: {
        code: 'RATIO_TOO_LOW',
        message: 'Minting that much would leave the vault at 120.00 %.',
        data: { ratioBps: 12_000 },
      },
    });
  });

  it('hides unexpected errors behind INTERNAL', async () => {
    const f = fakeCore({
      operations: {
        balanceCents: () => {
          throw new Error('SQLITE_CORRUPT at /home/me/secret/path');
        },
      },
    });
    const out = await createApiService(f).dispatch('balance.get', {}, as('viewer'));
    expect(out).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
    expect(JSON.stringify(out)).not.toContain('secret');
  });

  it('checks results against the contract: a core answer of the wrong shape becomes INTERNAL', async () => {
    const f = fakeCore({ operations: { balanceCents: () => 12.5 } });
    expect(await createApiService(f).dispatch('balance.get', {}, as('viewer'))).toMatchObject({
      ok: false,
      error: { code: 'INTERNAL' },
    });
    const g = fakeCore({ operations: { balanceCents: () => 1_234 } });
    expect(await createApiService(g).dispatch('balance.get', undefined, as('viewer'))).toEqual({
      ok: true,
      result: { bsusdCents: 1_234 },
    });
  });

  it('says why regtest controls are missing elsewhere (NOT_SUPPORTED)', async () => {
    const out = await createApiService(fakeCore()).dispatch(
      'regtest.mine',
      { blocks: 1 },
      as('admin'),
    );
    expect(out).toMatchObject({ ok: false, error: { code: 'NOT_SUPPORTED' } });
  });

  it("forwards the core's events and the host's prompts to every subscriber until closed", () => {
    const f = fakeCore();
    const api = createApiService(f);
    const seen: ApiEvent[] = [];
    const off = api.subscribe((e) => seen.push(e));
    f.bus.emit('vault.created', { vaultId: 7, address: 'bcrt1q' });
    api.emit({
      type: 'signer.prompt',
      payload: {
        state: 'active',
        level: 'info',
        code: 'ledger.sign',
        text: 'Review on your Ledger',
        operation: 'withdrawal',
      },
    });
    off();
    f.bus.emit('vault.created', { vaultId: 8, address: 'bcrt1q' });
    expect(seen).toEqual([
      { type: 'vault.created', payload: { vaultId: 7, address: 'bcrt1q' } },
      {
        type: 'signer.prompt',
        payload: {
          state: 'active',
          level: 'info',
          code: 'ledger.sign',
          text: 'Review on your Ledger',
          operation: 'withdrawal',
        },
      },
    ]);
    api.close();
  });

  it('writes each wrong field as a plain sentence', () => {
    const r = API['vaults.previewWithdraw'].params.safeParse({ vaultId: 0, amountSats: 'ten' });
    expect(r.success).toBe(false);
    const e = invalidArguments('vaults.previewWithdraw', r.error!.issues);
    expect(e.message).toBe(
      'Check the arguments: vaultId must be 1 or more; amountSats must be a whole number of satoshis; destination must be a Bitcoin address.',
    );
  });
});
