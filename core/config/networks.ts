/**
 * Networks and their per-network vault parameters (SPEC §3, §6, §8).
 */
import { networks as bjsNetworks, type Network as BjsNetwork } from 'bitcoinjs-lib';
import { BitStableError } from '../errors';
import type { Bps, Cents, Sats } from '../money';

export const NETWORKS = ['regtest', 'signet', 'testnet', 'mainnet'] as const;
export type NetworkName = (typeof NETWORKS)[number];

/** Vault rules that are settings per network. */
export interface VaultParams {
  /** Confirmations before a deposit counts as collateral. */
  confirmations: number;
  /** Ratio under which a vault is liquidated (150 %). */
  liquidationRatioBps: Bps;
  /** Ratio under which a vault is in Warning (160 %). */
  warningRatioBps: Bps;
  /** Penalty added to the debt to form the auction tab (13 %). */
  penaltyBps: Bps;
  /** Smallest debt a vault may carry, in cents (50 bsUSD). */
  debtFloorCents: Cents;
  /** How long a Dutch auction takes to fall to its floor. */
  auctionDurationSeconds: number;
  /** An auction's starting price as a share of the oracle price (110 %). */
  auctionStartBps: Bps;
  /** The floor as a share of the starting price, where the auction resets (50 %). */
  auctionFloorBps: Bps;
  /** The smallest lot a take may leave behind (Maker's chost, for collateral): else it takes all. */
  auctionMinLotSats: Sats;
}

export interface NetworkInfo {
  name: NetworkName;
  /** BIP44/48 coin type: 0 on mainnet, 1 elsewhere. */
  coinType: 0 | 1;
  /** bitcoinjs-lib network constants for address encoding and key versions. */
  bitcoinjs: BjsNetwork;
  /** Bitcoin Core's chain name as `getblockchaininfo` reports it. */
  coreChain: 'regtest' | 'signet' | 'test' | 'main';
  defaults: VaultParams;
}

const common = {
  liquidationRatioBps: 15_000 as Bps,
  warningRatioBps: 16_000 as Bps,
  penaltyBps: 1_300 as Bps,
  debtFloorCents: 5_000 as Cents,
  auctionStartBps: 11_000 as Bps,
  auctionFloorBps: 5_000 as Bps,
  auctionMinLotSats: 10_000 as Sats,
};

const info: Record<NetworkName, NetworkInfo> = {
  regtest: {
    name: 'regtest',
    coinType: 1,
    bitcoinjs: bjsNetworks.regtest,
    coreChain: 'regtest',
    defaults: { ...common, confirmations: 1, auctionDurationSeconds: 120 },
  },
  signet: {
    name: 'signet',
    coinType: 1,
    // Signet shares testnet's address prefix (tb1) and key versions (tpub).
    bitcoinjs: bjsNetworks.testnet,
    coreChain: 'signet',
    defaults: { ...common, confirmations: 1, auctionDurationSeconds: 1800 },
  },
  testnet: {
    name: 'testnet',
    coinType: 1,
    bitcoinjs: bjsNetworks.testnet,
    coreChain: 'test',
    defaults: { ...common, confirmations: 1, auctionDurationSeconds: 1800 },
  },
  mainnet: {
    name: 'mainnet',
    coinType: 0,
    bitcoinjs: bjsNetworks.bitcoin,
    coreChain: 'main',
    defaults: { ...common, confirmations: 3, auctionDurationSeconds: 1800 },
  },
};

/** Looks up a network by name; an unknown name is a typed error. */
export function network(name: unknown): NetworkInfo {
  if (typeof name !== 'string' || !(NETWORKS as readonly string[]).includes(name)) {
    throw new BitStableError(
      'INVALID_ARGUMENT',
      `"${String(name)}" is not a network BitStable knows. Use one of: ${NETWORKS.join(', ')}.`,
      { network: String(name) },
    );
  }
  return info[name as NetworkName];
}
