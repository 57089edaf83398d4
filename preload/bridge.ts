/**
 * The desktop bridge: what preload exposes as `window.bitstable`, and the IPC channels behind it.
 *
 * The shape the renderer relies on is the contract's `BitStableBridge` (core/api/bridge.ts:
 * `methods`, `onEvent`, `apiVersion`, and its channel names); this adds `on(type, cb)` for one
 * event type at a time (the shell's own events included) and `desktop` (startup, updates, opened
 * files).
 *
 * Main and preload import this file. It must load nothing at run time but core/api/bridge.ts
 * (itself type-only apart from channel names): a sandboxed preload can `require` only
 * Electron's own modules, so zod, and with it core/api/contract.ts, cannot be loaded there. The
 * contract enters as types; the method and event lists below are checked against it at compile
 * time (the `satisfies` and `*_COMPLETE` constants) and by test/unit/electron-preload.test.ts.
 */
import { IPC_EVENT_CHANNEL, ipcChannel, type BitStableBridge } from '../core/api/bridge';
import type { ApiEvent, ApiEventType } from '../core/api/events';
import type { MethodName } from '../core/api/contract';

/** Every contract method, one IPC channel each. */
export const API_METHODS = [
  'api.version',
  'status.get',
  'price.get',
  'price.history',
  'books.get',
  'bsusd.quoteRedemption',
  'bsusd.redeem',
  'bsusd.redemptions',
  'pool.get',
  'pool.deposit',
  'pool.withdraw',
  'vaults.list',
  'vaults.get',
  'vaults.history',
  'vaults.activity',
  'vaults.create',
  'vaults.depositAddress',
  'vaults.showAddress',
  'vaults.setReturnAddress',
  'vaults.mint',
  'vaults.repay',
  'vaults.previewWithdraw',
  'vaults.withdraw',
  'vaults.submitSigned',
  'vaults.previewClose',
  'vaults.close',
  'vaults.previewEmergencyExit',
  'vaults.emergencyExit',
  'vaults.previewSweep',
  'vaults.sweep',
  'psbt.decode',
  'spends.awaitingGuardian',
  'spends.get',
  'wallet.signed',
  'wallet.alone',
  'wallet.exitAlone',
  'wallet.completeExitAlone',
  'wallet.abandonExitAlone',
  'spends.completeWithGuardian',
  'spends.cancelGuardianRequest',
  'admin.cancelSettlement',
  'admin.createInvite',
  'balance.get',
  'node.info',
  'auth.challenge',
  'auth.signIn',
  'auth.signOut',
  'account.get',
  'bsusd.transfer',
  'bsusd.statement',
  'recoveryKit.get',
  'settings.get',
  'auctions.list',
  'auctions.get',
  'auctions.take',
  'regtest.mine',
  'regtest.faucet',
  'regtest.newAddress',
  'regtest.setPrice',
  'playground.accounts',
  'settings.protocolNode',
  'settings.testProtocolNode',
  'settings.setProtocolNode',
  'settings.saved',
  'settings.testBitcoinNode',
  'settings.save',
  'settings.testWebhook',
  'playground.addAccount',
  'playground.switch',
] as const satisfies readonly MethodName[];

/** Compile-time check that no contract method is missing above. */
export const API_METHODS_COMPLETE: [Exclude<MethodName, (typeof API_METHODS)[number]>] extends [
  never,
]
  ? true
  : never = true;

/** The core's event types, forwarded from the ApiService to the window. */
export const API_EVENT_TYPES = [
  'vault.created',
  'vault.changed',
  'price.round',
  'price.accepted',
  'node.status',
  'auction.started',
  'auction.changed',
  'spend.confirmed',
  'spend.changed',
  'bsusd.transfer',
  'signer.prompt',
  'progress',
] as const satisfies readonly ApiEventType[];

/** Compile-time check that no API event type is missing above. */
export const API_EVENT_TYPES_COMPLETE: [
  Exclude<ApiEventType, (typeof API_EVENT_TYPES)[number]>,
] extends [never]
  ? true
  : never = true;

