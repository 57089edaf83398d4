/**
 * What preload exposes as `window.bitstable`: the contract's BitStableBridge (one named function
 * per method on its own channel, `onEvent`), `on(type, cb)` that hands callbacks only payloads,
 * the shell's `desktop` calls — nothing else, and nothing a sandboxed preload cannot load.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IPC_EVENT_CHANNEL, ipcChannel, type BitStableBridge } from '../../core/api/bridge';
import { API_VERSION, METHOD_NAMES } from '../../core/api/contract';
import { EVENT_TYPES } from '../../core/api/events';
import {
  API_EVENT_TYPES,
  API_METHODS,
  BRIDGE_API_VERSION,
  CHANNELS,
  createBridge,
  SHELL_EVENT_TYPES,
  type BridgeTransport,
  type PreloadBridge,
} from '../../preload/bridge';

const ROOT = join(import.meta.dirname, '..', '..');

function fakeTransport() {
  const invoked: Array<{ channel: string; args: unknown[] }> = [];
  const listeners = new Map<string, Set<(m: unknown) => void>>();
  const transport: BridgeTransport = {
    invoke: async (channel, ...args) => {
      invoked.push({ channel, args });
      return { ok: true, result: channel };
    },
    listen(channel, listener) {
      const set = listeners.get(channel) ?? new Set();
      listeners.set(channel, set);
      set.add(listener);
      return () => set.delete(listener);
    },
  };
  const emit = (message: unknown) => {
    for (const l of listeners.get(CHANNELS.event) ?? []) l(message);
  };
  return { transport, invoked, listeners, emit };
}

describe('the bridge’s lists', () => {
  it('name exactly the contract’s methods and events', () => {
    expect([...API_METHODS].sort()).toEqual([...METHOD_NAMES].sort());
    expect([...API_EVENT_TYPES].sort()).toEqual([...EVENT_TYPES].sort());
    expect(BRIDGE_API_VERSION).toBe(API_VERSION);
  });

  it('shell events do not collide with API events', () => {
    for (const t of SHELL_EVENT_TYPES) expect(API_EVENT_TYPES).not.toContain(t as never);
  });
});

describe('window.bitstable', () => {
  it('has the contract’s shape, which the renderer’s client uses', () => {
    // Compile-time: what preload builds is a BitStableBridge.
    const bridge: BitStableBridge = createBridge(fakeTransport().transport);
    expect(bridge.apiVersion).toBe(API_VERSION);
  });

  it('has one function per method, each calling its own channel with one argument', async () => {
    const { transport, invoked } = fakeTransport();
    const methods = createBridge(transport).methods as unknown as Record<
      string,
      (...a: unknown[]) => Promise<unknown>
    >;
    expect(Object.keys(methods).sort()).toEqual([...METHOD_NAMES].sort());
    for (const method of METHOD_NAMES) {
      expect(typeof methods[method]).toBe('function');
      await methods[method]!({ a: 1 }, 'extra', 'args');
    }
    expect(invoked).toEqual(
      METHOD_NAMES.map((m) => ({ channel: ipcChannel(m), args: [{ a: 1 }] })),
    );
  });

  it('exposes nothing else: no invoke, no send, no ipcRenderer', () => {
    const bridge: PreloadBridge = createBridge(fakeTransport().transport);
    expect(Object.keys(bridge).sort()).toEqual([
      'apiVersion',
      'desktop',
      'methods',
      'on',
      'onEvent',
    ]);
    expect(Object.keys(bridge.desktop).sort()).toEqual([
      'checkForUpdates',
      'installUpdate',
      'status',
      'takeOpenedFiles',
    ]);
    expect(Object.isFrozen(bridge)).toBe(true);
    expect(Object.isFrozen(bridge.methods)).toBe(true);
  });

  it('onEvent() delivers every API event whole, and no shell event', () => {
    const { transport, emit } = fakeTransport();
    const bridge = createBridge(transport);
    const got: unknown[] = [];
    const off = bridge.onEvent((e) => got.push(e));
    emit({ type: 'vault.created', payload: { vaultId: 1, address: 'x' } });
    emit({ type: 'update.status', payload: { state: 'checking' } });
    off();
    emit({ type: 'vault.created', payload: { vaultId: 2, address: 'y' } });
    expect(got).toEqual([{ type: 'vault.created', payload: { vaultId: 1, address: 'x' } }]);
    expect(CHANNELS.event).toBe(IPC_EVENT_CHANNEL);
  });

  it('desktop calls go to their own channels without arguments', async () => {
    const { transport, invoked } = fakeTransport();
    const bridge = createBridge(transport);
    await bridge.desktop.status();
    await bridge.desktop.checkForUpdates();
    await bridge.desktop.installUpdate();
    await bridge.desktop.takeOpenedFiles();
    expect(invoked).toEqual([
      { channel: CHANNELS.desktopStatus, args: [] },
      { channel: CHANNELS.checkForUpdates, args: [] },
      { channel: CHANNELS.installUpdate, args: [] },
      { channel: CHANNELS.takeOpenedFiles, args: [] },
    ]);
  });

  it('on() delivers payloads of the chosen type only, and its return unsubscribes', () => {
    const { transport, emit, listeners } = fakeTransport();
    const bridge = createBridge(transport);
    const got: unknown[] = [];
    const off = bridge.on('price.accepted', (p) => got.push(p));
    const updates: unknown[] = [];
    bridge.on('update.status', (p) => updates.push(p));
    emit({ type: 'price.accepted', payload: { roundId: 1, priceCents: 4_500_000, ts: 1 } });
    emit({ type: 'vault.created', payload: { vaultId: 1, address: 'x' } });
    emit({ type: 'update.status', payload: { state: 'checking' } });
    emit('garbage');
    emit({ type: 'not.an.event', payload: 1 });
    off();
    emit({ type: 'price.accepted', payload: { roundId: 2, priceCents: 1, ts: 2 } });
    expect(got).toEqual([{ roundId: 1, priceCents: 4_500_000, ts: 1 }]);
    expect(updates).toEqual([{ state: 'checking' }]);
    // One IPC listener however many subscriptions.
    expect(listeners.get(CHANNELS.event)?.size).toBe(1);
  });

  it('on() refuses unknown event types and non-functions', () => {
    const bridge = createBridge(fakeTransport().transport);
    expect(() => bridge.on('ipc.raw' as never, () => {})).toThrow(/unknown event type/);
    expect(() => bridge.on('progress', 'x' as never)).toThrow(/function/);
  });

  it('one failing subscriber does not stop the others', () => {
    const { transport, emit } = fakeTransport();
    const bridge = createBridge(transport);
    const got: unknown[] = [];
    const error = console.error;
    console.error = () => {};
    try {
      bridge.on('progress', () => {
        throw new Error('boom');
      });
      bridge.on('progress', (p) => got.push(p));
      emit({ type: 'progress', payload: { text: 'Mining 101 blocks' } });
    } finally {
      console.error = error;
    }
    expect(got).toEqual([{ text: 'Mining 101 blocks' }]);
  });
});

describe('the preload sources', () => {
  it('load nothing at run time but core/api/bridge.ts, itself import-free (a sandboxed preload can require only electron)', () => {
    const imports = (file: string) =>
      readFileSync(join(ROOT, file), 'utf8').match(/^import [^;]*;/gm) ?? [];
    for (const line of imports('preload/bridge.ts')) {
      if (!/^import type /.test(line)) expect(line).toMatch(/from '\.\.\/core\/api\/bridge';$/);
    }
    for (const line of imports('core/api/bridge.ts')) expect(line).toMatch(/^import type /);
  });

  it('index.ts exposes only window.bitstable, built by createBridge, and never ipcRenderer itself', () => {
    const src = readFileSync(join(ROOT, 'preload', 'index.ts'), 'utf8');
    expect(src.match(/exposeInMainWorld\(/g)).toHaveLength(1);
    expect(src).toMatch(/exposeInMainWorld\('bitstable', bridge\)/);
    expect(src).not.toMatch(/exposeInIsolatedWorld|webFrame|require\(/);
    // The listener is wrapped so the page's callback never sees the IPC event (its sender is ipcRenderer).
    expect(src).toMatch(/\(_event: IpcRendererEvent, message: unknown\) => listener\(message\)/);
  });
});
