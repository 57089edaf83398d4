/**
 * Vault alerts that reach the person outside the app (issue 15 item 2): the host posts Warning,
 * an auction starting, a settlement, a vault healthy again after an auction and a vault falling
 * under the user's own ratio alert to a webhook URL chosen in Settings, as ntfy's or Slack's JSON. Sent from the host (the desktop's main process,
 * the headless host), so they go out while no window is open.
 *
 * Written by hand: a POST of a few fields with a retry is smaller than any client library, and
 * the two formats are each one object.
 */
import type { ApiEvent } from '../api/events';
import { BitStableError } from '../errors';
import { httpUrl } from '../config/http-url';
import { bpsText, RATIO_ALERT_LOOK, ratioCrossings } from '../vaults/ratio-alert';

export type WebhookFormat = 'ntfy' | 'slack';

export interface WebhookTarget {
  url: string;
  format: WebhookFormat;
}

export interface WebhookMessage {
  title: string;
  message: string;
  /** ntfy's priority (3 default, 4 high, 5 urgent). */
  priority: 3 | 4 | 5;
  tags: string[];
}

/** What the webhook last did, for Settings. */
export interface WebhookStatus {
  sent: number;
  failed: number;
  last: { at: number; ok: boolean; title: string; error: string | null } | null;
}

/** A webhook URL as given: http(s), no credentials in it (a Slack URL's path is its secret). */
export function checkWebhookUrl(text: string): string {
  const url = httpUrl(text, {
    example: "https://ntfy.sh/your-topic or your Slack webhook's URL",
    what: 'A webhook',
    data: { field: 'webhook.url' },
  });
  if (url.username || url.password)
    throw new BitStableError(
      'INVALID_ARGUMENT',
      'Give the webhook address without a user name or password in it.',
      { field: 'webhook.url' },
    );
  return url.href;
}

/** The message for a vault event worth telling outside the app; null for the rest. */
export function webhookMessage(
  event: ApiEvent,
  previous: string | undefined,
): WebhookMessage | null {
  if (event.type !== 'vault.changed') return null;
  const { vaultId, state } = event.payload;
  if (state === previous) return null;
  const name = `Vault #${vaultId}`;
  switch (state) {
    case 'warning':
      return {
        title: `${name} is in Warning`,
        message:
          'Its ratio fell under the warning ratio. Repay some debt or add collateral before it is liquidated.',
        priority: 4,
        tags: ['warning'],
      };
    case 'liquidating':
      return {
        title: `${name} is being liquidated`,
        message:
          'Its ratio fell under the liquidation ratio and its collateral is at auction. Bringing it back above the warning ratio before anyone buys ends the auction without penalty.',
        priority: 5,
        tags: ['rotating_light'],
      };
    case 'liquidated':
      return {
        title: `${name} was liquidated`,
        message: 'Its auction settled; what was left went to its return address.',
        priority: 4,
        tags: ['moneybag'],
      };
    case 'active':
      return previous === 'liquidating' || previous === 'warning'
        ? {
            title: `${name} is healthy again`,
            message:
              previous === 'liquidating'
                ? 'It is back above the warning ratio and its auction ended without penalty.'
                : 'It is back above the warning ratio.',
            priority: 3,
            tags: ['white_check_mark'],
          }
        : null;
    default:
      return null;
  }
}

/** The message for a vault that fell under the user's own ratio alert. */
export function ratioAlertMessage(
  vaultId: number,
  ratioBps: number,
  alertBps: number,
): WebhookMessage {
  return {
    title: `Vault #${vaultId} is under your ${bpsText(alertBps)} alert`,
    message: `Its ratio is ${bpsText(ratioBps)}. Repay some debt or add collateral to bring it back up.`,
    priority: 4,
    tags: ['chart_with_downwards_trend'],
  };
}