/** What the desktop shell itself tells the window (not part of the core API). */
export interface ShellEvents {
  /** The core's start: where it is, or why it failed. */
  'startup.status': StartupStatus;
  /** Auto-update: checking, downloading (with progress), ready to install, or why not. */
  'update.status': UpdateStatus;
  /**
   * `.psbt` files were opened with the app (double-click, a second launch, File ▸ Open): call
   * `desktop.takeOpenedFiles()` for them. Files opened before the page subscribed wait there too.
   */
  'file.opened': { count: number };
}
export type ShellEventType = keyof ShellEvents;
export const SHELL_EVENT_TYPES = [
  'startup.status',
  'update.status',
  'file.opened',
] as const satisfies readonly ShellEventType[];

export type BridgeEventType = ApiEventType | ShellEventType;
export const BRIDGE_EVENT_TYPES: readonly BridgeEventType[] = [
  ...API_EVENT_TYPES,
  ...SHELL_EVENT_TYPES,
];

/** The payload a subscriber of `type` receives. */
export type BridgeEventPayload<T extends BridgeEventType> = T extends ApiEventType
  ? Extract<ApiEvent, { type: T }>['payload']
  : T extends ShellEventType
    ? ShellEvents[T]
    : never;

/** One message on the event channel. */
export interface BridgeEventMessage {
  type: BridgeEventType;
  payload: unknown;
}

export interface StartupStatus {
  state: 'starting' | 'ready' | 'failed';
  /** The last progress line while starting; the reason when it failed. */
  message: string;
  /** The error code when it failed (e.g. BITCOIND_NOT_FOUND, KEYSTORE_ERROR). */
  code?: string;
}

export interface UpdateStatus {
  state:
    'disabled' | 'idle' | 'checking' | 'none' | 'available' | 'downloading' | 'ready' | 'error';
  /** The version on offer (available, downloading, ready). */
  version?: string;
  /** Plain text (never HTML): what changed in `version`. */
  releaseNotes?: string;
  releaseDate?: string;
  /** 0–100 while downloading. */
  percent?: number;
  transferred?: number;
  total?: number;
  bytesPerSecond?: number;
  /** Why updates are disabled or what went wrong, in plain words. */
  message?: string;
  /** A stable code for `error` (e.g. FEED_SIGNATURE_INVALID, ARTIFACT_SHA512_MISMATCH). */
  code?: string;
  /** Milliseconds since the epoch of the last finished check. */
  checkedAt?: number;
}

export interface OpenedPsbt {
  /** The file's name (no folders). */
  name: string;
  /** The PSBT in base64, ready for `psbt.decode`. */
  psbtBase64: string;
}

export interface DesktopStatus {
  appVersion: string;
  platform: string;
  startup: StartupStatus;
  update: UpdateStatus;
}

/** The shell's own calls (not part of the core API). */
export interface DesktopBridge {
  status(): Promise<DesktopStatus>;
  checkForUpdates(): Promise<UpdateStatus>;
  /** Restarts into the downloaded, verified update; refused unless one is ready. */
  installUpdate(): Promise<{ ok: boolean; message: string }>;
  /** The `.psbt` files opened with the app since the last call (each is returned once). */
  takeOpenedFiles(): Promise<OpenedPsbt[]>;
}

/** `window.bitstable`: the contract's bridge plus per-type subscriptions and the shell's calls. */
export type PreloadBridge = BitStableBridge & {
  /** Subscribes to one event type (API or shell); returns the unsubscribe function. */
  on<T extends BridgeEventType>(
    type: T,
    callback: (payload: BridgeEventPayload<T>) => void,
  ): () => void;
  readonly desktop: DesktopBridge;
};

/** The API version this preload was built against (core/api/contract.ts `API_VERSION`). */
export const BRIDGE_API_VERSION = 3;

/** IPC channel names. */
export const CHANNELS = {
  /** One invoke channel per contract method (the contract's names). */
  api: (method: MethodName): string => ipcChannel(method),
  /** Main → window: every event, API and shell, as `{type, payload}`. */
  event: IPC_EVENT_CHANNEL,
  desktopStatus: 'bitstable:desktop:status',
  checkForUpdates: 'bitstable:desktop:check-for-updates',
  installUpdate: 'bitstable:desktop:install-update',
  takeOpenedFiles: 'bitstable:desktop:take-opened-files',
} as const;

