/**
 * Reorg soak: a BitStable node on local regtest (its own bitcoind, real SQLite, confirmation
 * depth 2) takes deposits at every depth, withdrawals and liquidation settlements, and after each
 * burst of activity the chain is reorganised 1–6 blocks deep in one of three ways:
 *
 *   flap       invalidateblock, then reconsiderblock: the same blocks come back;
 *   competing  invalidateblock, then a longer branch of different blocks — its first block holds
 *              conflicting spends of some of the disconnected deposits' inputs, so those deposits
 *              vanish for good — then reconsiderblock of the old branch, which stays behind;
 *   shorter    invalidateblock, a shorter different branch, then reconsiderblock: the old branch
 *              has more work and wins back (two reorgs).
 *
 * After every chain change the app syncs and every vault's collateral must equal what the chain
 * says at the confirmation depth (read with scantxoutset and the mempool, not the app's wallet):
 * nothing counted below the depth, every reorged-out credit taken back; plus the ledger
 * invariant, SQLite's integrity check, and no spend made twice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BitStableNode } from '../../core/app/bitstable-node';
import { isBitStableError, STATE_REFUSAL_CODES } from '../../core/errors';
import { InMemoryKeyStore } from '../../core/keys/keystore';
import type { Sats } from '../../core/money';
import { btcParam, toSats } from '../../core/node/rpc';
import { collateralProblems, databaseProblems, spendProblems, type Rpc } from './lib/chain';
import { setPrice } from './lib/price';
import { budget, describeError, Failures, finish, keep, seedOf } from './lib/report';
import { Rng } from './lib/rng';
import type { SoakOptions, SoakResult } from './lib/types';

export const defaults = { runs: 100, seconds: 1_800 };

/** Deeper than regtest's 1, so a coin with one confirmation is visibly not yet collateral. */
const CONFIRMATIONS = 2;
const BASE_PRICE = 50_000_00;

interface VerboseTx {
  vin: { txid?: string; vout?: number }[];
  confirmations?: number;
}

