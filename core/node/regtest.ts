/**
 * Local regtest mode: starts a private `bitcoind -regtest` on free loopback ports, waits for its
 * RPC, funds a miner wallet, and stops it cleanly. Both the app's playground and the test harness.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BitStableError } from '../errors';
import { MinerWallet } from './bitcoin-node';
import { findBitcoind } from './find-bitcoind';
import { RpcClient } from './rpc';

/** Asks the OS for a free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolvePort(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

// Every bitcoind this process started; killed if the process exits without stopping them, so a
// crashed test run never leaves an orphan behind.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Chain names as bitcoind's -chain takes them, and where each keeps its cookie. */
const CHAIN_DIRS = { regtest: 'regtest', main: '', test: 'testnet3', signet: 'signet' } as const;
export type Chain = keyof typeof CHAIN_DIRS;

export interface RegtestOptions {
  /**
   * Chain to run; default regtest. Other chains start offline (no peers), which is only useful
   * for chain-parameter RPCs such as deriveaddresses.
   */
  chain?: Chain;
  /** Data directory; default: a new temporary directory. */
  dataDir?: string;
  /** Path to bitcoind; default: found as SPEC §3 says. */
  bitcoind?: string;
  /** Mine this many blocks to the miner at start (101 makes the first coinbase spendable). */
  initialBlocks?: number;
  /** How long to wait for the RPC to come up. */
  startTimeoutMs?: number;
  /** Progress lines for the UI or logs. */
  onProgress?: (line: string) => void;
  /** Accept peers on the P2P port (loopback only), e.g. to link two regtest nodes. */
  listen?: boolean;
  /** More bitcoind options, e.g. `-keypool=1` for a test of watched ranges. */
  extraArgs?: string[];
}

/** A running regtest bitcoind with its RPC client and miner wallet. */
/**
 * The arguments of a local bitcoind: loopback-only RPC, no outbound peers, and Core-like
 * defaults on Bitcoin Knots. Also used by the kill soak, which owns its bitcoind on fixed ports.
 */
export function bitcoindArgs(o: {
  chain: Chain;
  dataDir: string;
  rpcPort: number;
  p2pPort: number;
  listen: boolean;
  /** The binary, to tell Bitcoin Knots (which takes more options) from Core. */
  bitcoind?: string;
}): string[] {
  return [
    // Knots refuses "parasite" transactions, CAT-21 among them: any transaction with nLockTime
    // 21. Core's wallet sometimes sets a locktime a random distance below the tip (anti fee
    // sniping), so on a young regtest chain a faucet payment now and then never reached the
    // mempool, and a test waited for a deposit that could not come.
    ...(o.bitcoind && isKnots(o.bitcoind) ? ['-rejectparasites=0'] : []),
    `-chain=${o.chain}`,
    '-connect=0',
    `-datadir=${o.dataDir}`,
    `-rpcport=${o.rpcPort}`,
    `-port=${o.p2pPort}`,
    '-rpcbind=127.0.0.1',
    '-rpcallowip=127.0.0.1',
    ...(o.listen ? ['-listen=1', `-bind=127.0.0.1:${o.p2pPort}`] : ['-listen=0']),
    '-dnsseed=0',
    '-server=1',
    '-txindex=1',
    '-fallbackfee=0.0002',
    '-rpcworkqueue=64',
    '-printtoconsole=0',
    // Bitcoin Knots defaults to legacy addresses and sizes its cache from RAM; be Core-like.
    '-addresstype=bech32',
    '-changetype=bech32',
    '-dbcache=64',
  ];
}

const knots = new Map<string, boolean>();
/** True when the binary is Bitcoin Knots (asked once per path). */
export function isKnots(bitcoind: string): boolean {
  let known = knots.get(bitcoind);
  if (known === undefined) {
    const out = spawnSync(bitcoind, ['-version'], { encoding: 'utf8', timeout: 10_000 });
    known = /knots/i.test(`${out.stdout ?? ''}`);
    knots.set(bitcoind, known);
  }
  return known;
}