/** The part of ipcRenderer the bridge needs; preload/index.ts passes the real one. */
export interface BridgeTransport {
  invoke(channel: string, arg?: unknown): Promise<unknown>;
  /** Adds a listener for `channel`; the listener gets only the message, never the IPC event. */
  listen(channel: string, listener: (message: unknown) => void): () => void;
}

/**
 * Builds `window.bitstable` over a transport. Every method gets its own named function bound to
 * its own channel, so the page can call only what the contract lists, with one argument.
 */
export function createBridge(transport: BridgeTransport): PreloadBridge {
  const methods = {} as Record<string, (params?: unknown) => Promise<unknown>>;
  for (const method of API_METHODS) {
    const channel = CHANNELS.api(method);
    // One argument only: the page cannot smuggle extra values to the handler.
    methods[method] = (params?: unknown) => transport.invoke(channel, params);
  }

  // One IPC listener, fanned out here, however many subscriptions the page makes.
  const byType = new Map<string, Set<(payload: unknown) => void>>();
  const allApi = new Set<(event: ApiEvent) => void>();
  let detach: (() => void) | null = null;
  const deliver = (fn: () => void, type: string) => {
    try {
      fn();
    } catch (err) {
      // One broken subscriber must not stop the others.
      console.error(`bitstable: a "${type}" subscriber failed`, err);
    }
  };
  const ensureListening = () => {
    detach ??= transport.listen(CHANNELS.event, (message) => {
      if (!isEventMessage(message)) return;
      for (const cb of byType.get(message.type) ?? [])
        deliver(() => cb(message.payload), message.type);
      if ((API_EVENT_TYPES as readonly string[]).includes(message.type)) {
        const event = { type: message.type, payload: message.payload } as ApiEvent;
        for (const cb of allApi) deliver(() => cb(event), message.type);
      }
    });
  };
  const checkCallback = (name: string, callback: unknown) => {
    if (typeof callback !== 'function')
      throw new TypeError(`bitstable.${name}: the callback must be a function.`);
  };

  function on(type: BridgeEventType, callback: (payload: never) => void): () => void {
    if (!BRIDGE_EVENT_TYPES.includes(type)) {
      throw new TypeError(`bitstable.on: unknown event type "${String(type).slice(0, 60)}".`);
    }
    checkCallback('on', callback);
    ensureListening();
    const set = byType.get(type) ?? new Set();
    byType.set(type, set);
    const cb = callback as (payload: unknown) => void;
    set.add(cb);
    return () => {
      set.delete(cb);
    };
  }

  function onEvent(listener: (event: ApiEvent) => void): () => void {
    checkCallback('onEvent', listener);
    ensureListening();
    allApi.add(listener);
    return () => {
      allApi.delete(listener);
    };
  }

  const desktop: DesktopBridge = {
    status: () => transport.invoke(CHANNELS.desktopStatus) as Promise<DesktopStatus>,
    checkForUpdates: () => transport.invoke(CHANNELS.checkForUpdates) as Promise<UpdateStatus>,
    installUpdate: () =>
      transport.invoke(CHANNELS.installUpdate) as Promise<{ ok: boolean; message: string }>,
    takeOpenedFiles: () => transport.invoke(CHANNELS.takeOpenedFiles) as Promise<OpenedPsbt[]>,
  };

  return Object.freeze({
    apiVersion: BRIDGE_API_VERSION,
    methods: Object.freeze(methods) as unknown as BitStableBridge['methods'],
    onEvent,
    on,
    desktop: Object.freeze(desktop),
  }) as PreloadBridge;
}

function isEventMessage(message: unknown): message is BridgeEventMessage {
  return (
    typeof message === 'object' &&
    message !== null &&
    typeof (message as { type?: unknown }).type === 'string' &&
    BRIDGE_EVENT_TYPES.includes((message as { type: BridgeEventType }).type)
  );
}
