/**
 * Protocol node instances as real processes (`scripts/protocol.ts --db postgres://…`) on one
 * PostgreSQL and one regtest bitcoind, for the failover soak and the gateway bench: started,
 * called (JSON-RPC over HTTP with the admin token), asked whether they lead, and stopped —
 * SIGTERM, then SIGKILL to the process group if it hangs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { RegtestNode } from '../../../core/node/regtest';

const ROOT = resolve(import.meta.dirname, '../../..');

export interface Instance {
  n: number;
  child: ChildProcess;
  url: string;
  /** The admin token (every instance reads the same token file). */
  token: string;
  out: () => string;
  exited: Promise<void>;
}

export interface InstanceSetup {
  /** The PostgreSQL database every instance shares. */
  database: string;
  /** The one data folder they share (keys, token file; each instance's SQLite holds only its own). */
  dataDir: string;
  bitcoin: RegtestNode;
  passphrase: string;
  /** Extra environment (e.g. BITSTABLE_ORACLE). */
  env?: Record<string, string>;
}

/** Starts instance `n` and waits for its admin link. */
export async function startInstance(setup: InstanceSetup, n: number): Promise<Instance> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'scripts', 'protocol.ts'),
      '--db',
      setup.database,
      '--data-dir',
      setup.dataDir,
      '--port',
      '0',
      '--show-link',
    ],
    {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        BITSTABLE_PASSPHRASE: setup.passphrase,
        BITSTABLE_RPC_URL: setup.bitcoin.rpc.url,
        BITSTABLE_RPC_COOKIE: join(setup.bitcoin.dataDir, 'regtest', '.cookie'),
        BITSTABLE_STABILITY_FEE_BPS: '0',
        ...setup.env,
      },
    },
  );
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-20_000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const deadline = Date.now() + 120_000;
  for (;;) {
    const m = /Admin: (http:\/\/127\.0\.0\.1:\d+)\/#token=([A-Za-z0-9_-]+)/.exec(out);
    if (m) {
      return {
        n,
        child,
        url: m[1]!,
        token: m[2]!,
        out: () => `${out}\n${err.slice(-3_000)}`,
        exited,
      };
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`instance ${n} did not start:\n${out}\n${err.slice(-3_000)}`);
    }
    await sleep(100);
  }
}

/** One JSON-RPC call with the admin token; a refusal throws with its code. */
export async function call<T>(inst: Instance, method: string, params: unknown = {}): Promise<T> {
  const res = await fetch(`${inst.url}/rpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${inst.token}` },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = (await res.json()) as {
    result?: T;
    error?: { message: string; data?: { code: string } };
  };
  if (body.error)
    throw Object.assign(new Error(body.error.message), { code: body.error.data?.code });
  return body.result as T;
}

/** Whether the instance says (on /health) that it leads; false when it does not answer. */
export async function leads(inst: Instance): Promise<boolean> {
  try {
    const res = await fetch(`${inst.url}/health`, {
      headers: { authorization: `Bearer ${inst.token}` },
    });
    const body = (await res.json()) as { parts?: { instance?: { leader?: boolean } } };
    return body.parts?.instance?.leader === true;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL to the whole group after 15 s. */
export async function stopInstance(inst: Instance): Promise<void> {
  if (inst.child.exitCode !== null || inst.child.signalCode !== null) return;
  inst.child.kill('SIGTERM');
  const stopped = await Promise.race([
    inst.exited.then(() => true),
    sleep(15_000).then(() => false),
  ]);
  if (!stopped) {
    process.kill(-inst.child.pid!, 'SIGKILL');
    await inst.exited;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
