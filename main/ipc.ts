/**
 * The IPC binding of the API contract (SPEC §10). Every handler is wrapped so that it:
 *   1. answers only the app's own top-level page in the main window (a foreign or missing frame,
 *      a subframe, or another webContents gets FORBIDDEN and reaches nothing);
 *   2. validates its one argument against the method's zod schema (INVALID_ARGUMENT otherwise:
 *      bad input never reaches the core, so it changes nothing);
 *   3. dispatches through the core's ApiService and returns `{ok, result}` or
 *      `{ok: false, error: {code, message}}` — it never throws across the boundary.
 *
 * It takes an `ipcMain`-like object so tests can pass a fake; Electron is a type here only.
 */
import type { z } from 'zod';
import { API, type MethodName, type Role } from '../core/api/contract';
import { invalidArguments, type CallContext, type DispatchOutcome } from '../core/api/dispatcher';
import { toApiError, type ApiError } from '../core/api/errors';
import { API_METHODS, CHANNELS } from '../preload/bridge';
import { isAppUrl, type AppOrigin } from './security';

/** The parts of an invoke event the wrapper looks at (Electron's IpcMainInvokeEvent has them). */
export interface IpcInvokeEventLike {
  sender: { id: number };
  senderFrame: { url: string; parent: unknown } | null;
}

export type IpcListener = (event: IpcInvokeEventLike, ...args: unknown[]) => unknown;

/** The parts of Electron's ipcMain the wrapper uses. */
export interface IpcMainLike {
  handle(channel: string, listener: IpcListener): void;
  removeHandler(channel: string): void;
}

export interface IpcLogger {
  warn(obj: object, msg: string): void;
}

/** Decides whether an invoke event comes from the app's own page in the main window. */
export type SenderCheck = (event: IpcInvokeEventLike) => boolean;

/**
 * The sender check: the frame exists (it is null once the frame navigated away or was destroyed),
 * is the top-level frame, shows the app's own page, and belongs to the main window's webContents.
 */
export function createSenderCheck(
  origin: AppOrigin,
  mainWebContentsId: () => number | null,
): SenderCheck {
  return (event) => {
    const frame = event.senderFrame;
    if (!frame) return false;
    if (frame.parent) return false;
    if (!isAppUrl(frame.url, origin)) return false;
    const id = mainWebContentsId();
    return id !== null && event.sender.id === id;
  };
}

export interface BindApiOptions {
  ipcMain: IpcMainLike;
  /** The core's dispatcher (ApiService.dispatch, or one that waits for the core to start). */
  dispatch: (method: MethodName, params: unknown, ctx: CallContext) => Promise<DispatchOutcome>;
  isTrustedSender: SenderCheck;
  /** The desktop window's owner holds every role: it is their node. */
  roles?: readonly Role[];
  logger?: IpcLogger;
}

/** Registers one handler per contract method; returns a function that removes them all. */
export function bindApiHandlers(options: BindApiOptions): () => void {
  const ctx: CallContext = { roles: options.roles ?? ['admin'] };
  const channels: string[] = [];
  for (const method of API_METHODS) {
    const channel = CHANNELS.api(method);
    options.ipcMain.handle(channel, (event, ...args) =>
      handleApiCall(method, event, args, ctx, options),
    );
    channels.push(channel);
  }
  return () => {
    for (const channel of channels) options.ipcMain.removeHandler(channel);
  };
}

async function handleApiCall(
  method: MethodName,
  event: IpcInvokeEventLike,
  args: unknown[],
  ctx: CallContext,
  options: BindApiOptions,
): Promise<DispatchOutcome> {
  if (!options.isTrustedSender(event)) {
    options.logger?.warn(
      { method, frame: frameUrl(event) },
      'refused an IPC call from a frame that is not the app',
    );
    return { ok: false, error: forbidden() };
  }
  if (args.length > 1) {
    return {
      ok: false,
      error: {
        code: 'INVALID_ARGUMENT',
        message: `${method} takes one argument, an object of its parameters.`,
      },
    };
  }
  const params = args[0] ?? {};
  const parsed = (API[method].params as z.ZodType).safeParse(params);
  if (!parsed.success) return { ok: false, error: invalidArguments(method, parsed.error.issues) };
  try {
    // The dispatcher parses again (it serves every transport); the raw value goes in so that
    // schema defaults apply exactly once.
    return await options.dispatch(method, params, ctx);
  } catch (err) {
    return { ok: false, error: toApiError(err) };
  }
}

/**
 * Registers a shell handler (status, updates) with the same sender check. These take no
 * arguments; any argument is refused.
 */
export function bindShellHandler<T>(
  options: Pick<BindApiOptions, 'ipcMain' | 'isTrustedSender' | 'logger'>,
  channel: string,
  run: () => Promise<T> | T,
): () => void {
  options.ipcMain.handle(channel, async (event, ...args) => {
    if (!options.isTrustedSender(event)) {
      options.logger?.warn(
        { channel, frame: frameUrl(event) },
        'refused an IPC call from a frame that is not the app',
      );
      throw new Error(forbidden().message);
    }
    if (args.some((a) => a !== undefined)) throw new Error(`${channel} takes no arguments.`);
    return run();
  });
  return () => options.ipcMain.removeHandler(channel);
}

function forbidden(): ApiError {
  return { code: 'FORBIDDEN', message: 'Only the BitStable window may call the BitStable API.' };
}

function frameUrl(event: IpcInvokeEventLike): string {
  return event.senderFrame ? event.senderFrame.url.slice(0, 200) : '(no frame)';
}
