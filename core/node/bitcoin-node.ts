/**
 * The core reaches the chain only through `BitcoinNode`. `CoreNode` implements it over
 * Bitcoin Core's RPC with a watch-only descriptor wallet (SPEC §3); Core tracks reorgs and the
 * mempool, so what it reports is the truth for collateral.
 */
import { BitStableError } from '../errors';
import type { Sats } from '../money';
import { isRpcError, num, RPC, RpcClient, toSats, btcParam, type RpcCaller } from './rpc';

export interface ChainInfo {
  chain: string;
  blocks: number;
  bestBlockHash: string;
  initialBlockDownload: boolean;
  verificationProgress: number;
}

/** An unspent output at one of the watched addresses. */
export interface WatchedUtxo {
  txid: string;
  vout: number;
  address: string;
  amountSats: Sats;
  /** 0 while in the mempool. After a reorg that removes its block it is 0 again (or gone). */
  confirmations: number;
}

export interface DescriptorImport {
  desc: string;
  /** A label for a single-address descriptor (Core allows none on a ranged one). */
  label?: string;
  /** For a ranged descriptor: the first and last index to watch. */
  range?: [number, number];
  /** 'now' for a fresh address (no rescan); a unix time to rescan from. */
  timestamp: 'now' | number;
}

/** Core's refusal of a re-import whose range does not cover the one it watches. */
const CURRENT_RANGE = /new range must include current range = \[(\d+),\s*(\d+)\]/;

/** What the vault core needs from a Bitcoin node. */
export interface BitcoinNode {
  /** Chain tip and sync state; `timeoutMs` bounds the wait for a stalled node. */
  chainInfo(timeoutMs?: number): Promise<ChainInfo>;
  /** Creates or loads the watch-only descriptor wallet; idempotent. */
  ensureWatchWallet(): Promise<void>;
  /** Imports descriptors into the watch-only wallet; idempotent; throws if any is refused. */
  importDescriptors(imports: DescriptorImport[]): Promise<void>;
  /**
   * Every unspent output the watch-only wallet sees, confirmed or not. Reorgs are already
   * applied: an output whose block was disconnected reports its new confirmation count.
   */
  listWatchedUtxos(): Promise<WatchedUtxo[]>;
  /** The raw hex of a transaction that pays or spends a watched address (for PSBTs' full previous tx). */
  transactionHex(txid: string): Promise<string>;
  /** Confirmations of a wallet transaction: 0 in the mempool, -1 conflicted or unknown. */
  confirmations(txid: string): Promise<number>;
  /** Fee rate for the next blocks in sat per 1000 vbytes (regtest: a fixed fallback). */
  feeRateSatPerKvB(targetBlocks?: number): Promise<number>;
  /** Checks a signed transaction against the mempool's rules; throws PSBT_INVALID with the reason. */
  testMempoolAccept(txHex: string): Promise<void>;
  /** Broadcasts; idempotent for a transaction the node already has. Returns the txid. */
  broadcast(txHex: string): Promise<string>;
  /** True when the transaction is in the node's mempool. */
  inMempool(txid: string): Promise<boolean>;
  /** Tells the wallet to forget an unconfirmed transaction that is not in the mempool, freeing its inputs. */
  abandon(txid: string): Promise<void>;
}

interface RawUnspent {
  txid: string;
  vout: number;
  address?: string;
  amount: unknown;
  confirmations: number;
}

/** How long an import waits for another client's import or rescan of the same wallet. */
const RESCAN_WAIT_MS = 120_000;
const RESCANNING = /currently rescanning/i;

/** Regtest has no fee market; Core's estimatesmartfee returns nothing there. */
export const REGTEST_FEE_RATE_SAT_PER_KVB = 2_000;
/** Floor: Core's default minimum relay fee. */
const MIN_RELAY_SAT_PER_KVB = 1_000;

/** A `BitcoinNode` backed by Bitcoin Core's JSON-RPC and a watch-only descriptor wallet. */
export class CoreNode implements BitcoinNode {
  constructor(
    readonly rpc: RpcCaller,
    readonly walletName = 'bitstable-watch',
    private readonly fallbackFeeRate: number | null = null,
  ) {}

  private imports: Promise<unknown> = Promise.resolve();

