/** The gateway's pieces that need no node: loopback rules, JSON-RPC framing, the token file. */
import { mkdtempSync, rmSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DispatchOutcome } from '../../core/api/dispatcher';
import { handleRpcText, rpcCode } from '../../core/gateway/jsonrpc';
import { checkBindHost, isLoopback } from '../../core/gateway/server';
import { addToken, loadTokens, matchToken } from '../../core/gateway/tokens';
import { isBitStableError } from '../../core/errors';

describe('loopback only', () => {
  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost'])
      expect(isLoopback(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.10', '10.0.0.1', 'example.com', '128.0.0.1'])
      expect(isLoopback(h), h).toBe(false);
  });

  it('refuses a non-loopback bind with INVALID_CONFIG unless remote access is asked for', () => {
    expect(() => checkBindHost('127.0.0.1', false)).not.toThrow();
    for (const h of ['0.0.0.0', '192.168.1.10']) {
      let err: unknown;
      try {
        checkBindHost(h, false);
      } catch (e) {
        err = e;
      }
      expect(isBitStableError(err, 'INVALID_CONFIG')).toBe(true);
      expect((err as Error).message).toMatch(/--allow-remote/);
      expect(() => checkBindHost(h, true)).not.toThrow();
    }
  });
});

describe('JSON-RPC 2.0 framing', () => {
  const dispatch = async (method: string, params: unknown): Promise<DispatchOutcome> =>
    method === 'echo'
      ? ({ ok: true, result: params } as DispatchOutcome)
      : { ok: false, error: { code: 'METHOD_NOT_FOUND', message: 'no' } };
  const ctx = { roles: ['viewer' as const] };

  it('reads numbers exactly: a literal a double cannot hold is refused, never rounded into another amount', async () => {
    const calls: unknown[] = [];
    const record = async (_method: string, params: unknown): Promise<DispatchOutcome> => {
      calls.push(params);
      return { ok: true, result: params } as DispatchOutcome;
    };
    const send = async (literal: string) =>
      JSON.parse(
        (await handleRpcText(
          `{"jsonrpc":"2.0","id":1,"method":"echo","params":{"amountCents":${literal}}}`,
          ctx,
          record,
        ))!,
      ) as { result?: unknown; error?: { message: string; data: { code: string } } };
    for (const bad of ['100.0000000000000001', '9007199254740993', '1e2', '100.0', '1e400']) {
      const r = await send(bad);
      expect(r.error?.data.code, bad).toBe('INVALID_ARGUMENT');
      expect(r.error?.message, bad).toMatch(/cannot be read exactly/);
    }
    expect(calls).toEqual([]);
    expect((await send('100')).result).toEqual({ amountCents: 100 });
    expect((await send('0.5')).result).toEqual({ amountCents: 0.5 }); // exact; an int field refuses it
    expect(calls).toHaveLength(2);
  });

  it('answers a call with its id, and an error with a JSON-RPC code and our code in data', async () => {
    expect(
      JSON.parse(
        (await handleRpcText(
          '{"jsonrpc":"2.0","id":7,"method":"echo","params":{"a":1}}',
          ctx,
          dispatch,
        ))!,
      ),
    ).toEqual({ jsonrpc: '2.0', id: 7, result: { a: 1 } });
    expect(
      JSON.parse(
        (await handleRpcText('{"jsonrpc":"2.0","id":"x","method":"nope"}', ctx, dispatch))!,
      ),
    ).toEqual({
      jsonrpc: '2.0',
      id: 'x',
      error: { code: -32601, message: 'no', data: { code: 'METHOD_NOT_FOUND' } },
    });
  });

  it('refuses text that is not JSON (-32700) and requests without "jsonrpc": "2.0" (-32600)', async () => {
    expect(JSON.parse((await handleRpcText('{nope', ctx, dispatch))!).error).toMatchObject({
      code: -32700,
      data: { code: 'INVALID_ARGUMENT' },
    });
    expect(
      JSON.parse((await handleRpcText('{"id":1,"method":"echo"}', ctx, dispatch))!).error,
    ).toMatchObject({ code: -32600 });
  });

  it('sends nothing back for a notification, and answers batches', async () => {
    expect(await handleRpcText('{"jsonrpc":"2.0","method":"echo"}', ctx, dispatch)).toBeNull();
    const batch = JSON.parse(
      (await handleRpcText(
        '[{"jsonrpc":"2.0","id":1,"method":"echo","params":1},{"jsonrpc":"2.0","id":2,"method":"nope"}]',
        ctx,
        dispatch,
      ))!,
    );
    expect(batch).toHaveLength(2);
    expect(JSON.parse((await handleRpcText('[]', ctx, dispatch))!).error.data.code).toBe(
      'INVALID_ARGUMENT',
    );
  });

  it('maps our codes to JSON-RPC codes', () => {
    expect(rpcCode('INVALID_ARGUMENT')).toBe(-32602);
    expect(rpcCode('UNAUTHENTICATED')).toBe(-32001);
    expect(rpcCode('FORBIDDEN')).toBe(-32003);
    expect(rpcCode('RATIO_TOO_LOW')).toBe(-32000);
  });
});

describe('the token file', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is created once with an all-roles token, mode 0600; tokens are matched exactly', () => {
    dir = mkdtempSync(join(tmpdir(), 'bitstable-tokens-'));
    const first = loadTokens(dir);
    expect(first.created).toBe(true);
    expect(first.tokens).toHaveLength(1);
    expect(first.tokens[0]!.roles).toEqual(['admin']);
    expect(statSync(first.path).mode & 0o777).toBe(0o600);
    expect(loadTokens(dir)).toMatchObject({ created: false, tokens: first.tokens });

    const viewer = addToken(dir, ['viewer'], 'dashboard');
    expect(statSync(first.path).mode & 0o777).toBe(0o600);
    const all = loadTokens(dir).tokens;
    expect(matchToken(all, viewer.token)?.roles).toEqual(['viewer']);
    expect(matchToken(all, first.tokens[0]!.token)?.roles).toEqual(['admin']);
    expect(matchToken(all, `${viewer.token}x`)).toBeNull();
    expect(matchToken(all, '')).toBeNull();
    expect(matchToken(all, null)).toBeNull();
    expect(JSON.parse(readFileSync(first.path, 'utf8')).version).toBe(1);
  });
});
