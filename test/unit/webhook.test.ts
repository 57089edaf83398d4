/**
 * Alerts posted to a webhook (issue 15 item 2), against a real HTTP server on loopback standing
 * in for ntfy or Slack: the bodies each expects, a retry after a server error, no retry after a
 * refusal, a failure counted and told, only this person's vaults, and a vault under the user's
 * own ratio alert told of once per crossing.
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

  it('tell of a vault under your own ratio alert once per crossing, from one look at a time', async () => {
    const price = (roundId: number): ApiEvent => ({
      type: 'price.accepted',
      payload: { roundId, priceCents: 4_000_000, ts: roundId },
    });
    let alertBps: number | null = 18_000;
    // The lowest ratios as vaults.list gives them, as the price moves.
    let rows = [
      { id: 1, state: 'active', ratioBps: 19_000 },
      { id: 2, state: 'active', ratioBps: 25_000 },
      { id: 9, state: 'active', ratioBps: 17_000 }, // someone else's
    ];
    let looks = 0;
    let inLook = 0;
    let overlapped = false;
    const notifier = new WebhookNotifier({
      target: async () => ({ url: `${base}/alerts`, format: 'ntfy' }),
      mine: async (vaultId) => vaultId !== 9,
      logger,
      ratio: {
        alertBps: () => alertBps,
        lowest: async () => {
          looks++;
          overlapped ||= ++inLook > 1;
          await new Promise((r) => setTimeout(r, 20));
          inLook--;
          return rows;
        },
      },
    });
    const titles = () => received.map((r) => (r.body as { title: string }).title);

    notifier.onEvent(price(1));
    await notifier.settled();
    expect(titles()).toEqual([]);

    // Vault 1 falls under 180 %: told once, however many prices follow while it stays under.
    rows = [{ ...rows[0]!, ratioBps: 17_500 }, rows[1]!, rows[2]!];
    for (let round = 2; round < 7; round++) notifier.onEvent(price(round));
    await notifier.settled();
    expect(titles()).toEqual(['Vault #1 is under your 180.00 % alert']);
    expect(received[0]!.body).toMatchObject({
      message: 'Its ratio is 175.00 %. Repay some debt or add collateral to bring it back up.',
      priority: 4,
    });
    // Five prices at once made two looks, not five, and never two at the same time.
    expect(looks).toBe(3);
    expect(overlapped).toBe(false);

    // Back above, then under again: told again. A vault in an auction is told of otherwise.
    rows = [{ ...rows[0]!, ratioBps: 18_500 }, rows[1]!, rows[2]!];
    notifier.onEvent(price(7));
    await notifier.settled();
    rows = [
      { ...rows[0]!, ratioBps: 17_900 },
      { id: 2, state: 'liquidating', ratioBps: 14_000 },
      rows[2]!,
    ];
    notifier.onEvent(price(8));
    await notifier.settled();
    expect(titles()).toEqual([
      'Vault #1 is under your 180.00 % alert',
      'Vault #1 is under your 180.00 % alert',
    ]);

    // A new alert starts afresh; turned off, nothing is read.
    received.length = 0;
    alertBps = 20_000;
    notifier.onEvent(price(9));
    await notifier.settled();
    expect(titles()).toEqual(['Vault #1 is under your 200.00 % alert']);
    alertBps = null;
    const before = looks;
    notifier.onEvent(price(10));
    await notifier.settled();
    expect(looks).toBe(before);
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
