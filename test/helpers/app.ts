/**
 * Starts a whole BitStable node on local regtest for a test file (real bitcoind, real SQLite file,
 * software owner and guardian keys) and always stops it afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { BitStableNode, type BitStableNodeOptions } from '../../core/app/bitstable-node';
import { withChecksum } from '../../core/bitcoin/descriptor';
import { keyExpression } from '../../core/bitcoin/keys';
import { rootOf } from '../../core/keys/software-key';
import type { VaultKeyOrigins } from '../../core/signers/types';
import { InMemoryKeyStore } from '../../core/keys/keystore';
import { toSats } from '../../core/node/rpc';
import type { Bps, Cents, Sats } from '../../core/money';
import { closeTestPools, tablesOf, testDatabase } from './backend';

export interface TestApp {
  app: BitStableNode;
  keyStore: InMemoryKeyStore;
  dataDir: string;
}

/** A BitStable node for this file's tests; call the returned function inside tests. */
export function useBitStableNode(options: Partial<BitStableNodeOptions> = {}): () => TestApp {
  let t: TestApp | undefined;
  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'bitstable-app-'));
    const keyStore = new InMemoryKeyStore();
    try {
      const database = options.database ?? (await testDatabase());
      const app = await BitStableNode.start({
        dataDir,
        network: 'regtest',
        keyStore,
        ...options,
        ...(database ? { database } : {}),
        // No stability fee unless a test asks for one: debts stay the round numbers tests mint.
        params: { stabilityFeeBps: 0 as Bps, ...options.params },
      });
      // The run says which database; a node that quietly fell back to the other would test nothing.
      expect(app.store.dialect).toBe(database ? 'postgres' : 'sqlite');
      t = { app, keyStore, dataDir };
    } catch (err) {
      rmSync(dataDir, { recursive: true, force: true });
      throw err;
    }
  });
  afterAll(async () => {
    await closeTestPools();
    if (!t) return;
    await t.app.stop();
    rmSync(t.dataDir, { recursive: true, force: true });
  });
  return () => {
    if (!t) throw new Error('the BitStable node did not start; see the beforeAll error');
    return t;
  };
}

/**
 * Sets the simulated BTC price and runs oracle rounds until it is accepted (a large move is held
 * by the circuit breaker for one round, then confirmed by the next).
 */
export async function setPrice(app: BitStableNode, priceCents: number): Promise<void> {
  app.simulated!.setPrice(priceCents as Cents);
  for (
    let i = 0;
    i < 3 &&
    !(app.oracle.current().status === 'ok' && app.oracle.current().priceCents === priceCents);
    i++
  ) {
    await app.oracle.runRound();
  }
  expect(app.oracle.current()).toMatchObject({ status: 'ok', priceCents });
  // The accepted price's health pass runs in the background: done before the test looks.
  await app.healthPasses;
}

/** Mines `n` blocks and syncs the node. */
export async function mine(app: BitStableNode, n = 1): Promise<string[]> {
  const hashes = await app.regtest!.miner.mine(n);
  await app.sync();
  return hashes;
}

/** Funds an address from the regtest miner (no block mined). */
export function faucet(app: BitStableNode, address: string, amount: number): Promise<string> {
  return app.regtest!.miner.send(address, amount as Sats);
}

/** What the miner wallet received at `address` with at least one confirmation. */
export async function receivedAt(app: BitStableNode, address: string): Promise<number> {
  return toSats(
    await app.regtest!.rpc.call('getreceivedbyaddress', [address, 1], { wallet: 'miner' }),
  );
}

/** Asserts the bsUSD ledger invariant. */
/**
 * All bad debt ever booked (cents), whether it still stands as deficit or surplus has covered
 * it since (SPEC §8.5: surplus covers deficit first, so the deficit balance alone undercounts).
 */
export async function badDebtBooked(app: BitStableNode): Promise<number> {
  return (await tablesOf(app).value(
    `SELECT COALESCE(-SUM(p.amount_cents), 0) FROM ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id
        WHERE e.kind = 'bad_debt' AND p.account_id = 'deficit'`,
  )) as number;
}

export async function expectLedgerBalanced(app: BitStableNode): Promise<void> {
  const report = await app.store.ledger.checkInvariant();
  expect(report.problems).toEqual([]);
  expect(report.ok).toBe(true);
}

/**
 * A Bitcoin Core descriptor wallet named `wallet` holding the guardian's private key (from
 * `guardianSeed`) for the vault set `keys`: a guardian's own wallet, elsewhere. Returns its
 * `walletprocesspsbt` (sign, and finalize when asked and it can).
 */
export async function coreGuardianWallet(
  app: BitStableNode,
  guardianSeed: Uint8Array,
  keys: VaultKeyOrigins,
  wallet: string,
): Promise<(psbt: string, finalize: boolean) => Promise<{ psbt: string; complete: boolean }>> {
  const rpc = app.regtest!.rpc;
  await rpc.call('createwallet', [wallet, false, true, '', false, true, false]);
  const account = rootOf({ seed: guardianSeed }, app.network).derivePath(keys.guardian.path);
  const guardianPrivate = `[${keys.guardian.fingerprint}${keys.guardian.path.slice(1)}]${account.toBase58()}`;
  const desc = withChecksum(
    `wsh(sortedmulti(2,${keyExpression(keys.owner)}/0/*,${keyExpression(keys.protocol)}/0/*,${guardianPrivate}/0/*))`,
  );
  const [imported] = await rpc.call<{ success: boolean }[]>(
    'importdescriptors',
    [[{ desc, timestamp: 'now', range: [0, 50], active: false }]],
    { wallet },
  );
  expect(imported!.success).toBe(true);
  return (psbt, finalize) =>
    rpc.call('walletprocesspsbt', [psbt, true, 'ALL', true, finalize], { wallet });
}