/** The request body for `format`: ntfy's JSON publish (to the server's root) or Slack's. */
export function webhookRequest(
  target: WebhookTarget,
  m: WebhookMessage,
): { url: string; body: unknown } {
  if (target.format === 'slack')
    return { url: target.url, body: { text: `*${m.title}*\n${m.message}` } };
  // ntfy takes JSON at its root, the topic named in the body: https://ntfy.sh/topic → ntfy.sh.
  const url = new URL(target.url);
  const parts = url.pathname.split('/').filter(Boolean);
  const topic = parts.pop() ?? '';
  url.pathname = `/${parts.join('/')}`;
  return {
    url: url.href,
    body: { topic, title: m.title, message: m.message, priority: m.priority, tags: m.tags },
  };
}

const ATTEMPTS = 3;
const TIMEOUT_MS = 5_000;

/** The rows a look at the lowest ratios reads (vaults.list's items). */
export type RatioRow = { id: number; state: string; ratioBps: number | null };

/**
 * Posts vault alerts to the chosen webhook. `target()` is read at each alert (a change in
 * Settings applies at once); `mine(vaultId)` says whether a vault is this person's. A delivery
 * is tried three times (1 s, then 4 s apart); one that still fails is logged, counted and shown
 * in Settings, and the next alert is tried afresh. With `ratio`, each accepted price (and each
 * vault change) is a look at the lowest ratios, and a vault that went under the user's own
 * ratio alert is posted once, and again only after it was back above it.
 */
export class WebhookNotifier {
  private readonly states = new Map<number, string>();
  private readonly status: WebhookStatus = { sent: 0, failed: 0, last: null };
  private pending = new Set<Promise<void>>();
  /** Which vaults were under the ratio alert at the last look, for the alert `underBps`. */
  private readonly under = new Map<number, boolean>();
  private underBps: number | null = null;
  private looking = false;
  private lookAgain = false;

  constructor(
    private readonly o: {
      target: () => Promise<WebhookTarget | null>;
      mine: (vaultId: number) => Promise<boolean>;
      logger: { warn(obj: object, msg: string): void };
      /** Waits between attempts (tests pass a shorter one). */
      backoffMs?: (attempt: number) => number;
      /** The user's own ratio alert (null: off) and this person's lowest ratios. */
      ratio?: { alertBps: () => number | null; lowest: () => Promise<readonly RatioRow[]> };
    },
  ) {}

