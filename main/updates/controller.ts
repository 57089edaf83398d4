/**
 * Auto-update with a signed feed on top of electron-updater (SPEC §12).
 *
 * electron-updater fetches the feed, downloads and checks the sha512 it read from that feed; this
 * controller adds what it lacks: before anything is downloaded, the feed for the offered version
 * is fetched again with its `.sig` and verified under the shipped key, must not be a downgrade,
 * and must list exactly what electron-updater offers; after the download, the file is hashed
 * against the signed entry. Only then is the update "ready", and it is installed only when the
 * user says so (never silently at quit).
 *
 * Plain Node: electron-updater's autoUpdater is passed in (tests pass a fake).
 */
import { unlink } from 'node:fs/promises';
import type { UpdateStatus } from '../../preload/bridge';
import {
  checkOfferMatchesFeed,
  fetchSignedFeed,
  UpdateVerificationError,
  verifyArtifact,
  type FeedFile,
  type FetchLike,
  type UpdateFeed,
} from './verify';

/** electron-updater's UpdateInfo, reduced to what the controller reads. */
export interface OfferedUpdateInfo {
  version: string;
  files: ReadonlyArray<{ url: string; sha512: string; size?: number }>;
  releaseNotes?: unknown;
  releaseDate?: string;
}

export interface ProgressLike {
  percent: number;
  transferred: number;
  total: number;
  bytesPerSecond: number;
}

/** The parts of electron-updater's AppUpdater the controller drives. */
export interface UpdaterLike {
  checkForUpdates(): Promise<{ isUpdateAvailable: boolean; updateInfo: OfferedUpdateInfo } | null>;
  downloadUpdate(): Promise<unknown>;
  quitAndInstall(isSilent?: boolean, isForceRunAfter?: boolean): void;
  on(event: 'download-progress', listener: (progress: ProgressLike) => void): unknown;
  on(event: 'update-downloaded', listener: (event: { downloadedFile: string }) => void): unknown;
}

export interface UpdateLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface UpdateControllerOptions {
  updater: UpdaterLike;
  currentVersion: string;
  /** Trusted release keys (public-key.ts). */
  publicKeys: readonly string[];
  /** The feed URL of a version (source.ts `feedUrlFor`). */
  feedUrl: (version: string) => string;
  fetch: FetchLike;
  onStatus: (status: UpdateStatus) => void;
  /** Runs before quitAndInstall: stops the core, so bitcoind and the database close cleanly. */
  beforeInstall?: () => Promise<void>;
  /** When set, updates are off and this says why (not packaged, no key, no feed). */
  disabledReason?: string | null;
  logger?: UpdateLogger;
  now?: () => number;
  /**
   * The newest version a verified feed has offered (kept across restarts): a feed older than it
   * is an old feed served again, and refused.
   */
  highestSeen?: { get(): string | null; set(version: string): void };
}

/** Checks, verifies, downloads and installs updates; reports every step as an UpdateStatus. */
export class UpdateController {
  private current: UpdateStatus;
  private checking: Promise<UpdateStatus> | null = null;
  private ready: { file: string; entry: FeedFile; feed: UpdateFeed } | null = null;
  private downloadedFile: string | null = null;
  private timers: NodeJS.Timeout[] = [];
  private lastPercent = -1;

  constructor(private readonly options: UpdateControllerOptions) {
    this.current = options.disabledReason
      ? { state: 'disabled', message: options.disabledReason }
      : { state: 'idle' };
    options.updater.on('download-progress', (p) => this.onProgress(p));
    options.updater.on('update-downloaded', (e) => {
      this.downloadedFile = e.downloadedFile;
    });
  }

  /** The latest status. */
  status(): UpdateStatus {
    return { ...this.current };
  }

  /** Checks at start (after `firstDelayMs`) and every `intervalMs`; timers never keep the app alive. */
  schedule(firstDelayMs: number, intervalMs: number): void {
    if (this.options.disabledReason) return;
    const first = setTimeout(() => void this.check(), firstDelayMs);
    const every = setInterval(() => void this.check(), intervalMs);
    first.unref();
    every.unref();
    this.timers.push(first, every);
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
  }

  /** Checks now (one check at a time); downloads and verifies a newer signed release. */
  check(): Promise<UpdateStatus> {
    if (this.options.disabledReason) return Promise.resolve(this.status());
    if (this.current.state === 'ready' || this.current.state === 'downloading')
      return Promise.resolve(this.status());
    this.checking ??= this.run().finally(() => {
      this.checking = null;
    });
    return this.checking;
  }

