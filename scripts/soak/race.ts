/**
 * Race soak: one BitStable node on local regtest (its own bitcoind, real SQLite), a handful of
 * owners' vaults, a bank vault whose bsUSD pays the liquidators, and a few liquidators. Every
 * round fires a random set of operations at once — they interleave at every await:
 *
 *   mint, repay, withdraw (review then sign, with a pause between), a review left unsigned and
 *   signed rounds later (after mints, repays, deposits or price moves), close (sometimes repaying
 *   first), emergency exit, takes on live auctions (whole, partial, dust-leaving, too small, above
 *   the taker's price), deposits from the miner, price moves (small, crossing a vault's 150 %, or
 *   beyond the circuit breaker), a block mined and synced, an auction tick, the clock moved on.
 *
 * Typed refusals (SPEND_IN_FLIGHT, RATIO_TOO_LOW, DRAFT_CHANGED, VAULT_LIQUIDATING, …) are the
 * expected answer to a race and are counted; anything else thrown (not a BitStableError, or code
 * INTERNAL) is a failure. After every round, once the node has synced and ticked:
 *
 *   1. every withdrawal was co-signed at ≥ 150 %: its change × the price it was co-signed at
 *      (`spends.cosign_price_cents`) over the vault's debt at that moment (from the journal);
 *   2. no running auction offers more (`lot_sats`) than the vault's coins;
 *   3. no debt stands on a Closed or Liquidated vault, nor on an open vault with no coins at all;
 *   4. no auction stays settling for SETTLE_ROUNDS rounds with blocks without a settlement in
 *      flight (a recorded settlement error is shown);
 *   5. the bsUSD ledger invariant holds (and SQLite's integrity and foreign-key checks), surplus
 *      and deficit never both stand, and each vault's stability fee is what the ledger booked on
 *      it and no more than its normalized debt at today's rate (the soak runs a 100 % fee so its
 *      clock moves accrue cents, and sweeps at random between the other operations);
 *   6. every vault's collateral equals its coins in the node's watch wallet under the app's rule
 *      (≥ the confirmation depth, or change of its own spend), and a vault with no debt is
 *      Active with collateral, Pending without;
 *   plus no transaction made twice and at most one spend in flight per vault; and redemptions
 *   (lowest-ratio vaults first, racing everything else) whose payouts add up to what each
 *   redeemed, none paid by two transactions, none owed for long; and stability pool deposits
 *   and withdrawals while the pool takes auctions at their floor.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { BitStableNode } from '../../core/app/bitstable-node';
import { openPostgres } from '../../core/db/pg/database';
import { startLocalPostgres, type LocalPostgres } from '../../core/db/pg/local-cluster';
import { pgSql, sqliteSql } from './lib/sql';
import { isBitStableError } from '../../core/errors';
import { InMemoryKeyStore } from '../../core/keys/keystore';
import type { Auction } from '../../core/liquidation/auction-house';
import type { Bps, Cents, Sats } from '../../core/money';
import type { SpendPlan } from '../../core/psbt/build';
import { collateralRatioBps, maxDebtFor } from '../../core/vaults/health';
import { debtOf } from '../../core/vaults/fee';
import { rateAt } from '../../core/vaults/fee-book';
import type { Vault } from '../../core/vaults/vault-store';
import { databaseProblems, spendProblems } from './lib/chain';
import { setPrice } from './lib/price';
import { budget, describeError, Failures, finish, keep, seedOf } from './lib/report';
import { Rng } from './lib/rng';
import type { SoakOptions, SoakResult } from './lib/types';

export const defaults = { runs: 500, seconds: 1_800 };
/** Instances on PostgreSQL. */
const INSTANCES = 3;

const BASE_PRICE = 50_000_00;
const MIN_PRICE = 25_000_00;
const MAX_PRICE = 120_000_00;
/** Owner vaults kept open (Pending, Active or Warning); new ones replace closed and liquidated. */
const OPEN_OWNERS = 7;
/** Rounds with a block after which an ended auction must have its settlement in flight. */
const SETTLE_ROUNDS = 5;
/** The bank keeps the liquidators' bsUSD above this (cents). */
const BANK_FLOOR_CENTS = 300_000_00;
const LIQUIDATORS = 3;

type OpKind =
  | 'mint'
  | 'repay'
  | 'withdraw'
  | 'draft'
  | 'sign-draft'
  | 'close'
  | 'exit'
  | 'take'
  | 'deposit'
  | 'price'
  | 'mine'
  | 'tick'
  | 'time'
  | 'fees'
  | 'redeem'
  | 'pool';

const WEIGHTS: Record<OpKind, number> = {
  mint: 6,
  repay: 3,
  withdraw: 5,
  draft: 2,
  'sign-draft': 2.5,
  close: 1.5,
  exit: 1,
  take: 5,
  deposit: 3,
  price: 3.5,
  mine: 3,
  tick: 1,
  time: 0.7,
  fees: 0.8,
  redeem: 1.5,
  pool: 1.5,
};

/** A steep stability fee (100 % a year) so the soak's clock moves accrue cents to book. */
const SOAK_FEE_BPS = 10_000 as Bps;

interface Planned {
  kind: OpKind;
  /** What it does, for failure reports. */
  label: string;
  /** Interleaving: how many event-loop turns (and whether a short sleep) before it starts. */
  turns: number;
  sleepMs: number;
  run: () => Promise<void>;
}

interface Draft {
  spendId: number;
  vaultId: number;
  kind: 'withdraw' | 'close';
  round: number;
}

/** Typed, so counted as refusals, but logged with their message. */
const ODD = [
  'SIGNER_REFUSED',
  'PSBT_INVALID',
  'NODE_RPC_ERROR',
  'DATABASE_ERROR',
  'SETTLEMENT_UNBUILDABLE',
];

