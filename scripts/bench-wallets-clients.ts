/**
 * The wallets of `bench-wallets.ts`, in a worker thread: 1,000 wallets are 1,000 other
 * processes, so their receiving and parsing should not share the protocol node's event loop.
 * The thread holds every client socket, counts each event's deliveries and reports when the last
 * socket has parsed it, on the clock both threads share (`performance.timeOrigin + now()`).
 *
 * Messages from the bench: `connect` (a list of [url, protocols]), `expect` (a round id and how
 * many sockets must get it), `close`. Replies: `connected`, `ready`, `delivered`, `late`, `closed`,
 * `failed`.
 */
import { parentPort } from 'node:worker_threads';
import WebSocket from 'ws';

export type ToClients =
  | { type: 'connect'; targets: [string, string[]][] }
  | { type: 'expect'; roundId: number; expected: number }
  | { type: 'close' };
export type FromClients =
  | { type: 'connected'; count: number }
  | { type: 'ready'; roundId: number }
  | { type: 'delivered'; roundId: number; lastAt: number }
  | { type: 'late'; roundId: number; count: number }
  | { type: 'closed' }
  | { type: 'failed'; message: string };

/** The shared clock: epoch milliseconds with sub-millisecond resolution, the same in every thread. */
export const sharedNow = () => performance.timeOrigin + performance.now();

if (parentPort) {
  const port = parentPort;
  const post = (m: FromClients) => port.postMessage(m);
  const sockets: WebSocket[] = [];
  const waves = new Map<number, { expected: number; count: number; timer: NodeJS.Timeout }>();

  const onMessage = (data: WebSocket.RawData) => {
    const m = JSON.parse(String(data)) as {
      method?: string;
      params?: { type?: string; payload?: { roundId?: number } };
    };
    if (m.method !== 'event' || m.params?.type !== 'price.accepted') return;
    const roundId = m.params.payload?.roundId ?? -1;
    const w = waves.get(roundId);
    if (!w) return;
    w.count++;
    if (w.count === w.expected) {
      const lastAt = sharedNow();
      clearTimeout(w.timer);
      waves.delete(roundId);
      post({ type: 'delivered', roundId, lastAt });
    }
  };

  const connect = (url: string, protocols: string[]) =>
    new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(url, protocols);
      sockets.push(ws);
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.on('error', () => {});
      ws.on('message', onMessage);
    });

  port.on('message', (m: ToClients) => {
    void (async () => {
      try {
        if (m.type === 'connect') {
          // In batches of 100, so the upgrades do not flood the machine.
          for (let i = 0; i < m.targets.length; i += 100) {
            await Promise.all(m.targets.slice(i, i + 100).map(([u, p]) => connect(u, p)));
          }
          post({ type: 'connected', count: m.targets.length });
        } else if (m.type === 'expect') {
          const timer = setTimeout(() => {
            const w = waves.get(m.roundId);
            waves.delete(m.roundId);
            post({ type: 'late', roundId: m.roundId, count: w?.count ?? 0 });
          }, 10_000);
          waves.set(m.roundId, { expected: m.expected, count: 0, timer });
          post({ type: 'ready', roundId: m.roundId });
        } else {
          for (const w of waves.values()) clearTimeout(w.timer);
          waves.clear();
          for (const ws of sockets) ws.terminate();
          post({ type: 'closed' });
        }
      } catch (err) {
        post({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
      }
    })();
  });
}
