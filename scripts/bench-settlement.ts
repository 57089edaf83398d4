/**
 * Benchmark of an auction settlement (SPEC §8.3): building and co-signing the settlement of a
 * vault with 10 coins to 20 takers (20 payout addresses, then the rest to a return address), on
 * a real regtest bitcoind and a real funded vault address.
 *
 *   bench settlement inputs=10 takers=20 build_cosign_ms_p50=… build_cosign_ms_p99=… naive_ms_p50=… naive_ms_p99=…
 *
 * - build_cosign: from coins already in memory (their previous transactions fetched once),
 *   planSettlement + buildPsbt + the protocol co-signer's checks and signatures
 *   (ProtocolSigner.approveAndSign).
 * - naive: the same, but rebuilding the source from the node every time, as the spend service
 *   does: every coin's previous transaction (gettransaction on the watch wallet, one call per
 *   coin in turn) and the fee rate (estimatesmartfee) over RPC, then plan + build + co-sign.
 *
 * Both run in the same loop after a warm-up, the naive path on every third iteration (200 and
 * 67 samples by default; the loop stops early past 40 s, so a slow machine still finishes).
 * Once, outside the timing, the co-signed PSBT is signed by the owner key too, finalized and
 * checked with testmempoolaccept, so what is measured is a settlement the node would take.
 * Run: npx tsx scripts/bench-settlement.ts
 */
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { vaultDescriptor, vaultScript, type VaultKeys } from '../core/bitcoin/descriptor';
import { network } from '../core/config/networks';
import { accountOf, rootOf } from '../core/keys/software-key';
import type { Cents, Sats } from '../core/money';
import { CoreNode, REGTEST_FEE_RATE_SAT_PER_KVB } from '../core/node/bitcoin-node';
import { RegtestNode } from '../core/node/regtest';
import { num, toSats } from '../core/node/rpc';
import {
  buildPsbt,
  finalizePsbt,
  MIN_RELAY_SAT_PER_KVB,
  planSettlement,
  type Payment,
  type SpendSource,
  type VaultCoin,
} from '../core/psbt/build';
import { ProtocolSigner, type SpendFacts } from '../core/signers/protocol';
import { SoftwareSigner } from '../core/signers/software';
import type { SignContext, SignerRole } from '../core/signers/types';
import { pct } from './bench/percentile';

const net = network('regtest');
const params = net.defaults;

/** A fixed bench seed per role (regtest only, never for real money). */
const seedOf = (role: SignerRole) =>
  Uint8Array.from(createHash('sha256').update(`bitstable-bench-settlement-${role}`).digest());

export interface SettlementBenchResult {
  inputs: number;
  takers: number;
  buildCosignP50: number;
  buildCosignP99: number;
  naiveP50: number;
  naiveP99: number;
  line: string;
}

export interface SettlementBenchOptions {
  inputs?: number;
  takers?: number;
  /** Timed iterations of the fast path. */
  iterations?: number;
  /** The naive path runs on every n-th of them (it is the slower one). */
  naiveEvery?: number;
  /** Untimed iterations of both paths first. */
  warmup?: number;
  /** Stops the timed loop early past this, once each path has 30 samples. */
  budgetMs?: number;
  /** Print the line (default true). */
  print?: boolean;
}

