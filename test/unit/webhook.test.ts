/**
 * Alerts posted to a webhook (issue 15 item 2), against a real HTTP server on loopback standing
 * in for ntfy or Slack: the bodies each expects, a retry after a server error, no retry after a
 * refusal, a failure counted and told, and only this person's vaults.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  checkWebhookUrl,
  WebhookNotifier,
  webhookMessage,
  webhookRequest,
} from '../../core/app/webhook';
import type { ApiEvent } from '../../core/api/events';

let server: Server;
let base = '';
const received: { path: string; body: unknown }[] = [];
/** The statuses the server answers with, in turn (then 200). */
let answers: number[] = [];

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body: JSON.parse(text) as unknown });
      res.statusCode = answers.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  received.length = 0;
  answers = [];
});

const changed = (vaultId: number, state: string): ApiEvent => ({
  type: 'vault.changed',
  payload: { vaultId, state, collateralSats: 10_000_000, debtCents: 260_000 },
});
const warnings: string[] = [];
const logger = { warn: (_: object, msg: string) => void warnings.push(msg) };

describe('webhook alerts', () => {
  it('say Warning, an auction, a settlement and a cure; nothing for the rest', () => {
    expect(webhookMessage(changed(3, 'warning'), 'active')).toMatchObject({
      title: 'Vault #3 is in Warning',
      priority: 4,
    });
    expect(webhookMessage(changed(3, 'liquidating'), 'warning')?.priority).toBe(5);
    expect(webhookMessage(changed(3, 'liquidated'), 'liquidating')?.title).toBe(
      'Vault #3 was liquidated',
    );
    expect(webhookMessage(changed(3, 'active'), 'liquidating')?.message).toContain(
      'without penalty',
    );
    expect(webhookMessage(changed(3, 'active'), 'pending')).toBeNull();
    expect(webhookMessage(changed(3, 'warning'), 'warning')).toBeNull();
    expect(webhookMessage(changed(3, 'closed'), 'active')).toBeNull();
  });

  it('are ntfy’s JSON at the server’s root with the topic, or Slack’s text', () => {
    const m = webhookMessage(changed(3, 'warning'), 'active')!;
    expect(webhookRequest({ url: 'https://ntfy.sh/my-vaults', format: 'ntfy' }, m)).toEqual({
      url: 'https://ntfy.sh/',
      body: {
        topic: 'my-vaults',
        title: 'Vault #3 is in Warning',
        message: m.message,
        priority: 4,
        tags: ['warning'],
      },
    });
    const slack = 'https://hooks.slack.com/services/T0/B0/secret';
    expect(webhookRequest({ url: slack, format: 'slack' }, m)).toEqual({
      url: slack,
      body: { text: `*Vault #3 is in Warning*\n${m.message}` },
    });
  });

  it('refuse an address that is not http(s) or carries credentials, under its field', () => {
    expect(checkWebhookUrl(' https://ntfy.sh/topic ')).toBe('https://ntfy.sh/topic');
    for (const bad of ['ntfy.sh/topic', 'ftp://x/y', 'https://me:pw@ntfy.sh/t'])
      expect(() => checkWebhookUrl(bad)).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT', data: { field: 'webhook.url' } }),
      );
  });

  it('are posted for this person’s vaults, retried after a server error, counted when they fail', async () => {
    const notifier = new WebhookNotifier({
      target: async () => ({ url: `${base}/alerts`, format: 'ntfy' }),
      mine: async (vaultId) => vaultId !== 9,
      logger,
      backoffMs: () => 10,
    });
    notifier.onEvent(changed(1, 'active'));
    notifier.onEvent(changed(1, 'warning'));
    notifier.onEvent(changed(9, 'warning')); // someone else's vault
    await notifier.settled();
    expect(received).toEqual([
      {
        path: '/',
        body: expect.objectContaining({ topic: 'alerts', title: 'Vault #1 is in Warning' }),
      },
    ]);

    // A server error, then success: delivered on the second try.
    received.length = 0;
    answers = [503];
    notifier.onEvent(changed(1, 'liquidating'));
    await notifier.settled();
    expect(received).toHaveLength(2);
    expect(notifier.report()).toMatchObject({ sent: 2, failed: 0, last: { ok: true } });

    // A refusal is not retried; the failure is counted, told and logged.
    received.length = 0;
    answers = [404];
    notifier.onEvent(changed(1, 'liquidated'));
    await notifier.settled();
    expect(received).toHaveLength(1);
    expect(notifier.report()).toMatchObject({
      sent: 2,
      failed: 1,
      last: {
        ok: false,
        title: 'Vault #1 was liquidated',
        error: 'the webhook answered 404 Not Found',
      },
    });
    expect(warnings).toContain('webhook alert failed');
  });

  it('are sent nowhere while no webhook is chosen', async () => {
    const notifier = new WebhookNotifier({
      target: async () => null,
      mine: async () => true,
      logger,
    });
    notifier.onEvent(changed(1, 'active'));
    notifier.onEvent(changed(1, 'warning'));
    await notifier.settled();
    expect(received).toEqual([]);
    expect(notifier.report()).toEqual({ sent: 0, failed: 0, last: null });
  });
});
