/**
 * The IPC binding, with a fake ipcMain: it answers only the app's top-level page in the main
 * window, validates every argument against the contract's schemas before anything reaches the
 * core, and always answers `{ok, result}` / `{ok: false, error}`.
 */
import { APP_INDEX_URL } from '../../main/security';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import { METHOD_NAMES, type MethodName } from '../../core/api/contract';
import type { CallContext, DispatchOutcome } from '../../core/api/dispatcher';
import { BitStableError } from '../../core/errors';
import {
  bindApiHandlers,
  bindShellHandler,
  createSenderCheck,
  type IpcInvokeEventLike,
  type IpcListener,
  type IpcMainLike,
} from '../../main/ipc';
import { CHANNELS } from '../../preload/bridge';

const INDEX = join('/', 'app', 'out', 'renderer', 'index.html');
const APP_URL = `${APP_INDEX_URL}#/`;
const MAIN_ID = 7;

class FakeIpcMain implements IpcMainLike {
  handlers = new Map<string, IpcListener>();
  handle(channel: string, listener: IpcListener): void {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  invoke(channel: string, event: IpcInvokeEventLike, ...args: unknown[]): Promise<unknown> {
    const h = this.handlers.get(channel);
    if (!h) throw new Error(`no handler for ${channel}`);
    return Promise.resolve(h(event, ...args));
  }
}

const fromApp: IpcInvokeEventLike = {
  sender: { id: MAIN_ID },
  senderFrame: { url: APP_URL, parent: null },
};

let ipc: FakeIpcMain;
let calls: Array<{ method: MethodName; params: unknown; ctx: CallContext }>;
let answer: (method: MethodName) => Promise<DispatchOutcome>;
let unbind: () => void;

beforeEach(() => {
  ipc = new FakeIpcMain();
  calls = [];
  answer = async () => ({ ok: true, result: { height: 101 } }) as DispatchOutcome;
  unbind = bindApiHandlers({
    ipcMain: ipc,
    dispatch: (method, params, ctx) => {
      calls.push({ method, params, ctx });
      return answer(method);
    },
    isTrustedSender: createSenderCheck(
      { rendererIndexPath: INDEX, devServerUrl: null },
      () => MAIN_ID,
    ),
  });
});

const call = (method: MethodName, event: IpcInvokeEventLike, ...args: unknown[]) =>
  ipc.invoke(CHANNELS.api(method), event, ...args) as Promise<DispatchOutcome>;

describe('the IPC binding', () => {
  it('registers one channel per contract method, and removes them all', () => {
    expect([...ipc.handlers.keys()].sort()).toEqual(METHOD_NAMES.map((m) => `api:${m}`).sort());
    unbind();
    expect(ipc.handlers.size).toBe(0);
  });

  it('dispatches a valid call from the app with the owner’s roles', async () => {
    expect(await call('regtest.mine', fromApp, { blocks: 3 })).toEqual({
      ok: true,
      result: { height: 101 },
    });
    expect(calls).toEqual([
      { method: 'regtest.mine', params: { blocks: 3 }, ctx: { roles: ['admin'] } },
    ]);
  });

  it('passes a method with no parameters an empty object', async () => {
    await call('status.get', fromApp);
    expect(calls[0]!.params).toEqual({});
  });

  it.each([
    [
      'a page from another site',
      { sender: { id: MAIN_ID }, senderFrame: { url: 'https://evil.example/', parent: null } },
    ],
    [
      'another local file',
      {
        sender: { id: MAIN_ID },
        senderFrame: { url: pathToFileURL('/tmp/evil.html').href, parent: null },
      },
    ],
    [
      'a frame inside the app',
      { sender: { id: MAIN_ID }, senderFrame: { url: APP_URL, parent: {} } },
    ],
    ['a frame that navigated away or died', { sender: { id: MAIN_ID }, senderFrame: null }],
    [
      'another window showing the app',
      { sender: { id: MAIN_ID + 1 }, senderFrame: { url: APP_URL, parent: null } },
    ],
    [
      'the dev server in a packaged app',
      { sender: { id: MAIN_ID }, senderFrame: { url: 'http://localhost:5173/', parent: null } },
    ],
  ] as Array<[string, IpcInvokeEventLike]>)(
    'refuses %s with FORBIDDEN, reaching nothing',
    async (_what, event) => {
      const outcome = await call('regtest.mine', event, { blocks: 1 });
      expect(outcome).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
      expect(calls).toEqual([]);
    },
  );

  it.each([
    ['a wrong type', 'regtest.mine', { blocks: 'ten' }],
    ['out of range', 'regtest.mine', { blocks: 0 }],
    ['a missing field', 'vaults.get', {}],
    ['an unknown field', 'vaults.get', { vaultId: 1, admin: true }],
    ['not an object', 'vaults.create', 'hello'],
    ['a prototype-polluting key', 'status.get', JSON.parse('{"__proto__": {"x": 1}, "y": 2}')],
  ] as Array<[string, MethodName, unknown]>)(
    'refuses bad arguments (%s) with INVALID_ARGUMENT before the core',
    async (_what, method, params) => {
      const outcome = await call(method, fromApp, params);
      expect(outcome).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
      expect(outcome.ok ? '' : outcome.error.message).toMatch(/\S/);
      expect(calls).toEqual([]);
    },
  );

  it('refuses extra arguments', async () => {
    expect(await call('status.get', fromApp, {}, { sneaky: true })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT' },
    });
    expect(calls).toEqual([]);
  });

  it('names the wrong field', async () => {
    const outcome = await call('regtest.mine', fromApp, { blocks: 5000 });
    expect(outcome).toMatchObject({
      ok: false,
      error: {
        code: 'INVALID_ARGUMENT',
        data: { method: 'regtest.mine', issues: [{ path: 'blocks' }] },
      },
    });
  });

  it('never throws across the boundary: a failing core becomes its error code', async () => {
    answer = async () => {
      throw new BitStableError('NODE_UNREACHABLE', 'The Bitcoin node is not answering.');
    };
    expect(await call('status.get', fromApp)).toEqual({
      ok: false,
      error: { code: 'NODE_UNREACHABLE', message: 'The Bitcoin node is not answering.', data: {} },
    });
    answer = async () => {
      throw new Error('secret internals');
    };
    const outcome = await call('status.get', fromApp);
    expect(outcome).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
    expect(JSON.stringify(outcome)).not.toMatch(/secret internals/);
  });
});

describe('shell handlers', () => {
  it('answer the app and refuse anyone else or any argument', async () => {
    const check = createSenderCheck({ rendererIndexPath: INDEX }, () => MAIN_ID);
    bindShellHandler({ ipcMain: ipc, isTrustedSender: check }, CHANNELS.desktopStatus, () => ({
      fine: true,
    }));
    expect(await ipc.invoke(CHANNELS.desktopStatus, fromApp)).toEqual({ fine: true });
    await expect(
      ipc.invoke(CHANNELS.desktopStatus, {
        sender: { id: MAIN_ID },
        senderFrame: { url: 'https://evil.example/', parent: null },
      }),
    ).rejects.toThrow(/Only the BitStable window/);
    await expect(ipc.invoke(CHANNELS.desktopStatus, fromApp, { x: 1 })).rejects.toThrow(
      /no arguments/,
    );
  });

  it('refuse everyone while the main window is gone', async () => {
    const check = createSenderCheck({ rendererIndexPath: INDEX }, () => null);
    expect(check(fromApp)).toBe(false);
  });
});