  async chainInfo(timeoutMs?: number): Promise<ChainInfo> {
    const r = await this.rpc.call<Record<string, unknown>>(
      'getblockchaininfo',
      [],
      timeoutMs ? { timeoutMs } : {},
    );
    return {
      chain: String(r.chain),
      blocks: num(r.blocks),
      bestBlockHash: String(r.bestblockhash),
      initialBlockDownload: Boolean(r.initialblockdownload),
      verificationProgress: num(r.verificationprogress),
    };
  }

  async ensureWatchWallet(): Promise<void> {
    const loaded = await this.rpc.call<string[]>('listwallets');
    if (loaded.includes(this.walletName)) return;
    try {
      await this.rpc.call('loadwallet', [this.walletName]);
      return;
    } catch (err) {
      if (isRpcError(err, RPC.WALLET_ALREADY_LOADED)) return;
      // Not found on disk: create it below. Anything else is a real failure.
      if (!isRpcError(err, RPC.WALLET_NOT_FOUND) && !isRpcError(err, RPC.WALLET_ERROR)) throw err;
    }
    try {
      // createwallet name disable_private_keys blank passphrase avoid_reuse descriptors load_on_startup
      await this.rpc.call('createwallet', [this.walletName, true, true, '', false, true, true]);
    } catch (err) {
      throw new BitStableError(
        'NODE_WALLET_ERROR',
        `The node could not create the watch-only wallet "${this.walletName}". Bitcoin Core 0.21 or later with descriptor wallets is required.`,
        { wallet: this.walletName },
        { cause: err },
      );
    }
  }

  /**
   * Core runs one import (or rescan) per wallet at a time and refuses the next while one runs
   * ("Wallet is currently rescanning"), even a fresh one that rescans nothing: a range grown in
   * the background and a vault of another key set would race. So imports here go one by one.
   */
  importDescriptors(imports: DescriptorImport[]): Promise<void> {
    const run = () => this.importOnce(imports, false);
    const result = this.imports.then(run, run);
    this.imports = result.catch(() => undefined);
    return result;
  }

