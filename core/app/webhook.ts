/**
 * Vault alerts that reach the person outside the app (issue 15 item 2): the host posts Warning,
 * an auction starting, a settlement and a vault healthy again after an auction to a webhook URL
 * chosen in Settings, as ntfy's or Slack's JSON. Sent from the host (the desktop's main process,
 * the headless host), so they go out while no window is open.
 *
 * Written by hand: a POST of a few fields with a retry is smaller than any client library, and
 * the two formats are each one object.
 */
import type { ApiEvent } from '../api/events';
import { BitStableError } from '../errors';

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
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new BitStableError(
      'INVALID_ARGUMENT',
      `"${text.slice(0, 80)}" is not an address; write it as https://ntfy.sh/your-topic or your Slack webhook's URL.`,
      { field: 'webhook.url' },
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new BitStableError('INVALID_ARGUMENT', 'A webhook is reached over https:// or http://.', {
      field: 'webhook.url',
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

/**
 * Posts vault alerts to the chosen webhook. `target()` is read at each alert (a change in
 * Settings applies at once); `mine(vaultId)` says whether a vault is this person's. A delivery
 * is tried three times (1 s, then 4 s apart); one that still fails is logged, counted and shown
 * in Settings, and the next alert is tried afresh.
 */
export class WebhookNotifier {
  private readonly states = new Map<number, string>();
  private readonly status: WebhookStatus = { sent: 0, failed: 0, last: null };
  private pending = new Set<Promise<void>>();

  constructor(
    private readonly o: {
      target: () => Promise<WebhookTarget | null>;
      mine: (vaultId: number) => Promise<boolean>;
      logger: { warn(obj: object, msg: string): void };
      /** Waits between attempts (tests pass a shorter one). */
      backoffMs?: (attempt: number) => number;
    },
  ) {}

  /** To be subscribed to the host's API events. */
  onEvent(event: ApiEvent): void {
    if (event.type !== 'vault.changed') return;
    const { vaultId, state } = event.payload;
    const previous = this.states.get(vaultId);
    this.states.set(vaultId, state);
    const message = webhookMessage(event, previous);
    if (!message) return;
    const p = this.deliver(vaultId, message).finally(() => this.pending.delete(p));
    this.pending.add(p);
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

/**
 * A protocol node's host (local mode) subscribes its webhook: alerts of the vaults of the
 * account(s) this window acts for. Returns what stops it (waiting for alerts under way).
 */
export function subscribeWebhook(
  node: {
    isHere(accountId: string | null): boolean;
    store: { vaults: { accountOf(id: number): unknown } };
  },
  settings: { webhookTarget(): Promise<WebhookTarget | null>; notifier: WebhookNotifier | null },
  api: { subscribe(listener: (event: ApiEvent) => void): () => void },
  logger: { warn(obj: object, msg: string): void },
): () => Promise<void> {
  const notifier = new WebhookNotifier({
    target: () => settings.webhookTarget(),
    mine: async (vaultId) =>
      node.isHere(((await node.store.vaults.accountOf(vaultId)) as string | null) ?? null),
    logger,
  });
  settings.notifier = notifier;
  const off = api.subscribe((event) => notifier.onEvent(event));
  return async () => {
    off();
    await notifier.settled();
  };
}
