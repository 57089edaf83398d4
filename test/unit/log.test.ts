import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../core/events/bus';
import { createLogger, logEvents } from '../../core/ops/log';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  return { lines, destination };
}

describe('structured logs', () => {
  it('never write a secret, wherever it sits in the logged object', async () => {
    const { lines, destination } = capture();
    const log = createLogger({ destination });
    const xprv =
      'tprv8ZgxMBicQKsPeWHBt7a68nPnvgTnuDhUgDWC8wZCgA8GahrQ3f3uWpq7wE7Uc1dLBnCe1hhCZ886K6ND37memRDWqsA9HgSKDXtwh2Qxo6J';
    log.info(
      {
        passphrase: 'hunter2',
        req: { headers: { authorization: 'Bearer abc' }, token: 'tok-123' },
        keys: { mnemonic: 'glory promote mansion' },
      },
      'started',
    );
    log.warn(`imported ${xprv} by mistake`);
    await new Promise((r) => setImmediate(r));
    const text = lines.join('\n');
    for (const secret of ['hunter2', 'Bearer abc', 'tok-123', 'glory promote', xprv])
      expect(text).not.toContain(secret);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      app: 'bitstable',
      msg: 'started',
      passphrase: '[redacted]',
    });
  });

  it('logs core events as JSON lines with their vault and auction ids', async () => {
    const { lines, destination } = capture();
    const bus = new EventBus();
    const off = logEvents(bus, createLogger({ destination }));
    bus.emit('vault.changed', { vaultId: 7, state: 'warning', collateralSats: 100, debtCents: 5 });
    bus.emit('auction.started', { auctionId: 3, vaultId: 7 });
    off();
    bus.emit('vault.created', { vaultId: 8, address: 'bcrt1q…' });
    await new Promise((r) => setImmediate(r));
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed).toHaveLength(2);
    expect(parsed[0]).toMatchObject({
      event: 'vault.changed',
      vaultId: 7,
      state: 'warning',
      level: 30,
    });
    expect(parsed[1]).toMatchObject({
      event: 'auction.started',
      auctionId: 3,
      vaultId: 7,
      level: 40,
    });
  });
});