/** Runs the reorg soak; prints `soak reorg runs=… failures=… …`. */
export async function run(options: SoakOptions): Promise<SoakResult> {
  const seed = seedOf(options);
  const rng = new Rng(seed);
  const failures = new Failures(options.log);
  const time = budget(options);
  const dataDir = mkdtempSync(join(tmpdir(), 'bitstable-soak-reorg-'));
  const f = {
    reorgs: 0,
    flap: 0,
    competing: 0,
    shorter: 0,
    max_depth: 0,
    deposits: 0,
    vanished: 0,
    reverted: 0,
    shallow_seen: 0,
    withdrawals: 0,
    settlements: 0,
    reorged_spends: 0,
    checks: 0,
  };
  const liquidatedUnconfirmed = new Set<number>();
  let done = 0;
  let app: BitStableNode | undefined;
  try {
    app = await BitStableNode.start({
      dataDir,
      network: 'regtest',
      keyStore: new InMemoryKeyStore(),
      params: { confirmations: CONFIRMATIONS },
    });
    const a = app;
    const { miner } = a.regtest!;
    const rpc: Rpc = a.regtest!.rpc;
    const net = a.network;
    /** Deposit txid → vault id. */
    const deposits = new Map<string, number>();
    let where = 'setup';
    /** This run's problems (compared across runs without the run's details). */
    let problems: { key: string; text: string }[] = [];
    const problem = (message: string, label = '') => {
      const text = `${where}${label ? ` ${label}` : ''}: ${message}`;
      problems.push({ key: message, text });
      options.log(`problem in ${text}`);
    };
    const check = async (label: string) => {
      await miner.settle();
      try {
        await a.sync();
      } catch (err) {
        problem(`sync failed: ${describeError(err)}`, label);
        return;
      }
      f.checks++;
      const { problems: found } = await collateralProblems(rpc, a.db, net, CONFIRMATIONS);
      // A reorg may put a spend and the next one (spending its change) in flight together: that is a
      // chain of spends, not a duplicate; duplicates show as one coin in two transactions.
      found.push(
        ...(await databaseProblems(a.db)),
        ...(await spendProblems(a.db, { oneInFlightPerVault: false })),
      );
      // Confirmed spends really have the depth; count Liquidated vaults whose settlement lost it.
      const spends = a.db
        .prepare("SELECT id, vault_id, kind, state, txid FROM spends WHERE state = 'confirmed'")
        .all() as {
        id: number;
        vault_id: number;
        kind: string;
        txid: string;
      }[];
      for (const s of spends) {
        const confs = await confirmationsOf(s.txid);
        if (confs < CONFIRMATIONS)
          found.push(
            `spend ${s.id} (${s.kind}) is stored confirmed but has ${confs} confirmation(s)`,
          );
      }
      const liquidated = a.db
        .prepare(
          `SELECT v.id, s.txid FROM vaults v JOIN spends s ON s.vault_id = v.id AND s.kind = 'settlement' AND s.state <> 'abandoned'
            WHERE v.state = 'liquidated'`,
        )
        .all() as { id: number; txid: string }[];
      // SPEC §6: Liquidated means the settlement is confirmed. A reorg that undoes the settlement
      // leaves the vault Liquidated today (reported, not failed: see the soak's report).
      for (const l of liquidated)
        if ((await confirmationsOf(l.txid)) < CONFIRMATIONS) liquidatedUnconfirmed.add(l.id);
      const shallow = a.db
        .prepare('SELECT count(*) FROM vault_utxos WHERE confirmations > 0 AND confirmations < ?')
        .pluck()
        .get(CONFIRMATIONS) as number;
      if (shallow > 0) f.shallow_seen++;
      for (const p of found) problem(p, label);
    };
    const confirmationsOf = async (txid: string) => {
      try {
        return (await rpc.call<VerboseTx>('getrawtransaction', [txid, true])).confirmations ?? 0;
      } catch {
        return -1;
      }
    };
    const mineSome = async (max: number) => {
      const n = rng.int(0, max);
      if (n > 0) await miner.mine(n);
    };
    const openVaults = async () =>
      (await a.vaults.listVaults()).filter((v) =>
        ['pending', 'active', 'warning'].includes(v.state),
      );
    const inFlight = (vaultId: number) =>
      a.db
        .prepare(
          "SELECT 1 FROM spends WHERE vault_id = ? AND state IN ('draft', 'signing', 'awaiting-guardian', 'signed', 'broadcast')",
        )
        .pluck()
        .get(vaultId) !== undefined;
    /** Refusals the app may rightly give in this churn (a coin reorged away, a spend in flight). */
    const expected = (err: unknown) =>
      isBitStableError(err) &&
      [
        ...STATE_REFUSAL_CODES,
        'RATIO_TOO_LOW',
        'INSUFFICIENT_FUNDS',
        'INVALID_AMOUNT',
        'PSBT_INVALID',
        'PRICE_UNAVAILABLE',
        'DEBT_BELOW_FLOOR',
        'INSUFFICIENT_BALANCE',
      ].includes(err.code);

    // A bank vault, deep beyond any reorg, whose bsUSD pays for auction takes.
    if (!(await setPrice(a, BASE_PRICE))) throw new Error('the simulated price was not accepted');
    const bank = await a.vaults.createVault({
      keySetId: a.keySetId,
      label: 'bank',
      returnAddress: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
    });
    await miner.send(bank.address, 500_000_000 as Sats);
    await miner.mine(10);
    await a.sync();
    await a.operations.mint(bank.id, 5_000_000);

    const deposit = async () => {
      const open = (await openVaults()).filter((v) => v.id !== bank.id);
      const vault =
        open.length === 0 || rng.chance(0.35)
          ? await a.vaults.createVault({
              keySetId: a.keySetId,
              returnAddress: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
            })
          : rng.pick(open);
      const txid = await miner.send(vault.address, rng.int(1_000_000, 50_000_000) as Sats);
      deposits.set(txid, vault.id);
      f.deposits++;
      await mineSome(2);
      await check('after a deposit');
    };
    const withdraw = async () => {
      const candidates = (await openVaults()).filter(
        (v) =>
          v.id !== bank.id &&
          v.state === 'active' &&
          v.debtCents === 0 &&
          v.collateralSats >= 2_000_000 &&
          !inFlight(v.id),
      );
      if (candidates.length === 0) return;
      const v = rng.pick(candidates);
      try {
        await a.operations.withdraw(
          v.id,
          Math.floor(v.collateralSats / 5),
          await miner.newAddress(),
        );
        f.withdrawals++;
      } catch (err) {
        if (!expected(err)) problem(`withdrawal from vault ${v.id} failed: ${describeError(err)}`);
      }
      await mineSome(2);
      await check('after a withdrawal');
    };
    const settlement = async () => {
      const candidates = (await openVaults()).filter(
        (v) =>
          v.id !== bank.id &&
          v.state === 'active' &&
          v.debtCents === 0 &&
          v.collateralSats >= 5_000_000 &&
          !inFlight(v.id),
      );
      if (candidates.length === 0) return;
      const v = rng.pick(candidates);
      try {
        // Mint to about 155 %, then a 5 % drop takes it under 150 %.
        const debt = Math.floor((v.collateralSats * (BASE_PRICE / 100_000_000) * 100) / 155);
        await a.operations.mint(v.id, debt);
        await setPrice(a, Math.round(BASE_PRICE * 0.95));
        for (const auction of await a.liquidation.listAuctions({ live: true })) {
          try {
            await a.liquidation.take({
              auctionId: auction.id,
              maxSats: auction.lotSats,
              maxPriceCents: BASE_PRICE * 10,
              btcAddress: await miner.newAddress(),
            });
          } catch (err) {
            if (!expected(err)) throw err;
          }
        }
        await a.sync(); // the settlement is made and broadcast
        f.settlements++;
      } catch (err) {
        if (!expected(err))
          problem(`settlement episode on vault ${v.id} failed: ${describeError(err)}`);
      } finally {
        await setPrice(a, BASE_PRICE);
      }
      await mineSome(3);
      await check('after a settlement');
    };

    /** A transaction spending the same inputs as `txid` back to the miner, or null if it cannot be made. */
    const conflictOf = async (txid: string): Promise<string | null> => {
      const tx = await rpc.call<VerboseTx>('getrawtransaction', [txid, true]);
      let total = 0;
      const inputs: { txid: string; vout: number }[] = [];
      for (const i of tx.vin) {
        if (i.txid === undefined || i.vout === undefined) return null;
        const coin = await rpc.call<{ value: unknown } | null>('gettxout', [i.txid, i.vout, false]);
        if (!coin) return null; // its input is itself unconfirmed now: leave this one alone
        total += toSats(coin.value);
        inputs.push({ txid: i.txid, vout: i.vout });
      }
      if (total < 100_000) return null;
      const raw = await rpc.call<string>('createrawtransaction', [
        inputs,
        [{ [await miner.newAddress()]: btcParam((total - 5_000) as Sats) }],
      ]);
      const signed = await rpc.call<{ hex: string; complete: boolean }>(
        'signrawtransactionwithwallet',
        [raw],
        { wallet: 'miner' },
      );
      return signed.complete ? signed.hex : null;
    };
    /** Mines one block: the mempool's transactions or none, or exactly `txs`. */
    const block = async (txs?: string[]) => {
      if (txs === undefined && rng.chance(0.6)) await miner.mine(1);
      else
        await rpc.call('generateblock', [await miner.newAddress(), txs ?? []], {
          timeoutMs: 60_000,
        });
      await miner.settle();
    };

    const reorg = async () => {
      const tip = await rpc.call<number>('getblockcount');
      const depth = rng.int(1, 6);
      const fork = await rpc.call<string>('getblockhash', [tip - depth + 1]);
      const oldTip = await rpc.call<string>('getbestblockhash');
      const before = new Map((await a.vaults.listVaults()).map((v) => [v.id, v.collateralSats]));
      const ownBefore = a.db
        .prepare("SELECT txid FROM spends WHERE state = 'confirmed'")
        .pluck()
        .all() as string[];
      const mode = rng.weighted({ flap: 3, competing: 5, shorter: 2 });
      f.reorgs++;
      f[mode]++;
      f.max_depth = Math.max(f.max_depth, depth);
      where = `run ${done} (${mode} reorg, depth ${depth})`;
      await rpc.call('invalidateblock', [fork]);
      await check('after invalidateblock');
      if (mode === 'flap') {
        await rpc.call('reconsiderblock', [fork]);
      } else if (mode === 'competing') {
        const mempool = await rpc.call<string[]>('getrawmempool');
        const conflicts: string[] = [];
        for (const txid of mempool) {
          if (!deposits.has(txid) || !rng.chance(0.5)) continue;
          const hex = await conflictOf(txid);
          if (hex) {
            conflicts.push(hex);
            f.vanished++;
            deposits.delete(txid);
          }
        }
        await block(conflicts);
        for (let i = 0; i < depth; i++) await block();
        await check('on the competing branch');
        await rpc.call('reconsiderblock', [fork]);
        if ((await rpc.call<string>('getbestblockhash')) === oldTip) {
          problem('the shorter old branch came back over a longer one');
        }
      } else {
        for (let i = 0; i < depth - 1; i++) await block();
        if (depth > 1) await check('on the shorter branch');
        await rpc.call('reconsiderblock', [fork]);
      }
      await check('after reconsiderblock');
      for (const v of await a.vaults.listVaults())
        if (v.collateralSats < (before.get(v.id) ?? 0)) f.reverted++;
      for (const txid of ownBefore)
        if ((await confirmationsOf(txid)) < CONFIRMATIONS) f.reorged_spends++;
    };

    options.log(
      `reorg soak: seed ${seed}, ${options.runs} reorgs, confirmations ${CONFIRMATIONS}, data ${dataDir}`,
    );
    while (time.more(done)) {
      where = `run ${done}`;
      problems = [];
      try {
        const steps = rng.int(1, 3);
        for (let i = 0; i < steps; i++) {
          const step = rng.weighted({ deposit: 6, withdraw: 2, settlement: 2 });
          if (step === 'deposit') await deposit();
          else if (step === 'withdraw') await withdraw();
          else await settlement();
        }
        await reorg();
      } catch (err) {
        problem(`threw: ${describeError(err)}`);
      }
      failures.endRun(`run ${done}`, problems, ` [seed ${seed}]`);
      done++;
      if (done % 10 === 0)
        options.log(
          `reorg soak: ${done} reorgs, ${failures.count} failures, ${Math.round(time.elapsed())} s`,
        );
    }
  } finally {
    await app?.stop();
    if (!keep(failures, options, dataDir)) rmSync(dataDir, { recursive: true, force: true });
  }
  return finish(
    'reorg',
    options,
    done,
    failures,
    {
      seed,
      confirmations: CONFIRMATIONS,
      ...f,
      liquidated_unconfirmed: liquidatedUnconfirmed.size,
    },
    time.elapsed(),
  );
}