  /** To be subscribed to the host's API events. */
  onEvent(event: ApiEvent): void {
    if (event.type === 'price.accepted' || event.type === 'vault.changed') this.lookAtRatios();
    if (event.type !== 'vault.changed') return;
    const { vaultId, state } = event.payload;
    const previous = this.states.get(vaultId);
    this.states.set(vaultId, state);
    const message = webhookMessage(event, previous);
    if (!message) return;
    const p = this.deliver(vaultId, message).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** One look at a time; events during it make one more look after it. */
  private lookAtRatios(): void {
    if (!this.o.ratio) return;
    if (this.looking) {
      this.lookAgain = true;
      return;
    }
    this.looking = true;
    const p = (async () => {
      do {
        this.lookAgain = false;
        await this.lookOnce(this.o.ratio!);
      } while (this.lookAgain);
    })().finally(() => {
      this.looking = false;
      this.pending.delete(p);
    });
    this.pending.add(p);
  }

  private async lookOnce(ratio: NonNullable<typeof this.o.ratio>): Promise<void> {
    try {
      const bps = ratio.alertBps();
      // A new alert starts afresh: the vaults under it are told of at its first look.
      if (bps !== this.underBps) {
        this.under.clear();
        this.underBps = bps;
      }
      if (bps === null || !(await this.o.target())) return;
      for (const c of ratioCrossings(this.under, await ratio.lowest(), bps))
        await this.deliver(c.vaultId, ratioAlertMessage(c.vaultId, c.ratioBps, bps));
    } catch (err) {
      // A failed read (the list, the setting) is logged; the next accepted price looks again.
      this.o.logger.warn({ err }, 'ratio alert look failed');
    }
  }

  private async deliver(vaultId: number, message: WebhookMessage): Promise<void> {
    try {
      const target = await this.o.target();
      if (!target || !(await this.o.mine(vaultId))) return;
      await this.send(target, message);
    } catch (err) {
      // send() records its own failures; this is a failure to read the setting or the vault.
      this.o.logger.warn({ err, vaultId }, 'webhook alert not sent');
    }
  }

  /** Sends one message now (Settings' "Send a test"), recording the outcome; throws on failure. */
  async send(target: WebhookTarget, message: WebhookMessage): Promise<void> {
    const { url, body } = webhookRequest(target, message);
    let error = '';
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
        if (res.ok) {
          this.status.sent++;
          this.status.last = { at: Date.now(), ok: true, title: message.title, error: null };
          return;
        }
        error = `the webhook answered ${res.status} ${res.statusText}`.trim();
        // A refusal of the request itself will not change on a retry.
        if (res.status >= 400 && res.status < 500 && res.status !== 429) break;
      } catch (err) {
        error = `the webhook did not answer (${(err as Error).message})`;
      }
      if (attempt < ATTEMPTS)
        await new Promise((r) =>
          setTimeout(r, this.o.backoffMs?.(attempt) ?? 4 ** (attempt - 1) * 1000),
        );
    }
    this.status.failed++;
    this.status.last = { at: Date.now(), ok: false, title: message.title, error };
    this.o.logger.warn({ url: new URL(url).origin, error }, 'webhook alert failed');
    throw new BitStableError('WEBHOOK_FAILED', `The alert was not delivered: ${error}.`, {
      field: 'webhook.url',
    });
  }

  report(): WebhookStatus {
    return { ...this.status, last: this.status.last && { ...this.status.last } };
  }

  /** Resolves once every alert under way was delivered or given up. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }
}

/** On a protocol node: the vaults of the account(s) its window acts for (local mode). */
export function nodeVaultsHere(node: {
  isHere(accountId: string | null): boolean;
  store: { vaults: { accountOf(id: number): unknown } };
}): (vaultId: number) => Promise<boolean> {
  return async (vaultId) =>
    node.isHere(((await node.store.vaults.accountOf(vaultId)) as string | null) ?? null);
}

/** A host's API, as the webhook uses it: its events, and the list of the vaults it acts for. */
export interface WebhookApi {
  subscribe(listener: (event: ApiEvent) => void): () => void;
  dispatch(
    method: 'vaults.list',
    params: typeof RATIO_ALERT_LOOK,
    ctx: { roles: readonly 'admin'[] },
  ): Promise<{ ok: true; result: unknown } | { ok: false; error: { message: string } }>;
}

/** The lowest ratios of the vaults the host's window acts for: the window's own list. */
export function lowestRatios(api: WebhookApi): () => Promise<readonly RatioRow[]> {
  return async () => {
    const out = await api.dispatch('vaults.list', RATIO_ALERT_LOOK, { roles: ['admin'] });
    if (!out.ok) throw new Error(out.error.message);
    return (out.result as { items: RatioRow[] }).items;
  };
}

/** What the webhook reads of the host's saved settings, at each alert. */
export interface WebhookSettings {
  webhookTarget(): Promise<WebhookTarget | null>;
  ratioAlertBps(): number | null;
  notifier: WebhookNotifier | null;
}

/**
 * A host subscribes its webhook: alerts of the vaults `mine` says are this person's (on a
 * protocol node in local mode, those of the account(s) its window acts for). Returns what stops
 * it (waiting for alerts under way).
 */
export function subscribeWebhook(
  mine: (vaultId: number) => Promise<boolean>,
  settings: WebhookSettings,
  api: WebhookApi,
  logger: { warn(obj: object, msg: string): void },
): () => Promise<void> {
  const notifier = new WebhookNotifier({
    target: () => settings.webhookTarget(),
    mine,
    logger,
    ratio: { alertBps: () => settings.ratioAlertBps(), lowest: lowestRatios(api) },
  });
  settings.notifier = notifier;
  const off = api.subscribe((event) => notifier.onEvent(event));
  return async () => {
    off();
    await notifier.settled();
  };
}
