/**
 * Real processes for tests: one of the project's scripts as a child in its own process group,
 * its output collected, the lines it prints awaited — and ALWAYS stopped: SIGTERM (the hosts
 * stop their bitcoind cleanly), then SIGKILL to the whole group if it hangs.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

export interface Child {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the first match of `re` in stdout (waits for it, up to `timeoutMs`). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  stop(): Promise<void>;
}

export function startScript(
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Child {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'scripts', script), ...args],
    {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    },
  );
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-100_000)));
  return {
    child,
    output: () => `${out}\n--- stderr ---\n${err.slice(-5_000)}`,
    waitFor(re, timeoutMs = 120_000) {
      return new Promise((resolveMatch, reject) => {
        const check = () => {
          const m = re.exec(out);
          if (m) {
            cleanup();
            resolveMatch(m);
          }
        };
        const onExit = (code: number | null) => {
          cleanup();
          reject(
            new Error(
              `${script} exited (${code}) before printing ${re}:\n${out}\n${err.slice(-3_000)}`,
            ),
          );
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`${script} did not print ${re} in time:\n${out}\n${err.slice(-3_000)}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          child.stdout!.off('data', check);
          child.off('exit', onExit);
        };
        child.stdout!.on('data', check);
        child.once('exit', onExit);
        check();
      });
    },
    stop: () => stopChild(child),
  };
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const within = (ms: number) =>
    Promise.race([
      exited.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), ms)),
    ]);
  try {
    process.kill(-child.pid!, 'SIGTERM');
  } catch {
    return;
  }
  if (await within(30_000)) return;
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
  await within(5_000);
}

/**
 * A test file's temporary folders and processes. `cleanup` (in afterAll) stops every process,
 * kills anything still running from one of the folders (a bitcoind left behind by a SIGKILLed
 * host, as after a real crash) and removes the folders, retrying while a stopping bitcoind still
 * writes into them.
 */
export function scratch(prefix = 'bitstable') {
  const dirs: string[] = [];
  const children: Child[] = [];
  return {
    tmp(name: string): string {
      const d = mkdtempSync(join(tmpdir(), `${prefix}-${name}-`));
      dirs.push(d);
      return d;
    },
    start(script: string, args: string[], env: Record<string, string> = {}): Child {
      const c = startScript(script, args, env);
      children.push(c);
      return c;
    },
    async cleanup(): Promise<void> {
      await Promise.allSettled(children.map((c) => c.stop()));
      for (const d of dirs) {
        try {
          execFileSync('pkill', ['-KILL', '-f', d]);
        } catch {
          // nothing left running there
        }
        rmSync(d, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
      }
    },
  };
}
