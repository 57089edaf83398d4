/**
 * The core reaches the chain only through `BitcoinNode`. `CoreNode` implements it over
 * Bitcoin Core's RPC with a watch-only descriptor wallet (SPEC §3); Core tracks reorgs and the
 * mempool, so what it reports is the truth for collateral.
 */
import { BitStableError } from '../errors';
import type { Sats } from '../money';
import { isRpcError, num, RPC, RpcClient, toSats, btcParam } from './rpc';

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
  label?: string;
  /** 'now' for a fresh address (no rescan); a unix time to rescan from. */
  timestamp: 'now' | number;
}

/** What the vault core needs from a Bitcoin node. */
export interface BitcoinNode {
  /** Chain tip and sync state. */
  chainInfo(): Promise<ChainInfo>;
  /** Creates or loads the watch-only descriptor wallet; idempotent. */
  ensureWatchWallet(): Promise<void>;
  /** Imports descriptors into the watch-only wallet; idempotent; throws if any is refused. */
  importDescriptors(imports: DescriptorImport[]): Promise<void>;
  /**
   * Every unspent output the watch-only wallet sees, confirmed or not. Reorgs are already
   * applied: an output whose block was disconnected reports its new confirmation count.
   */
  listWatchedUtxos(): Promise<WatchedUtxo[]>;
}

interface RawUnspent {
  txid: string;
  vout: number;
  address?: string;
  amount: unknown;
  confirmations: number;
}

/** A `BitcoinNode` backed by Bitcoin Core's JSON-RPC and a watch-only descriptor wallet. */
export class CoreNode implements BitcoinNode {
  constructor(
    readonly rpc: RpcClient,
    readonly walletName = 'bitstable-watch',
  ) {}

  async chainInfo(): Promise<ChainInfo> {
    const r = await this.rpc.call<Record<string, unknown>>('getblockchaininfo');
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

  async importDescriptors(imports: DescriptorImport[]): Promise<void> {
    if (imports.length === 0) return;
    const request = imports.map((i) => ({
      desc: i.desc,
      timestamp: i.timestamp,
      label: i.label ?? '',
    }));
    const results = await this.rpc.call<{ success: boolean; error?: { message: string } }[]>(
      'importdescriptors',
      [request],
      { wallet: this.walletName, timeoutMs: 600_000 },
    );
    const failed = results.findIndex((r) => !r.success);
    if (failed >= 0) {
      throw new BitStableError(
        'NODE_WALLET_ERROR',
        `The node refused to watch a vault descriptor: ${results[failed]!.error?.message ?? 'no reason given'}.`,
        { descriptor: imports[failed]!.desc },
      );
    }
  }

  async listWatchedUtxos(): Promise<WatchedUtxo[]> {
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
    return this.rpc.call<string[]>('generatetoaddress', [count, to], { timeoutMs: 300_000 });
  }

  /** Sends `amount` from the miner wallet to `address`; returns the txid. */
  async send(address: string, amount: Sats): Promise<string> {
    try {
      return await this.rpc.call<string>('sendtoaddress', [address, btcParam(amount)], {
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
  }

  /** The miner wallet's spendable balance. */
  async balance(): Promise<Sats> {
    return toSats(await this.rpc.call('getbalance', [], { wallet: this.walletName }));
  }
}
