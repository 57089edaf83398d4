/**
 * A regtest bitcoind on fixed loopback ports, for the node soak: it is stopped, stalled and
 * started again on the same data directory and ports, so one BitStable node can reconnect to it.
 * (`RegtestNode` picks new free ports on every start.) The flags are RegtestNode's.
 * Every bitcoind started here is killed if this process exits, so a soak never leaves an orphan.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { findBitcoind } from '../../../core/node/find-bitcoind';
import { bitcoindArgs } from '../../../core/node/regtest';
import { RpcClient } from '../../../core/node/rpc';

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  }
});

export interface FixedPorts {
  dataDir: string;
  rpcPort: number;
  p2pPort: number;
}

/** A running bitcoind; `stop`, `terminate`, `pause`/`resume` act on it, start again with `start`. */
export class FixedBitcoind {
  private constructor(
    readonly child: ChildProcess,
    readonly rpc: RpcClient,
    private readonly exited: Promise<void>,
    private readonly stderr: () => string,
  ) {}

  /** The RPC URL and cookie file, the same across restarts. */
  static connection(ports: FixedPorts) {
    return {
      url: `http://127.0.0.1:${ports.rpcPort}`,
      auth: { kind: 'cookie' as const, cookieFile: join(ports.dataDir, 'regtest', '.cookie') },
    };
  }

  /** Starts bitcoind and waits for its RPC. */
  static async start(ports: FixedPorts, timeoutMs = 60_000): Promise<FixedBitcoind> {
    mkdirSync(ports.dataDir, { recursive: true });
    const bitcoind = findBitcoind();
    const child = spawn(
      bitcoind,
      bitcoindArgs({
        bitcoind,
        chain: 'regtest',
        dataDir: ports.dataDir,
        rpcPort: ports.rpcPort,
        p2pPort: ports.p2pPort,
        listen: false,
      }),
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    running.add(child);
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        running.delete(child);
        resolve();
      });
      child.once('error', () => {
        running.delete(child);
        resolve();
      });
    });
    const node = new FixedBitcoind(
      child,
      new RpcClient({ ...FixedBitcoind.connection(ports), timeoutMs: 30_000 }),
      exited,
      () => stderr,
    );
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`bitcoind exited while starting: ${stderr.trim().slice(-400)}`);
      }
      try {
        await node.rpc.call('getblockchaininfo', [], { timeoutMs: 2_000 });
        return node;
      } catch (err) {
        if (Date.now() > deadline) {
          await node.kill();
          throw new Error(
            `bitcoind did not answer RPC within ${timeoutMs} ms: ${(err as Error).message}`,
            { cause: err },
          );
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Its last stderr lines. */
  get log(): string {
    return this.stderr();
  }

  /** Stops it with RPC `stop` (SIGKILL if it has not exited within 60 s). */
  async stop(): Promise<void> {
    if (!this.alive) return;
    await this.rpc.call('stop', [], { timeoutMs: 10_000 }).catch(() => this.child.kill('SIGTERM'));
    await this.waitExit(60_000);
  }

  /** Stops it with SIGTERM (SIGKILL if it has not exited within 60 s). */
  async terminate(): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    await this.waitExit(60_000);
  }

  /** Freezes it (SIGSTOP): it keeps its sockets but answers nothing. */
  pause(): void {
    this.child.kill('SIGSTOP');
  }

  /** Lets a paused node run again. */
  resume(): void {
    this.child.kill('SIGCONT');
  }

  /** SIGKILL, and waits for the exit. */
  async kill(): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGCONT');
    this.child.kill('SIGKILL');
    await this.exited;
  }

  private async waitExit(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((r) => (timer = setTimeout(() => r(true), ms)));
    const tooLate = await Promise.race([this.exited.then(() => false), late]);
    clearTimeout(timer);
    if (tooLate) await this.kill();
  }
}
