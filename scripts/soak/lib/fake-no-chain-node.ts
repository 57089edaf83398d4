/**
 * A stand-in `BitcoinNode` for the oracle soak only. The oracle soak exercises the price path
 * (oracle → health pass → auctions) and never touches the chain, so a fake that serves a fixed
 * list of vault coins is enough; every chain operation throws. Soaks that test chain behaviour
 * (kill, reorg, node) use a real bitcoind.
 */
import type { BitcoinNode, ChainInfo, WatchedUtxo } from '../../../core/node/bitcoin-node';

const noChain = (what: string) =>
  Promise.reject(new Error(`FakeNoChainNode: the oracle soak has no chain (${what}).`));

/** Serves `utxos` to the vault service; refuses everything else. */
export class FakeNoChainNode implements BitcoinNode {
  utxos: WatchedUtxo[] = [];

  chainInfo(): Promise<ChainInfo> {
    return noChain('chainInfo');
  }
  async ensureWatchWallet(): Promise<void> {}
  async importDescriptors(): Promise<void> {}
  async listWatchedUtxos(): Promise<WatchedUtxo[]> {
    return this.utxos.map((u) => ({ ...u }));
  }
  transactionHex(): Promise<string> {
    return noChain('transactionHex');
  }
  confirmations(): Promise<number> {
    return noChain('confirmations');
  }
  feeRateSatPerKvB(): Promise<number> {
    return noChain('feeRateSatPerKvB');
  }
  testMempoolAccept(): Promise<void> {
    return noChain('testMempoolAccept');
  }
  inMempool(): Promise<boolean> {
    return noChain('inMempool');
  }
  abandon(): Promise<void> {
    return noChain('abandon');
  }
  broadcast(): Promise<string> {
    return noChain('broadcast');
  }
}