/** Runs the settlement bench on a fresh regtest node and prints (and returns) its one line. */
export async function main(options: SettlementBenchOptions = {}): Promise<SettlementBenchResult> {
  const inputs = options.inputs ?? 10;
  const takers = options.takers ?? 20;
  const iterations = options.iterations ?? 200;
  const naiveEvery = options.naiveEvery ?? 3;
  const warmup = options.warmup ?? 10;
  const budgetMs = options.budgetMs ?? 40_000;
  const regtest = await RegtestNode.start();
  try {
    const seeds = {
      owner: seedOf('owner'),
      protocol: seedOf('protocol'),
      guardian: seedOf('guardian'),
    };
    const keys: VaultKeys = {
      owner: accountOf(rootOf({ seed: seeds.owner }, net), net),
      protocol: accountOf(rootOf({ seed: seeds.protocol }, net), net),
      guardian: accountOf(rootOf({ seed: seeds.guardian }, net), net),
    };
    const signer = (role: SignerRole) =>
      new SoftwareSigner({ role, network: net, secret: { seed: seeds[role] } });
    const protocol = new ProtocolSigner(signer('protocol'), net);
    const script = vaultScript(keys, 0, net);

    // The watch-only wallet the app uses, watching this vault, for gettransaction.
    const chain = new CoreNode(regtest.rpc);
    await chain.ensureWatchWallet();
    await chain.importDescriptors([{ desc: vaultDescriptor(keys, 0), timestamp: 'now' }]);

    // One deposit per coin (10 by default), confirmed.
    const txids: string[] = [];
    for (let i = 0; i < inputs; i++) {
      txids.push(await regtest.miner.send(script.address, (10_000_000 + i * 1_000) as Sats));
    }
    await regtest.miner.mine(1);
    const coins: VaultCoin[] = [];
    for (const txid of txids) {
      const tx = await regtest.rpc.call<{
        hex: string;
        vout: { n: number; value: unknown; scriptPubKey: { address?: string } }[];
      }>('getrawtransaction', [txid, true]);
      const out = tx.vout.find((o) => o.scriptPubKey.address === script.address)!;
      coins.push({ txid, vout: num(out.n), amountSats: toSats(out.value), prevTxHex: tx.hex });
    }

    const payouts: Payment[] = [];
    for (let i = 0; i < takers; i++) {
      payouts.push({ address: await regtest.miner.newAddress(), amountSats: 50_000 as Sats });
    }
    const restAddress = await regtest.miner.newAddress();

    /**
     * The node's fee rate over RPC, as CoreNode asks for it off regtest; regtest has no estimate
     * (no fee history), so then the rate the app uses on regtest.
     */
    const nodeFeeRate = async () => {
      const r = await regtest.rpc.call<{ feerate?: unknown }>('estimatesmartfee', [6]);
      return r.feerate === undefined
        ? REGTEST_FEE_RATE_SAT_PER_KVB
        : Math.max(MIN_RELAY_SAT_PER_KVB, toSats(r.feerate));
    };
    const feeRate = await nodeFeeRate();

    const source: SpendSource = { vaultId: 1, script, coins, net, feeRateSatPerKvB: feeRate };
    const facts: SpendFacts = {
      vaultState: 'liquidating',
      vaultAddress: script.address,
      vaultOutputScript: script.outputScript,
      coins: coins.map(({ txid, vout, amountSats }) => ({ txid, vout, amountSats })),
      debtCents: 0 as Cents,
      freshPriceCents: null,
      params,
      nodeFeeRateSatPerKvB: feeRate,
      network: net,
      settlementPayouts: payouts,
      settlementRestAddress: restAddress,
    };
    const context: SignContext = { keys, purpose: 'Settle the auction of vault 1' };

    const buildCosign = (from: SpendSource, f: SpendFacts) => {
      const plan = planSettlement(from, payouts, restAddress);
      const psbt = buildPsbt(plan, from);
      return protocol.approveAndSign(psbt.toBase64(), plan, f, context);
    };
    const naiveBuildCosign = async () => {
      const fresh: VaultCoin[] = [];
      for (const c of coins) {
        fresh.push({ ...c, prevTxHex: await chain.transactionHex(c.txid) });
      }
      const rate = await nodeFeeRate();
      return buildCosign(
        { vaultId: 1, script, coins: fresh, net, feeRateSatPerKvB: rate },
        { ...facts, nodeFeeRateSatPerKvB: rate },
      );
    };

    const fast: number[] = [];
    const naive: number[] = [];
    let signed = '';
    let started = performance.now();
    for (let i = -warmup; i < iterations; i++) {
      if (i === 0) started = performance.now();
      let t = performance.now();
      signed = await buildCosign(source, facts);
      if (i >= 0) fast.push(performance.now() - t);
      if (i % naiveEvery === 0) {
        t = performance.now();
        await naiveBuildCosign();
        if (i >= 0) naive.push(performance.now() - t);
      }
      if (performance.now() - started > budgetMs && fast.length >= 30 && naive.length >= 30) break;
    }

    // What was timed is a settlement the node accepts: owner signs too, finalized, tested.
    const both = await signer('owner').signPsbt(signed, context);
    const { txHex } = finalizePsbt([both], net);
    await chain.testMempoolAccept(txHex);

    const f = (x: number) => x.toFixed(2);
    const result = {
      inputs,
      takers,
      buildCosignP50: pct(fast, 0.5),
      buildCosignP99: pct(fast, 0.99),
      naiveP50: pct(naive, 0.5),
      naiveP99: pct(naive, 0.99),
    };
    const line =
      `bench settlement inputs=${inputs} takers=${takers} build_cosign_ms_p50=${f(result.buildCosignP50)} ` +
      `build_cosign_ms_p99=${f(result.buildCosignP99)} naive_ms_p50=${f(result.naiveP50)} naive_ms_p99=${f(result.naiveP99)}`;
    if (options.print !== false) console.log(line);
    return { ...result, line };
  } finally {
    await regtest.stop();
    rmSync(regtest.dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
