/**
 * What the Electron preload exposes as `window.bitstable`: one named function per contract
 * method (each its own IPC channel, `api:<method>`), plus the event stream. Types only, so the
 * preload and the renderer can import it without pulling in anything else.
 */
import type { MethodName, Params, Result } from './contract';
import type { ApiError } from './errors';
import type { ApiEvent } from './events';

/** A call's outcome as it crosses IPC (errors are data, not thrown, so their code survives). */
export type BridgeOutcome<M extends MethodName> =
  { ok: true; result: Result<M> } | { ok: false; error: ApiError };

export type BitStableBridge = {
  apiVersion: number;
  /** Subscribes to every API event; returns the unsubscribe function. */
  onEvent(listener: (event: ApiEvent) => void): () => void;
  /** One function per method. */
  methods: { [M in MethodName]: (params: Params<M>) => Promise<BridgeOutcome<M>> };
};

/** The IPC channel of a method. */
export const ipcChannel = (method: MethodName) => `api:${method}`;
/** The IPC channel events arrive on. */
export const IPC_EVENT_CHANNEL = 'api:event';