  /** Installs the verified update and restarts, on the user's word; refused when none is ready. */
  async install(): Promise<{ ok: boolean; message: string }> {
    const ready = this.ready;
    if (!ready || this.current.state !== 'ready') {
      return { ok: false, message: 'No verified update is ready to install.' };
    }
    try {
      // Hashed again: the file sat in a cache folder since it was verified.
      await verifyArtifact(ready.file, ready.feed, ready.entry.url);
    } catch (err) {
      this.ready = null;
      this.fail(err);
      return { ok: false, message: this.current.message ?? 'The update failed its check.' };
    }
    this.options.logger?.info({ version: ready.feed.version }, 'installing the update');
    await this.options.beforeInstall?.();
    this.options.updater.quitAndInstall(false, true);
    return { ok: true, message: `Restarting into BitStable ${ready.feed.version}.` };
  }

  private async run(): Promise<UpdateStatus> {
    const o = this.options;
    this.set({ state: 'checking' });
    try {
      const result = await o.updater.checkForUpdates();
      if (!result || !result.isUpdateAvailable) {
        this.set({ state: 'none', checkedAt: this.now() });
        return this.status();
      }
      const info = result.updateInfo;
      const offer = await fetchSignedFeed({
        feedUrl: o.feedUrl(info.version),
        publicKeys: o.publicKeys,
        currentVersion: o.currentVersion,
        fetch: o.fetch,
        highestSeen: o.highestSeen?.get() ?? null,
        now: this.now(),
      });
      o.highestSeen?.set(offer.feed.version);
      checkOfferMatchesFeed(info, offer.feed);
      if (offer.kind === 'current') {
        this.set({ state: 'none', checkedAt: this.now() });
        return this.status();
      }
      const feed = offer.feed;
      const about = {
        version: feed.version,
        ...optional('releaseNotes', releaseNotesText(feed.releaseNotes ?? info.releaseNotes)),
        ...optional('releaseDate', feed.releaseDate ?? info.releaseDate),
      };
      this.set({ state: 'available', ...about });
      o.logger?.info({ version: feed.version }, 'a signed update is available; downloading');

      this.downloadedFile = null;
      this.lastPercent = -1;
      this.set({ state: 'downloading', ...about, percent: 0 });
      const paths = await o.updater.downloadUpdate();
      const file = this.downloadedFile ?? firstPath(paths);
      if (!file) throw new Error('The updater did not say where it saved the download.');
      let entry: FeedFile;
      try {
        entry = await verifyArtifact(file, feed);
      } catch (err) {
        // A refused download must not be picked up from the cache later.
        await unlink(file).catch(() => undefined);
        throw err;
      }
      this.ready = { file, entry, feed };
      this.set({ state: 'ready', ...about, checkedAt: this.now() });
      o.logger?.info({ version: feed.version, file }, 'the update is downloaded and verified');
    } catch (err) {
      this.fail(err);
    }
    return this.status();
  }

  private onProgress(p: ProgressLike): void {
    if (this.current.state !== 'downloading') return;
    const percent = Math.max(0, Math.min(100, Math.floor(p.percent)));
    if (percent === this.lastPercent) return;
    this.lastPercent = percent;
    this.set({
      ...this.current,
      percent,
      transferred: p.transferred,
      total: p.total,
      bytesPerSecond: p.bytesPerSecond,
    });
  }

  private fail(err: unknown): void {
    const known = err instanceof UpdateVerificationError;
    this.options.logger?.warn(
      { err, code: known ? err.code : 'UPDATE_FAILED' },
      'update refused or failed',
    );
    this.set({
      state: 'error',
      code: known ? err.code : 'UPDATE_FAILED',
      message: known
        ? err.message
        : `Checking for updates failed: ${(err as Error)?.message ?? String(err)}`,
      checkedAt: this.now(),
    });
  }

  private set(status: UpdateStatus): void {
    this.current = status;
    this.options.onStatus(this.status());
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}

function optional<K extends string, V>(key: K, value: V | undefined | null): { [P in K]?: V } {
  return (value === undefined || value === null ? {} : { [key]: value }) as { [P in K]?: V };
}

function firstPath(paths: unknown): string | null {
  return Array.isArray(paths) && typeof paths[0] === 'string' ? paths[0] : null;
}

/**
 * Release notes as plain text: electron-builder and GitHub give HTML (or a list per version);
 * the renderer shows text, never markup from the network.
 */
export function releaseNotesText(notes: unknown): string | undefined {
  if (typeof notes === 'string') return htmlToText(notes);
  if (Array.isArray(notes)) {
    const parts = notes
      .filter(
        (n): n is { version: string; note: string | null } =>
          typeof n === 'object' && n !== null && 'version' in n,
      )
      .map((n) => `${String(n.version)}\n${htmlToText(String(n.note ?? ''))}`);
    return parts.length ? parts.join('\n\n').slice(0, 20_000) : undefined;
  }
  return undefined;
}

function htmlToText(html: string): string {
  const text = html
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, '')
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|div|h[1-6]|li|ul|ol|pre)>/gi, '\n')
    .replace(/<li[^>]*>/gi, '• ')
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return text.slice(0, 20_000);
}