export class RegtestNode {
  private stopping: Promise<void> | null = null;

  private constructor(
    /** The bitcoind this process started; null for one adopted from an earlier start. */
    readonly child: ChildProcess | null,
    readonly dataDir: string,
    readonly rpcPort: number,
    readonly p2pPort: number,
    readonly rpc: RpcClient,
    readonly miner: MinerWallet,
    private readonly stderrTail: () => string,
    /** The pid of an adopted bitcoind (not a child of this process). */
    private readonly adoptedPid: number | null = null,
  ) {}

  /**
   * A bitcoind still running on this data folder from an earlier start that did not stop it
   * (the app was killed; its child lives on and holds the folder's lock). Linux only: the pid
   * file's process must be bitcoind with this very `-datadir` (read from /proc), so a stale pid
   * file or a reused pid is never mistaken for it. Returns its RPC and P2P ports.
   */
  static findOrphan(
    dataDir: string,
    chain: Chain,
  ): { pid: number; rpcPort: number; p2pPort: number } | null {
    const pidFile = join(dataDir, CHAIN_DIRS[chain], 'bitcoind.pid');
    if (process.platform !== 'linux' || !existsSync(pidFile)) return null;
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (!Number.isSafeInteger(pid) || pid <= 1) return null;
    let args: string[];
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      return null; // not running
    }
    if (!/bitcoind$/.test(args[0] ?? '') || !args.includes(`-datadir=${dataDir}`)) return null;
    const port = (flag: string) =>
      Number(args.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1));
    const rpcPort = port('-rpcport');
    const p2pPort = port('-port');
    if (!rpcPort || !p2pPort) return null;
    return { pid, rpcPort, p2pPort };
  }

  /** Starts bitcoind, waits for RPC, creates and funds the miner wallet. */
  static async start(options: RegtestOptions = {}): Promise<RegtestNode> {
    const progress = options.onProgress ?? (() => {});
    const bitcoind = options.bitcoind ?? findBitcoind();
    const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'bitstable-regtest-'));
    mkdirSync(dataDir, { recursive: true });
    const chain = options.chain ?? 'regtest';
    const orphan = RegtestNode.findOrphan(dataDir, chain);
    if (orphan) return RegtestNode.adopt(orphan, dataDir, chain, options, progress);
    const [rpcPort, p2pPort] = [await freePort(), await freePort()];
    const args = bitcoindArgs({
      bitcoind,
      chain,
      dataDir,
      rpcPort,
      p2pPort,
      listen: options.listen ?? false,
    });
    args.push(...(options.extraArgs ?? []));
    progress(`Starting bitcoind -chain=${chain} (${bitcoind})`);
    const child = spawn(bitcoind, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    running.add(child);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const status: { exited: { code: number | null; signal: string | null } | null } = {
      exited: null,
    };
    child.once('exit', (code, signal) => {
      status.exited = { code, signal };
      running.delete(child);
    });
    child.once('error', () => {
      status.exited = { code: -1, signal: null };
      running.delete(child);
    });

    const rpc = new RpcClient({
      url: `http://127.0.0.1:${rpcPort}`,
      auth: { kind: 'cookie', cookieFile: join(dataDir, CHAIN_DIRS[chain], '.cookie') },
      timeoutMs: 30_000,
    });
    const node = new RegtestNode(
      child,
      dataDir,
      rpcPort,
      p2pPort,
      rpc,
      new MinerWallet(rpc),
      () => stderr,
    );
    try {
      await node.ready(options, progress, () => status.exited, bitcoind);
      return node;
    } catch (err) {
      await node.stop();
      throw err;
    }
  }

  /** Takes over a bitcoind an earlier start left running (see findOrphan). */
  private static async adopt(
    orphan: { pid: number; rpcPort: number; p2pPort: number },
    dataDir: string,
    chain: Chain,
    options: RegtestOptions,
    progress: (line: string) => void,
  ): Promise<RegtestNode> {
    progress(
      `Using the bitcoind still running on ${dataDir} (pid ${orphan.pid}) from the last start`,
    );
    const rpc = new RpcClient({
      url: `http://127.0.0.1:${orphan.rpcPort}`,
      auth: { kind: 'cookie', cookieFile: join(dataDir, CHAIN_DIRS[chain], '.cookie') },
      timeoutMs: 30_000,
    });
    const node = new RegtestNode(
      null,
      dataDir,
      orphan.rpcPort,
      orphan.p2pPort,
      rpc,
      new MinerWallet(rpc),
      () => '',
      orphan.pid,
    );
    const alive = () => {
      try {
        process.kill(orphan.pid, 0);
        return null;
      } catch {
        return { code: null, signal: 'gone' };
      }
    };
    try {
      await node.ready({ ...options, chain }, progress, alive, 'bitcoind');
      return node;
    } catch (err) {
      await node.stop();
      throw err;
    }
  }

  /** Waits for RPC, then (regtest) makes and funds the miner wallet. */
  private async ready(
    options: RegtestOptions,
    progress: (line: string) => void,
    exitedNow: () => { code: number | null; signal: string | null } | null,
    bitcoind: string,
  ): Promise<void> {
    const { rpc, dataDir } = this;
    const chain = options.chain ?? 'regtest';
    const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
    for (;;) {
      const exited = exitedNow();
      if (exited) {
        const stderr = this.stderrTail();
        throw new BitStableError(
          'BITCOIND_START_FAILED',
          /Cannot obtain a lock/i.test(stderr)
            ? `Another bitcoind is using ${dataDir}. Stop it (or the app that started it) and try again.`
            : `bitcoind exited while starting (code ${exited.code ?? exited.signal}). ${stderr.trim().slice(-500)}`,
          { bitcoind, dataDir },
        );
      }
      try {
        await rpc.call('getblockchaininfo', [], { timeoutMs: 2_000 });
        break;
      } catch (err) {
        if (Date.now() > deadline) {
          throw new BitStableError(
            'BITCOIND_START_FAILED',
            'bitcoind did not answer RPC in time.',
            { bitcoind, dataDir },
            { cause: err },
          );
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    if (chain !== 'regtest') return;
    progress('Creating the miner wallet');
    await this.miner.ensure();
    const blocks = options.initialBlocks ?? 101;
    const height = Number(await rpc.call('getblockcount'));
    if (blocks > 0 && height < blocks) {
      progress(`Mining ${blocks - height} blocks`);
      await this.miner.mine(blocks - height);
    }
  }

  /** bitcoind's last stderr lines (for error reports). */
  get log(): string {
    return this.stderrTail();
  }

  /** Stops bitcoind: RPC `stop`, then SIGTERM, then SIGKILL; resolves when it has exited. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const child = this.child;
      if (!child) return this.stopAdopted(this.adoptedPid!);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      const within = (ms: number) =>
        Promise.race([
          exited.then(() => true),
          // unref: waiting for bitcoind to exit must not keep this process alive afterwards.
          new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref()),
        ]);
      try {
        await this.rpc.call('stop', [], { timeoutMs: 5_000 });
      } catch {
        child.kill('SIGTERM');
      }
      if (await within(20_000)) return;
      child.kill('SIGTERM');
      if (await within(5_000)) return;
      child.kill('SIGKILL');
      await exited;
    })();
    return this.stopping;
  }

  /** Stops an adopted bitcoind (not our child): RPC `stop`, then signals, polling its pid. */
  private async stopAdopted(pid: number): Promise<void> {
    const gone = () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    };
    const within = async (ms: number) => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        if (gone()) return true;
        await new Promise((r) => setTimeout(r, 100).unref());
      }
      return gone();
    };
    try {
      await this.rpc.call('stop', [], { timeoutMs: 5_000 });
    } catch {
      if (!gone()) process.kill(pid, 'SIGTERM');
    }
    if (await within(20_000)) return;
    process.kill(pid, 'SIGTERM');
    if (await within(5_000)) return;
    process.kill(pid, 'SIGKILL');
    await within(5_000);
  }
}