const turn = () => new Promise<void>((r) => setImmediate(r));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const OPEN = ['active', 'warning'] as const;
const isOpen = (v: Vault) => (OPEN as readonly string[]).includes(v.state);

/** Runs the race soak; prints `soak race runs=… failures=… …`. */
/**
 * The soak against PostgreSQL: three instances of the node in this process on one database and
 * one bitcoind, each round's operations spread over them (the first runs the rounds, syncs and
 * ticks, as the leader would; the others read its price back, as followers do).
 */
export function runOnPostgres(options: SoakOptions): Promise<SoakResult> {
  return run(options, 'postgres');
}

export async function run(
  options: SoakOptions,
  engine: 'sqlite' | 'postgres' = process.env.SOAK_DB === 'postgres' ? 'postgres' : 'sqlite',
): Promise<SoakResult> {
  const seed = seedOf(options);
  const rng = new Rng(seed);
  const failures = new Failures(options.log);
  const time = budget(options);
  const dataDir = mkdtempSync(join(tmpdir(), 'bitstable-soak-race-'));
  const f = {
    ops: 0,
    refusals: 0,
    mints: 0,
    withdrawals: 0,
    closes: 0,
    exits: 0,
    takes: 0,
    liquidations: 0,
    settlements: 0,
  };
  /** Figures for the log only (the printed line keeps the agreed shape). */
  const x = {
    repays: 0,
    /** Auctions ended as cured (a repay, a deposit or the price before any take). */
    cures: 0,
    /** Stability fee sweeps, and the cents booked by sweeps and by touches. */
    fee_sweeps: 0,
    fee_cents: 0,
    /** Redemptions made, their payouts, and the most mined rounds a payout stayed owed. */
    redemptions: 0,
    payouts: 0,
    longest_owed_rounds: 0,
    /** Stability pool deposits and withdrawals, and the auctions it took at their floor. */
    pool_deposits: 0,
    pool_withdrawals: 0,
    pool_takes: 0,
    deposits: 0,
    drafts: 0,
    late_signs: 0,
    price_moves: 0,
    blocks: 0,
    ticks: 0,
    clock_moves: 0,
    background_refusals: 0,
    /** Withdrawals with debt checked against their co-signing price, and the lowest ratio seen. */
    cosigned_with_debt: 0,
    lowest_cosign_ratio_bps: 0,
    longest_settling_rounds: 0,
    ops_s: 0,
    sync_s: 0,
    checks_s: 0,
  };
  const refusalCodes = new Map<string, number>();
  let done = 0;
  let offsetMs = 0;
  let app: BitStableNode | undefined;
  const followers: BitStableNode[] = [];
  let cluster: LocalPostgres | undefined;
  let checks: pg.Pool | undefined;
  try {
    if (engine === 'postgres') cluster = await startLocalPostgres();
    const database = cluster ? { database: { postgres: cluster.url } } : {};
    const keyStore = new InMemoryKeyStore();
    const common = {
      network: 'regtest' as const,
      keyStore,
      clock: () => Date.now() + offsetMs,
      backups: false as const,
      params: { stabilityFeeBps: SOAK_FEE_BPS },
      ...database,
    };
    app = await BitStableNode.start({ dataDir, ...common });
    const a = app;
    // Two more instances on the same database, keys and bitcoind.
    for (let k = 1; cluster && k < INSTANCES; k++) {
      followers.push(
        await BitStableNode.start({
          dataDir: join(dataDir, `instance-${k}`),
          ...common,
          bitcoin: {
            kind: 'rpc',
            rpc: {
              url: a.regtest!.rpc.url,
              auth: { kind: 'cookie', cookieFile: join(a.regtest!.dataDir, 'regtest', '.cookie') },
            },
          },
        }),
      );
    }
    const instances = [a, ...followers];
    /** The instance an operation goes to: any of them. */
    const any = () => instances[rng.int(0, instances.length - 1)]!;
    /** The followers read back what the first instance's rounds accepted. */
    const follow = () => Promise.all(followers.map((n) => n.oracle.refresh()));
    checks = cluster ? openPostgres(cluster.url, { max: 2 }) : undefined;
    const sql = checks ? pgSql(checks) : sqliteSql(a.db);
    const { miner } = a.regtest!;
    const confirmations = a.params.confirmations;
    let where = 'setup';
    let problems: { key: string; text: string }[] = [];
    const problem = (key: string, text = key) => {
      problems.push({ key, text: `${where}: ${text}` });
      options.log(`problem in ${where}: ${text}`);
    };
    a.onBackgroundError = (err) => {
      if (isBitStableError(err) && err.code !== 'INTERNAL') {
        x.background_refusals++;
        options.log(`${where}: background: ${describeError(err)}`);
      } else problem(`background error: ${describeError(err)}`);
    };
    const refused = (kind: string, code: string) => {
      f.refusals++;
      const k = `${kind}:${code}`;
      refusalCodes.set(k, (refusalCodes.get(k) ?? 0) + 1);
    };
    const price = () => {
      const p = a.oracle.current();
      return (p.priceCents ?? BASE_PRICE) as Cents;
    };

    // ── Setup: funds, a bank vault, liquidators' addresses, owners' vaults ──────────────────
    if (!(await setPrice(a, BASE_PRICE))) throw new Error('the simulated price was not accepted');
    // The bank's mint below goes to any instance: each must know the price first.
    await follow();
    await miner.mine(200); // mature coinbases for every deposit to come
    const bank = await a.vaults.createVault({
      keySetId: a.keySetId,
      label: 'bank',
      returnAddress: await miner.newAddress(),
    });
    await miner.send(bank.address, 10_000_000_000 as Sats); // 100 BTC
    const liquidators: string[][] = [];
    for (let i = 0; i < LIQUIDATORS; i++)
      liquidators.push([await miner.newAddress(), await miner.newAddress()]);
    const destinations = [await miner.newAddress(), await miner.newAddress()];
    let created = 0;
    const newOwner = async () => {
      created++;
      // Every seventh owner never sets a return address: its mints are refused.
      const v = await a.vaults.createVault({
        keySetId: a.keySetId,
        label: `owner-${created}`,
        ...(created % 7 === 3 ? {} : { returnAddress: await miner.newAddress() }),
      });
      await miner.send(v.address, rng.int(10_000_000, 200_000_000) as Sats);
      x.deposits++;
      return v;
    };
    for (let i = 0; i < OPEN_OWNERS; i++) await newOwner();
    await miner.mine(confirmations);
    await a.sync();
    await any().operations.mint(bank.id, 500_000_00);

    const owners = async () => (await a.vaults.listVaults()).filter((v) => v.id !== bank.id);
    const drafts: Draft[] = [];
    /** Per auction: the count of mined rounds when it was first seen settling. */
    const settlingSince = new Map<number, number>();
    /** Since which mined round each redemption payout has been owed. */
    const owedSince = new Map<number, number>();
    let minedRounds = 0;
    /** Withdrawals already checked (a signed spend never changes). */
    const checkedWithdrawals = new Set<number>();

    /** One operation: a typed refusal is counted, anything else is a failure. */
    const attempt = async (op: Planned) => {
      for (let i = 0; i < op.turns; i++) await turn();
      if (op.sleepMs > 0) await sleep(op.sleepMs);
      f.ops++;
      try {
        await op.run();
      } catch (err) {
        if (isBitStableError(err) && err.code !== 'INTERNAL') {
          refused(op.kind, err.code);
          // Refusals a race should not reach (a later check, the node, or a signer said no).
          if (ODD.includes(err.code)) options.log(`${where}: ${op.label}: ${describeError(err)}`);
        } else
          problem(
            `${op.kind} threw ${describeError(err).replace(/\d+/g, 'N')}`,
            `${op.label} threw ${describeError(err)}${err instanceof Error && !isBitStableError(err) ? `\n${err.stack}` : ''}`,
          );
      }
    };

    // ── Planning one round ──────────────────────────────────────────────────────────────────
    const pickVault = (pool: Vault[], hot: Vault | undefined): Vault | undefined => {
      if (pool.length === 0) return undefined;
      if (hot && pool.some((v) => v.id === hot.id) && rng.chance(0.45)) return hot;
      return rng.pick(pool);
    };

    const planPrice = async (): Promise<{ label: string; target: number; hold: boolean }> => {
      const now = price();
      const indebted = (await owners()).filter(
        (v) => isOpen(v) && v.debtCents > 0 && v.liquidationPriceCents,
      );
      let mode = rng.weighted({ walk: 4, cross: 5, up: 2, breaker: 1, hold: 1 });
      if (f.liquidations === 0 && done >= 2 && indebted.length) mode = 'cross';
      let target: number;
      if (mode === 'cross' && indebted.length) {
        // Just under one vault's liquidation price: it falls below 150 %.
        const v = rng.pick(indebted);
        target = Math.floor(v.liquidationPriceCents! * (0.95 + rng.next() * 0.049));
      } else if (mode === 'up') {
        target = Math.round(now * (1.02 + rng.next() * 0.13));
      } else if (mode === 'breaker' || mode === 'hold') {
        target = Math.round(
          now * (rng.chance(0.5) ? 1.21 + rng.next() * 0.2 : 0.6 + rng.next() * 0.19),
        );
      } else {
        // A random walk that leans back toward the base price.
        const lean = now > BASE_PRICE * 1.3 ? -0.02 : now < BASE_PRICE * 0.8 ? 0.02 : 0;
        target = Math.round(now * (1 + lean + (rng.next() * 2 - 1) * 0.05));
      }
      target = Math.min(MAX_PRICE, Math.max(MIN_PRICE, target));
      return { label: `price ${mode} ${now} → ${target}`, target, hold: mode === 'hold' };
    };

    const planRound = async (round: number): Promise<Planned[]> => {
      const vaults = await owners();
      const open = vaults.filter(isOpen);
      const live = await a.liquidation.listAuctions({ live: true });
      const hot = open.length ? rng.pick(open) : undefined;
      const p = price();
      const count = rng.int(2, 9);
      const ops: Planned[] = [];
      let priced = false;
      for (let i = 0; i < count; i++) {
        const w: Record<OpKind, number> = { ...WEIGHTS };
        if (live.length === 0) w.take = 1;
        else if (f.takes === 0) w.take *= 3;
        if (drafts.length === 0) w['sign-draft'] = 0;
        if (priced) w.price = 0;
        if (f.closes + f.exits === 0 && round >= 4) {
          w.close *= 3;
          w.exit *= 3;
        }
        const kind = rng.weighted(w);
        const r = new Rng(rng.seed());
        const base = { kind, turns: rng.int(0, 4), sleepMs: rng.chance(0.25) ? rng.int(1, 25) : 0 };
        const add = (label: string, fn: () => Promise<void>) =>
          ops.push({ ...base, label, run: fn });
        switch (kind) {
          case 'mint': {
            // Sometimes any vault at all (Pending, Closed, Liquidating: refused).
            const v = rng.chance(0.1) ? pickVault(vaults, hot) : pickVault(open, hot);
            if (!v) break;
            // A target ratio from 140 % (refused) to 300 %, often just above 150 %.
            const ratio = rng.chance(0.5) ? r.int(14_900, 16_500) : r.int(14_000, 30_000);
            const room = maxDebtFor(v.collateralSats, p, ratio as Bps) - v.debtCents;
            const amount = room > 5_000 ? room : r.int(1, 10_000);
            add(`mint ${amount} on vault ${v.id}`, async () => {
              await any().operations.mint(v.id, amount);
              f.mints++;
            });
            break;
          }
          case 'repay': {
            const withDebt = vaults.filter((v) => v.debtCents > 0);
            const v = rng.chance(0.1) ? pickVault(vaults, hot) : pickVault(withDebt, hot);
            if (!v) break;
            // All of it as the UI shows it (with the fee accrued), or a part.
            const all = r.chance(0.35);
            const part = Math.max(1, Math.floor(v.debtCents * (0.05 + r.next() * 0.6)));
            add(`repay ${all ? 'all' : part} on vault ${v.id}`, async () => {
              await any().operations.repay(v.id, all ? await any().operations.debtNow(v.id) : part);
              x.repays++;
            });
            break;
          }
          case 'withdraw':
          case 'draft': {
            const v = pickVault(
              open.filter((o) => o.collateralSats > 0),
              hot,
            );
            if (!v) break;
            const amount = withdrawAmount(r, v, p);
            const dest = r.pick(destinations);
            const later = kind === 'draft';
            const closing = later && r.chance(0.2);
            const pause = r.int(0, 3);
            // Now and then the same review is signed twice at once (a double click).
            const twice = !later && r.chance(0.12);
            add(
              `${later ? 'review (signed later) of a ' : ''}${closing ? 'close' : `withdrawal of ${amount}`} from vault ${v.id}`,
              async () => {
                const preview = closing
                  ? await any().spends.previewClose(v.id, dest)
                  : await any().spends.previewWithdraw(v.id, amount, dest);
                if (later) {
                  drafts.push({
                    spendId: preview.spendId,
                    vaultId: v.id,
                    kind: closing ? 'close' : 'withdraw',
                    round,
                  });
                  x.drafts++;
                  return;
                }
                // Let the other operations of the round run between the review and the signature.
                for (let k = 0; k < pause; k++) await turn();
                if (pause === 3) await sleep(5);
                if (twice) {
                  const both = await Promise.allSettled([
                    any().spends.sign(preview.spendId, 'withdraw'),
                    turn().then(() => any().spends.sign(preview.spendId, 'withdraw')),
                  ]);
                  const ok = both.filter((b) => b.status === 'fulfilled').length;
                  if (ok > 1) throw new Error(`review #${preview.spendId} was signed twice`);
                  for (const b of both) {
                    if (b.status === 'rejected' && ok === 1) {
                      // The second signature's refusal is counted; the first one's result stands.
                      if (!isBitStableError(b.reason) || b.reason.code === 'INTERNAL')
                        throw b.reason;
                      refused('double-sign', b.reason.code);
                    }
                  }
                  if (ok === 0) throw (both[0] as PromiseRejectedResult).reason;
                } else await any().spends.sign(preview.spendId, 'withdraw');
                f.withdrawals++;
              },
            );
            break;
          }
          case 'sign-draft': {
            const d = drafts.splice(r.int(0, drafts.length - 1), 1)[0]!;
            add(
              `signing the ${d.kind} review #${d.spendId} of vault ${d.vaultId} from round ${d.round}`,
              async () => {
                await any().spends.sign(d.spendId, d.kind);
                x.late_signs++;
                if (d.kind === 'close') f.closes++;
                else f.withdrawals++;
              },
            );
            break;
          }
          case 'close':
          case 'exit': {
            const v = pickVault(open, hot);
            if (!v) break;
            const repayFirst = v.debtCents > 0 && r.chance(0.6);
            const dest = r.pick(destinations);
            add(`${repayFirst ? 'repay all, then ' : ''}${kind} vault ${v.id}`, async () => {
              if (repayFirst) {
                const debt = await any().operations.debtNow(v.id);
                if (debt > 0) await any().operations.repay(v.id, debt);
                await turn();
              }
              if (kind === 'close') {
                await any().operations.close(v.id, dest);
                f.closes++;
              } else {
                await any().operations.emergencyExit(v.id, dest);
                f.exits++;
              }
            });
            break;
          }
          case 'take': {
            if (live.length === 0 || r.chance(0.25)) {
              // Whatever is live when it runs: an auction a price move of this round started.
              const btcAddress = r.pick(r.pick(liquidators));
              const pickAt = r.next();
              add('take all of an auction live when the take runs', async () => {
                const now = await a.liquidation.listAuctions({ live: true });
                if (now.length === 0) return;
                const auction = now[Math.floor(pickAt * now.length)]!;
                await any().liquidation.take({
                  auctionId: auction.id,
                  maxSats: auction.lotSats + 100_000_000,
                  maxPriceCents: auction.topPriceCents * 2,
                  btcAddress,
                });
                f.takes++;
              });
              break;
            }
            const auction: Auction = r.pick(live);
            const lotLeft = Math.max(0, auction.lotSats - auction.soldSats);
            const size = r.weighted({ all: 4, part: 4, near: 1.5, tiny: 1 });
            // What buys the rest of the tab at the auction's price now.
            const needed = Math.ceil(
              ((auction.tabCents - auction.coveredCents) * 100_000_000) /
                Math.max(1, auction.priceCents),
            );
            const maxSats =
              size === 'all'
                ? lotLeft + 100_000_000
                : size === 'part'
                  ? Math.max(1, Math.floor(lotLeft * (0.05 + r.next() * 0.7)))
                  : size === 'near'
                    ? Math.max(1, Math.min(lotLeft, needed) - r.int(1, 100_000)) // leaves dust
                    : r.chance(0.5)
                      ? r.int(1, 600)
                      : r.int(1, 20_000);
            const maxPriceCents = r.chance(0.9)
              ? auction.topPriceCents * 2
              : Math.floor(auction.floorPriceCents / 2);
            const btcAddress = r.pick(r.pick(liquidators));
            // Now and then a liquidator who holds no bsUSD at all.
            const taker = r.chance(0.05) ? 'liquidator-without-bsusd' : undefined;
            add(
              `take ${size} (${maxSats} sats) of auction ${auction.id} (vault ${auction.vaultId})${taker ? ` by ${taker}` : ''}`,
              async () => {
                await any().liquidation.take({
                  auctionId: auction.id,
                  maxSats,
                  maxPriceCents,
                  btcAddress,
                  ...(taker ? { taker } : {}),
                });
                f.takes++;
              },
            );
            break;
          }
          case 'deposit': {
            const v = rng.chance(0.08)
              ? pickVault(vaults, hot)
              : pickVault(
                  vaults.filter(
                    (o) => o.state === 'pending' || isOpen(o) || o.state === 'liquidating',
                  ),
                  hot,
                );
            if (!v) break;
            const amount = r.int(1_000_000, 100_000_000);
            add(`deposit ${amount} to vault ${v.id}`, async () => {
              await miner.send(v.address, amount as Sats);
              x.deposits++;
            });
            break;
          }
          case 'price': {
            priced = true;
            const { label, target, hold } = await planPrice();
            add(label, async () => {
              if (hold) {
                // One round only: the circuit breaker holds the move for the rest of this round
                // (no fresh price: mints and withdrawals with debt wait); the next confirms it.
                a.simulated!.setPrice(target as Cents);
                await a.oracle.runRound();
                await a.healthPasses;
              } else await setPrice(a, target);
              await follow();
              x.price_moves++;
            });
            break;
          }
          case 'mine': {
            const n = r.chance(0.8) ? 1 : 2;
            add(`mine ${n} block(s) and sync`, async () => {
              await miner.mine(n);
              x.blocks += n;
              await a.sync();
            });
            break;
          }
          case 'tick':
            add('auction tick', async () => {
              await a.liquidation.tick();
              x.ticks++;
            });
            break;
          case 'redeem': {
            // Redeem bsUSD for bitcoin from the lowest-ratio vaults, whatever they are by then.
            const amount = r.chance(0.2) ? r.int(1, 2_000) : r.int(5_000, 300_000);
            const dest = r.pick(destinations);
            add(`redeem ${amount} to ${dest}`, async () => {
              await any().redemptions.redeem(a.localAccountId, amount, dest);
              x.redemptions++;
            });
            break;
          }
          case 'pool': {
            // Into the stability pool, or out of it (a part, or all), while auctions fall.
            const into = r.chance(0.6);
            const amount = r.int(1_000, 400_000);
            const all = !into && r.chance(0.3);
            const dest = r.pick(destinations);
            add(
              `${into ? 'deposit' : 'withdraw'} ${all ? 'all' : amount} ${into ? 'into' : 'from'} the stability pool`,
              async () => {
                if (into) {
                  await any().pool.deposit(a.localAccountId, amount, dest);
                  x.pool_deposits++;
                } else {
                  await any().pool.withdraw(a.localAccountId, all ? 'all' : amount);
                  x.pool_withdrawals++;
                }
              },
            );
            break;
          }
          case 'fees':
            // The hourly sweep, at any moment: it books every untouched vault's accrued fee.
            add('stability fee sweep', async () => {
              await a.sweepFees();
              x.fee_sweeps++;
            });
            break;
          case 'time': {
            // Auctions fall toward their floor and reset; now and then unsigned reviews expire.
            const ms = r.chance(0.12) ? 16 * 60_000 : r.int(10_000, 130_000);
            add(`clock +${ms} ms`, async () => {
              offsetMs += ms;
              x.clock_moves++;
            });
            break;
          }
        }
      }
      // Until one take has gone through, every round that sees a live auction also buys one
      // whole, at twice its top price, by a liquidator the bank funds: how many auctions a
      // short run sees, and whether the pool reaches them first, depends on timing.
      if (f.takes === 0 && live.length > 0) {
        const auction = live[0]!;
        const btcAddress = liquidators[0]![0]!;
        ops.push({
          kind: 'take',
          turns: 0,
          sleepMs: 0,
          label: `take all of auction ${auction.id} (vault ${auction.vaultId}), none taken yet`,
          run: async () => {
            await any().liquidation.take({
              auctionId: auction.id,
              maxSats: auction.lotSats + 100_000_000,
              maxPriceCents: auction.topPriceCents * 2,
              btcAddress,
            });
            f.takes++;
          },
        });
      }
      return ops;
    };

    // ── Between rounds: a fresh price, the bank's bsUSD, enough open owners ─────────────────
    const housekeeping = async () => {
      const state = a.oracle.current();
      if (state.status !== 'ok' || (state.ageMs ?? 0) > 20_000) {
        // A held move is confirmed (or a stale price refreshed) at the simulated price.
        await a.oracle.runRound();
        await a.healthPasses;
        if (a.oracle.current().status !== 'ok') await a.oracle.runRound();
      }
      const b = await a.vaults.getVault(bank.id);
      if (
        (await a.operations.balanceCents()) < BANK_FLOOR_CENTS &&
        a.oracle.current().status === 'ok'
      ) {
        const room = maxDebtFor(b.collateralSats, price(), 40_000 as Bps) - b.debtCents;
        if (room >= 100_000_00) await any().operations.mint(bank.id, Math.min(room, 500_000_00));
        else await miner.send(bank.address, 5_000_000_000 as Sats);
      }
      const open = (await owners()).filter((v) => v.state === 'pending' || isOpen(v));
      for (let i = open.length; i < OPEN_OWNERS; i++) await newOwner();
    };

    // ── After a round: the checks ────────────────────────────────────────────────────────────
    const check = async (minedThisRound: boolean) => {
      const started = performance.now();
      try {
        await miner.settle();
        await a.sync();
        await a.liquidation.tick();
      } catch (err) {
        problem(`sync or tick after the round failed: ${describeError(err)}`);
        return;
      } finally {
        x.sync_s += (performance.now() - started) / 1000;
      }
      const checking = performance.now();
      if (minedThisRound) minedRounds++;

      // 1. Every withdrawal co-signed at ≥ 150 % at its co-signing price.
      const withdrawals = (await sql.all(
        "SELECT id, vault_id, state, plan, cosign_price_cents FROM spends WHERE kind = 'withdraw' AND state IN ('signed', 'broadcast', 'confirmed', 'abandoned')",
      )) as {
        id: number;
        vault_id: number;
        state: string;
        plan: string;
        cosign_price_cents: number | null;
      }[];
      for (const s of withdrawals) {
        if (checkedWithdrawals.has(s.id)) continue;
        const signedAt = (await sql.value(
          "SELECT id FROM events WHERE type = 'spend.signed' AND vault_id = ? AND json_extract(data, '$.spendId') = ?",
          s.vault_id,
          s.id,
        )) as number | undefined;
        if (signedAt === undefined) continue; // abandoned before it was ever co-signed
        checkedWithdrawals.add(s.id);
        // The last liquidation event before the co-signature; a cure (before any take) gave
        // the vault back to its owner.
        const liquidatedBefore = (await sql.value(
          "SELECT type FROM events WHERE vault_id = ? AND id < ? AND type IN ('vault.liquidating', 'auction.take', 'vault.written-off', 'auction.cured') ORDER BY id DESC LIMIT 1",
          s.vault_id,
          signedAt,
        )) as string | undefined;
        if (liquidatedBefore && liquidatedBefore !== 'auction.cured')
          problem(
            `a withdrawal was co-signed after its vault was liquidated (${liquidatedBefore})`,
            `withdrawal #${s.id} of vault ${s.vault_id} was co-signed after ${liquidatedBefore}`,
          );
        const lastDebt = (await sql.value(
          "SELECT data FROM events WHERE vault_id = ? AND id < ? AND type IN ('vault.mint', 'vault.repay', 'vault.redeemed') ORDER BY id DESC LIMIT 1",
          s.vault_id,
          signedAt,
        )) as string | undefined;
        const debt = lastDebt ? (JSON.parse(lastDebt) as { debtCents: number }).debtCents : 0;
        if (debt === 0) continue;
        const plan = JSON.parse(s.plan) as SpendPlan;
        const change = plan.outputs[plan.outputs.length - 1]!.amountSats;
        if (s.cosign_price_cents === null) {
          problem(
            'a withdrawal with debt was co-signed without a recorded price',
            `withdrawal #${s.id} of vault ${s.vault_id} (debt ${debt}) has no cosign_price_cents`,
          );
          continue;
        }
        const ratio = collateralRatioBps(change, debt as Cents, s.cosign_price_cents as Cents)!;
        x.cosigned_with_debt++;
        if (x.lowest_cosign_ratio_bps === 0 || ratio < x.lowest_cosign_ratio_bps)
          x.lowest_cosign_ratio_bps = ratio;
        if (ratio < a.params.liquidationRatioBps)
          problem(
            `withdrawal #${s.id} left vault ${s.vault_id} under 150 % at its co-signing price`,
            `withdrawal #${s.id} left vault ${s.vault_id} at ${ratio / 100} % (change ${change} sats, debt ${debt} cents, co-signed at ${s.cosign_price_cents})`,
          );
      }

      // 2. No running auction offers more than the vault's coins.
      const lots = (await sql.all(`SELECT l.id, l.vault_id, l.lot_sats, l.sold_sats,
                  COALESCE((SELECT SUM(u.amount_sats) FROM vault_utxos u WHERE u.vault_id = l.vault_id), 0) AS coins
             FROM liquidations l WHERE l.state = 'running'`)) as {
        id: number;
        vault_id: number;
        lot_sats: number;
        sold_sats: number;
        coins: number;
      }[];
      for (const l of lots)
        if (l.lot_sats > l.coins)
          problem(
            `auction ${l.id} offers more than its vault's coins`,
            `auction ${l.id} (vault ${l.vault_id}) offers a lot of ${l.lot_sats} sats (${l.sold_sats} sold) but the vault holds ${l.coins}`,
          );

      // 3. No debt on an empty, closed or liquidated vault.
      const rows = (await sql.all(
        'SELECT id, address, state, collateral_sats, incoming_sats, debt_cents FROM vaults',
      )) as {
        id: number;
        address: string;
        state: string;
        collateral_sats: number;
        incoming_sats: number;
        debt_cents: number;
      }[];
      const liveAuction = new Set(
        (await sql.column("SELECT vault_id FROM liquidations WHERE state = 'running'")) as number[],
      );
      for (const v of rows) {
        if (v.debt_cents === 0) continue;
        if (v.state === 'closed' || v.state === 'liquidated')
          problem(
            `vault ${v.id} is ${v.state} with debt`,
            `vault ${v.id} is ${v.state} and still owes ${v.debt_cents} cents (${v.collateral_sats} sats, ${v.incoming_sats} incoming)`,
          );
        else if (v.collateral_sats === 0 && v.incoming_sats === 0 && !liveAuction.has(v.id))
          problem(
            `vault ${v.id} owes with no coins`,
            `vault ${v.id} (${v.state}) owes ${v.debt_cents} cents with no coins at all`,
          );
      }

      // 4. Ended auctions get their settlement.
      const settling = (await sql.all(
        "SELECT id, vault_id, last_error, last_error_code, error_count FROM liquidations WHERE state = 'settling'",
      )) as {
        id: number;
        vault_id: number;
        last_error: string | null;
        last_error_code: string | null;
        error_count: number;
      }[];
      const stillSettling = new Set(settling.map((s) => s.id));
      for (const id of settlingSince.keys()) if (!stillSettling.has(id)) settlingSince.delete(id);
      for (const s of settling) {
        if (!settlingSince.has(s.id)) settlingSince.set(s.id, minedRounds);
        const waited = minedRounds - settlingSince.get(s.id)!;
        x.longest_settling_rounds = Math.max(x.longest_settling_rounds, waited);
        const inFlight = (await sql.value(
          "SELECT state FROM spends WHERE vault_id = ? AND kind = 'settlement' AND state IN ('signing', 'awaiting-guardian', 'signed', 'broadcast')",
          s.vault_id,
        )) as string | undefined;
        const error = s.last_error
          ? `; its last settlement error (${s.error_count}×): ${s.last_error_code}: ${s.last_error}`
          : '';
        if (waited >= SETTLE_ROUNDS && !inFlight)
          problem(
            `auction ${s.id} is stuck settling${s.last_error_code ? ` (${s.last_error_code})` : ''}`,
            `auction ${s.id} (vault ${s.vault_id}) ended ${waited} mined rounds ago with no settlement in flight${error}`,
          );
        else if (waited >= SETTLE_ROUNDS * 3)
          problem(
            `auction ${s.id}'s settlement does not confirm`,
            `auction ${s.id} (vault ${s.vault_id}) has been settling for ${waited} mined rounds (settlement ${inFlight})${error}`,
          );
      }

      // 4b. Redemptions: each one's payouts add up to what it redeemed; no payout is paid by
      // two confirmed transactions; an owed payout gets paid (a spend in flight, or soon).
      const badSums =
        (await sql.all(`SELECT r.id, r.redeemed_cents, r.sats, COALESCE(SUM(p.debt_cents), 0) AS debt, COALESCE(SUM(p.sats), 0) AS sats_sum
             FROM redemptions r LEFT JOIN redemption_payouts p ON p.redemption_id = r.id
            GROUP BY r.id HAVING COALESCE(SUM(p.debt_cents), 0) <> r.redeemed_cents OR COALESCE(SUM(p.sats), 0) <> r.sats`)) as {
          id: number;
        }[];
      for (const b of badSums)
        problem(
          'a redemption whose payouts do not add up',
          `redemption ${b.id}'s payouts differ from it`,
        );
      const twice =
        (await sql.all(`SELECT json_extract(plan, '$.redemptionPayoutId') AS payout, COUNT(*) AS n FROM spends
            WHERE kind = 'redemption' AND state = 'confirmed' GROUP BY 1 HAVING COUNT(*) > 1`)) as {
          payout: number;
          n: number;
        }[];
      for (const t2 of twice)
        problem(
          'a redemption payout paid twice',
          `payout ${t2.payout} has ${t2.n} confirmed transactions`,
        );
      const owedNow = (await sql.all(
        "SELECT id, vault_id FROM redemption_payouts WHERE state = 'owed'",
      )) as { id: number; vault_id: number }[];
      const stillOwed = new Set(owedNow.map((o) => o.id));
      for (const id of owedSince.keys()) if (!stillOwed.has(id)) owedSince.delete(id);
      for (const o of owedNow) {
        if (!owedSince.has(o.id)) owedSince.set(o.id, minedRounds);
        const waited = minedRounds - owedSince.get(o.id)!;
        x.longest_owed_rounds = Math.max(x.longest_owed_rounds, waited);
        if (waited >= SETTLE_ROUNDS * 3)
          problem(
            'a redemption payout is not paid',
            `payout ${o.id} of vault ${o.vault_id} has been owed for ${waited} mined rounds`,
          );
      }
      x.payouts = (await sql.value('SELECT COUNT(*) FROM redemption_payouts')) as number;
      x.pool_takes = (await sql.value(
        'SELECT COUNT(DISTINCT liquidation_id) FROM auction_takes WHERE via_pool = 1',
      )) as number;
      // 4c. The pool: no depositor's bsUSD below zero, and no pool take above the floor price.
      const overPriced =
        (await sql.column(`SELECT t.id FROM auction_takes t JOIN liquidations l ON l.id = t.liquidation_id
            WHERE t.via_pool = 1 AND t.price_cents > l.top_price_cents`)) as number[];
      for (const id of overPriced)
        problem(
          'a pool take above the auction price',
          `pool take ${id} paid more than the auction's top`,
        );

      // 5. The ledger (and SQLite's own checks).
      const ledger = await a.store.ledger.checkInvariant();
      if (!ledger.ok) problem(`ledger invariant: ${ledger.problems.join('; ')}`);
      if (!cluster)
        for (const p of await databaseProblems(a.db)) if (!p.startsWith('ledger')) problem(p);

      // 5b. The stability fee: what each vault says it was charged is what the ledger booked on
      // it, and no vault's booked debt is above its debt at today's rate (nothing charged twice).
      const feeRows = (await sql.all(`SELECT v.id, v.fees_cents, v.debt_cents, v.debt_art, v.state,
                  COALESCE((SELECT -SUM(p.amount_cents) FROM ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id
                             WHERE p.account_id = 'vault:' || v.id AND e.kind = 'stability_fee'), 0) AS booked
             FROM vaults v`)) as {
        id: number;
        fees_cents: number;
        debt_cents: number;
        debt_art: number;
        state: string;
        booked: number;
      }[];
      const rate = (await rateAt(a.store, 'regtest', a.clock())).rate;
      for (const v of feeRows) {
        if (v.fees_cents !== v.booked)
          problem(
            `a vault's fees differ from the ledger`,
            `vault ${v.id} says ${v.fees_cents} cents of fee, the ledger booked ${v.booked}`,
          );
        const owed = debtOf(BigInt(v.debt_art), rate);
        if (v.state !== 'liquidating' && v.debt_art > 0 && v.debt_cents > owed + 1)
          problem(
            'a vault was charged more than its debt at the fee rate',
            `vault ${v.id} is booked at ${v.debt_cents} cents; its normalized debt is ${owed} today`,
          );
      }

      // 6. Collateral is the watch wallet's coins under syncDeposits' rule.
      const own = new Set(
        (await sql.column(
          "SELECT txid FROM spends WHERE txid IS NOT NULL AND state IN ('signed', 'broadcast', 'confirmed')",
        )) as string[],
      );
      const credited = new Map<string, number>();
      for (const u of await a.chain.listWatchedUtxos()) {
        if (u.confirmations >= confirmations || own.has(u.txid))
          credited.set(u.address, (credited.get(u.address) ?? 0) + u.amountSats);
      }
      const closing = new Set(
        (await sql.column(
          "SELECT vault_id FROM spends WHERE kind IN ('close', 'emergency-exit') AND state IN ('signed', 'broadcast')",
        )) as number[],
      );
      for (const v of rows) {
        const chain = credited.get(v.address) ?? 0;
        if (v.collateral_sats !== chain)
          problem(
            `vault ${v.id}'s collateral differs from the chain`,
            `vault ${v.id} (${v.state}) holds ${v.collateral_sats} sats of collateral; its coins in the wallet make ${chain}`,
          );
        const terminal = ['liquidating', 'liquidated', 'closed'].includes(v.state);
        if (!terminal && !closing.has(v.id) && v.debt_cents === 0) {
          const want = v.collateral_sats > 0 ? 'active' : 'pending';
          if (v.state !== want)
            problem(
              `vault ${v.id} is ${v.state} without debt`,
              `vault ${v.id} is ${v.state} with ${v.collateral_sats} sats and no debt; it should be ${want}`,
            );
        }
      }

      // And: nothing made twice, one spend in flight per vault, takes add up.
      for (const p of await spendProblems(sql)) problem(p);
      x.checks_s += (performance.now() - checking) / 1000;
    };

    // ── The rounds ─────────────────────────────────────────────────────────────────────────
    options.log(`race soak: seed ${seed}, ${options.runs} rounds, data ${dataDir}`);
    while (time.more(done)) {
      where = `round ${done}`;
      problems = [];
      try {
        await housekeeping();
        await follow();
        const ops = await planRound(done);
        where = `round ${done} [${ops.map((o) => o.label).join('; ')}]`;
        const blocksBefore = x.blocks;
        const started = performance.now();
        await Promise.allSettled(ops.map((op) => attempt(op)));
        x.ops_s += (performance.now() - started) / 1000;
        await check(x.blocks > blocksBefore);
      } catch (err) {
        problem(
          `round threw: ${describeError(err)}`,
          `round threw: ${(err as Error)?.stack ?? String(err)}`,
        );
      }
      f.liquidations = (await sql.value('SELECT count(*) FROM liquidations')) as number;
      f.settlements = (await sql.value(
        "SELECT count(*) FROM liquidations WHERE state = 'settled'",
      )) as number;
      x.fee_cents = (await sql.value('SELECT COALESCE(SUM(fees_cents), 0) FROM vaults')) as number;
      x.cures = (await sql.value(
        'SELECT count(*) FROM liquidations WHERE cured_at IS NOT NULL',
      )) as number;
      failures.endRun(`round ${done}`, problems, ` [seed ${seed}]`);
      done++;
      if (done % 25 === 0)
        options.log(
          `race soak: ${done} rounds, ${failures.count} failures, ${f.ops} ops, ${f.refusals} refusals, ${Math.round(time.elapsed())} s`,
        );
    }
    options.log(
      `race soak: ${JSON.stringify(x, (_, v: unknown) => (typeof v === 'number' ? Math.round(v * 10) / 10 : v))}; refusals ${[
        ...refusalCodes.entries(),
      ]
        .sort((p, q) => q[1] - p[1])
        .map(([k, n]) => `${k}=${n}`)
        .join(' ')}`,
    );
  } finally {
    for (const n of followers) await n.stop();
    await app?.stop();
    await checks?.end();
    await cluster?.stop();
    if (!keep(failures, options, dataDir)) rmSync(dataDir, { recursive: true, force: true });
  }
  return finish(
    'race',
    options,
    done,
    failures,
    { seed, ...(cluster ? { engine: 'postgres', instances: INSTANCES } : {}), ...f },
    time.elapsed(),
  );
}

/**
 * How much to withdraw: with debt, enough to leave a ratio from 140 % (refused) to 250 % at
 * today's price; without, a fifth to nine tenths of the collateral (sometimes all: refused).
 */
function withdrawAmount(r: Rng, v: Vault, price: Cents): number {
  if (v.debtCents === 0) {
    return r.chance(0.08)
      ? v.collateralSats
      : Math.max(1_000, Math.floor(v.collateralSats * (0.2 + r.next() * 0.7)));
  }
  const ratio = r.chance(0.5) ? r.int(14_800, 16_000) : r.int(14_000, 25_000);
  // change ≥ debt × ratio / price (in sats)
  const keepSats = Math.ceil((v.debtCents * ratio * 10_000) / price);
  return Math.max(1_000, v.collateralSats - keepSats);
}