  /**
   * Runs `call` again while another client's import or rescan holds the wallet (another instance
   * on the same node, or someone at the node's console): Core refuses at once rather than
   * queueing, with code -4 and "currently rescanning". Waits up to RESCAN_WAIT_MS, then throws.
   */
  private async whileRescanning<T>(call: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + RESCAN_WAIT_MS;
    for (;;) {
      try {
        return await call();
      } catch (err) {
        const busy =
          isRpcError(err, RPC.WALLET_ERROR) && err instanceof Error && RESCANNING.test(err.message);
        if (!busy || Date.now() >= deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }

  private async importOnce(imports: DescriptorImport[], retried: boolean): Promise<void> {
    if (imports.length === 0) return;
    // Core refuses a label on a ranged descriptor, even an empty one.
    const request = imports.map((i) => ({
      desc: i.desc,
      timestamp: i.timestamp,
      ...(i.range ? { range: i.range } : { label: i.label ?? '' }),
    }));
    const results = await this.whileRescanning(() =>
      this.rpc.call<{ success: boolean; error?: { message: string } }[]>(
        'importdescriptors',
        [request],
        { wallet: this.walletName, timeoutMs: 600_000 },
      ),
    );
    const retry: DescriptorImport[] = [];
    for (const [n, r] of results.entries()) {
      if (r.success) continue;
      const asked = imports[n]!;
      // Core watches a ranged descriptor ahead by its own keypool size (1,000 by default, or
      // -keypool) and refuses a re-import whose range is smaller than what it already watches:
      // asking for the union is asking for the same or more.
      const current = CURRENT_RANGE.exec(r.error?.message ?? '');
      if (asked.range && current && !retried) {
        retry.push({
          ...asked,
          range: [
            Math.min(asked.range[0], Number(current[1])),
            Math.max(asked.range[1], Number(current[2])),
          ],
        });
        continue;
      }
      throw new BitStableError(
        'NODE_WALLET_ERROR',
        `The node refused to watch a vault descriptor: ${r.error?.message ?? 'no reason given'}.`,
        { descriptor: asked.desc },
      );
    }
    if (retry.length > 0) await this.importOnce(retry, true);
  }

  /**
   * Waits until the wallet has processed the chain tip. Core applies connected and disconnected
   * blocks to wallets asynchronously, so right after a block or a reorg `listunspent` can still
   * describe the previous tip.
   */
  async waitForWalletTip(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const tip = await this.rpc.call<string>('getbestblockhash');
      const info = await this.rpc.call<{ lastprocessedblock?: { hash: string } }>(
        'getwalletinfo',
        [],
        {
          wallet: this.walletName,
        },
      );
      // Nodes older than Core 23 do not report it; nothing to wait for then.
      if (!info.lastprocessedblock || info.lastprocessedblock.hash === tip) return;
      if (Date.now() > deadline) {
        throw new BitStableError(
          'NODE_TIMEOUT',
          "The node's wallet is still catching up with the chain. Try again shortly.",
          {},
        );
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async listWatchedUtxos(): Promise<WatchedUtxo[]> {
    await this.waitForWalletTip();
    // minconf 0 so deposits in the mempool show as incoming; include_unsafe so they appear at all.
    const raw = await this.rpc.call<RawUnspent[]>('listunspent', [0, 9_999_999, [], true], {
      wallet: this.walletName,
    });
    return raw
      .filter((u) => typeof u.address === 'string')
      .map((u) => ({
        txid: u.txid,
        vout: u.vout,
        address: u.address!,
        amountSats: toSats(u.amount),
        confirmations: u.confirmations,
      }));
  }

  async transactionHex(txid: string): Promise<string> {
    try {
      const tx = await this.rpc.call<{ hex: string }>('gettransaction', [txid, true], {
        wallet: this.walletName,
      });
      return tx.hex;
    } catch (err) {
      // Just taken into the mempool, not yet seen by the wallet: the mempool has it.
      if (!isRpcError(err, RPC.INVALID_ADDRESS_OR_KEY)) throw err;
      return this.rpc.call<string>('getrawtransaction', [txid, false]);
    }
  }

  async confirmations(txid: string): Promise<number> {
    try {
      const tx = await this.rpc.call<{ confirmations: number }>('gettransaction', [txid, true], {
        wallet: this.walletName,
      });
      return tx.confirmations < 0 ? -1 : tx.confirmations;
    } catch (err) {
      if (isRpcError(err, RPC.INVALID_ADDRESS_OR_KEY)) return -1;
      throw err;
    }
  }

  async feeRateSatPerKvB(targetBlocks = 6): Promise<number> {
    if (this.fallbackFeeRate !== null) return this.fallbackFeeRate;
    const r = await this.rpc.call<{ feerate?: unknown; errors?: string[] }>('estimatesmartfee', [
      targetBlocks,
    ]);
    if (r.feerate === undefined) {
      throw new BitStableError(
        'NODE_RPC_ERROR',
        'The node cannot estimate a fee yet (it has seen too few blocks). Try again after it syncs.',
        { method: 'estimatesmartfee', errors: r.errors ?? [] },
      );
    }
    return Math.max(MIN_RELAY_SAT_PER_KVB, toSats(r.feerate));
  }

  async testMempoolAccept(txHex: string): Promise<void> {
    const [r] = await this.rpc.call<{ allowed: boolean; 'reject-reason'?: string }[]>(
      'testmempoolaccept',
      [[txHex]],
    );
    if (!r?.allowed) {
      throw new BitStableError(
        'PSBT_INVALID',
        `The node would not accept this transaction: ${r?.['reject-reason'] ?? 'no reason given'}.`,
        { reason: r?.['reject-reason'] },
      );
    }
  }

  async inMempool(txid: string): Promise<boolean> {
    try {
      await this.rpc.call('getmempoolentry', [txid]);
      return true;
    } catch (err) {
      if (isRpcError(err, RPC.INVALID_ADDRESS_OR_KEY)) return false;
      throw err;
    }
  }

  async abandon(txid: string): Promise<void> {
    try {
      await this.rpc.call('abandontransaction', [txid], { wallet: this.walletName });
    } catch (err) {
      // Already confirmed, in the mempool again, or unknown: nothing to release.
      if (!isRpcError(err, RPC.INVALID_ADDRESS_OR_KEY) && !isRpcError(err, RPC.INVALID_PARAMETER))
        throw err;
    }
  }

  async broadcast(txHex: string): Promise<string> {
    try {
      return await this.rpc.call<string>('sendrawtransaction', [txHex]);
    } catch (err) {
      // Already in a block: broadcasting again is not an error (crash recovery rebroadcasts).
      if (isRpcError(err, RPC.VERIFY_ALREADY_IN_CHAIN)) {
        return this.rpc.call<{ txid: string }>('decoderawtransaction', [txHex]).then((d) => d.txid);
      }
      // -26: rejected by policy or consensus; -25: its inputs are missing or already spent.
      if (isRpcError(err, RPC.VERIFY_REJECTED) || isRpcError(err, RPC.VERIFY_ERROR)) {
        throw new BitStableError(
          'PSBT_INVALID',
          `The node rejected the transaction: ${(err as BitStableError).data.nodeMessage}.`,
          {},
        );
      }
      throw err;
    }
  }
}

/** Miner-wallet conveniences on regtest: fund addresses and mine blocks. */
export class MinerWallet {
  constructor(
    readonly rpc: RpcClient,
    readonly walletName = 'miner',
  ) {}

  /** Creates (or loads) the miner wallet. */
  async ensure(): Promise<void> {
    const loaded = await this.rpc.call<string[]>('listwallets');
    if (loaded.includes(this.walletName)) return;
    try {
      await this.rpc.call('loadwallet', [this.walletName]);
    } catch {
      await this.rpc.call('createwallet', [this.walletName]);
    }
  }

  /** A fresh address of the miner wallet. */
  newAddress(): Promise<string> {
    return this.rpc.call<string>('getnewaddress', [], { wallet: this.walletName });
  }

  /** Mines `count` blocks to `address` (default: the miner's own); returns the block hashes. */
  async mine(count: number, address?: string): Promise<string[]> {
    if (!Number.isSafeInteger(count) || count < 1 || count > 10_000) {
      throw new BitStableError(
        'INVALID_ARGUMENT',
        `Mine between 1 and 10,000 blocks at a time; got ${count}.`,
        {
          count,
        },
      );
    }
    const to = address ?? (await this.newAddress());
    const hashes = await this.rpc.call<string[]>('generatetoaddress', [count, to], {
      timeoutMs: 300_000,
    });
    await this.settle();
    return hashes;
  }

  /** Sends `amount` from the miner wallet to `address`; returns the txid. */
  async send(address: string, amount: Sats): Promise<string> {
    let txid: string;
    try {
      txid = await this.rpc.call<string>('sendtoaddress', [address, btcParam(amount)], {
        wallet: this.walletName,
      });
    } catch (err) {
      if (isRpcError(err, RPC.INVALID_ADDRESS_OR_KEY)) {
        throw new BitStableError('INVALID_ADDRESS', `"${address}" is not a regtest address.`, {
          address,
        });
      }
      if (isRpcError(err, RPC.WALLET_INSUFFICIENT_FUNDS)) {
        throw new BitStableError(
          'INSUFFICIENT_FUNDS',
          'The regtest miner wallet has too little; mine more blocks.',
          {},
        );
      }
      throw err;
    }
    await this.checkInMempool(txid);
    // The other wallets (the vaults' watch-only one) hear of a mempool payment through Core's
    // notification queue, after this call returns; a deposit read at once would be missed.
    await this.settle();
    return txid;
  }

  /**
   * Core's wallet returns the txid of a transaction its own mempool refused (it keeps it to
   * rebroadcast later), so a faucet payment could silently never confirm. Asks the mempool, and
   * on a refusal says why (testmempoolaccept of the wallet's copy).
   */
  private async checkInMempool(txid: string): Promise<void> {
    try {
      await this.rpc.call('getmempoolentry', [txid]);
      return;
    } catch (err) {
      if (!isRpcError(err, RPC.INVALID_ADDRESS_OR_KEY)) throw err;
    }
    const { hex, confirmations } = await this.rpc.call<{ hex: string; confirmations: number }>(
      'gettransaction',
      [txid],
      { wallet: this.walletName },
    );
    if (confirmations > 0) return; // mined already (someone else mined in between)
    const [verdict] = await this.rpc.call<{ allowed: boolean; 'reject-reason'?: string }[]>(
      'testmempoolaccept',
      [[hex]],
    );
    throw new BitStableError(
      'NODE_RPC_ERROR',
      `The regtest node did not take the miner's payment into its mempool: ${verdict?.['reject-reason'] ?? 'no reason given'}.`,
      { txid },
    );
  }

  /**
   * Lets every wallet see what just happened before returning (regtest only: Core's
   * test-only RPC flushes the queue of block and mempool notifications).
   */
  async settle(): Promise<void> {
    await this.rpc.call('syncwithvalidationinterfacequeue');
  }

  /** The miner wallet's spendable balance. */
  async balance(): Promise<Sats> {
    return toSats(await this.rpc.call('getbalance', [], { wallet: this.walletName }));
  }
}
