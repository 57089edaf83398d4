import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Transaction } from 'bitcoinjs-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { toSats } from '../../core/node/rpc';
import type { Sats } from '../../core/money';
import { useRegtestNode } from '../helpers/regtest';
import { sqliteStore } from '../../core/store/sqlite';

const node = useRegtestNode();
const dataDir = mkdtempSync(join(tmpdir(), 'bitstable-crash-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
const child = join(import.meta.dirname, '..', 'fixtures', 'crash-child.ts');

/** Runs one step of the BitStable node as a real child process. */
function runChild(step: string, args: Record<string, unknown>, env: Record<string, string> = {}) {
  const { rpc, dataDir: nodeDir } = node();
  return new Promise<{
    code: number | null;
    signal: string | null;
    lines: unknown[];
    stderr: string;
  }>((resolve) => {
    // One process (node with tsx's loader), so the SIGKILL is seen as this process's signal.
    const p = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        child,
        dataDir,
        rpc.config.url,
        join(nodeDir, 'regtest', '.cookie'),
        step,
        JSON.stringify(args),
      ],
      {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 90_000);
    p.on('exit', (code, signal) => {
      clearTimeout(timer);
      const lines = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as unknown);
      resolve({ code, signal, lines, stderr });
    });
  });
}

describe('a settlement survives SIGKILL between storing and broadcasting it', () => {
  it('restarts, broadcasts the stored transaction once, and ends Liquidated with consistent state', async () => {
    const { miner, rpc } = node();
    const returnAddress = await miner.newAddress();
    const takerAddress = await miner.newAddress();

    const created = await runChild('create', { returnAddress });
    expect(created.code, created.stderr).toBe(0);
    const ids = created.lines[0] as {
      vaultId: number;
      vaultAddress: string;
      bidderId: number;
      bidderAddress: string;
    };
    await miner.send(ids.vaultAddress, 100_000_000 as Sats);
    await miner.send(ids.bidderAddress, 200_000_000 as Sats);
    await miner.mine(1);

    // The child takes the auction, makes the settlement, stores it signed, and is killed.
    const crashed = await runChild(
      'liquidate',
      { ...ids, takerAddress },
      { BITSTABLE_FAULT: 'spend.signed' },
    );
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
    const { sats } = crashed.lines[0] as { sats: number };

    const dbPath = join(dataDir, 'regtest', 'bitstable.sqlite');
    const peek = () => {
      const db = new Database(dbPath, { readonly: true });
      try {
        return db
          .prepare("SELECT state, txid, tx_hex FROM spends WHERE kind = 'settlement'")
          .all() as { state: string; txid: string; tx_hex: string }[];
      } finally {
        db.close();
      }
    };
    const stored = peek();
    expect(stored).toHaveLength(1);
    expect(stored[0]!.state).toBe('signed');
    const mempool = await rpc.call<string[]>('getrawmempool');
    expect(mempool).not.toContain(stored[0]!.txid); // stored, never broadcast

    // Restart: the stored transaction is broadcast — the same one, not a second settlement.
    const resumed = await runChild('resume', ids);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(await rpc.call<string[]>('getrawmempool')).toContain(stored[0]!.txid);
    await miner.mine(1);
    const after = await runChild('resume', ids);
    expect(after.lines[0]).toEqual({ state: 'liquidated' });

    // Exactly one settlement on chain, paying the taker once.
    const settlements = peek();
    expect(settlements).toHaveLength(1);
    expect(settlements[0]).toMatchObject({ state: 'confirmed', txid: stored[0]!.txid });
    expect(
      toSats(await rpc.call('getreceivedbyaddress', [takerAddress, 1], { wallet: 'miner' })),
    ).toBe(sats);
    const tx = Transaction.fromHex(stored[0]!.tx_hex);
    const spentCoin = {
      txid: Buffer.from(tx.ins[0]!.hash).reverse().toString('hex'),
      vout: tx.ins[0]!.index,
    };
    expect(await rpc.call('gettxout', [spentCoin.txid, spentCoin.vout, true])).toBeNull();

    const db = new Database(dbPath, { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect((await sqliteStore(db).ledger.checkInvariant()).ok).toBe(true);
      expect(db.prepare('SELECT count(*) FROM auction_takes').pluck().get()).toBe(1);
    } finally {
      db.close();
    }
  });
});
