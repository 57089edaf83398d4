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
  /** The stability fee, a year, accrued continuously to every vault's debt (2 %; SPEC §8.5). */
  stabilityFeeBps: Bps;
  /** The most bsUSD all vaults together may owe (SPEC §8.5). */
  debtCeilingCents: Cents;
  /** The most bsUSD one vault may owe; at most 9,000,000,000 cents (its normalized debt stays exact). */
  vaultDebtCeilingCents: Cents;
  /** A mint that would leave the system's total collateral ratio under this is refused (150 %). */
  systemRatioFloorBps: Bps;
  /** The fee on a redemption, on what is redeemed, to surplus (0.5 %). */
  redemptionFeeBps: Bps;
}

/** The largest per-vault debt ceiling: a vault's normalized debt (10^6 per cent) stays under 2^53. */
export const MAX_VAULT_DEBT_CEILING_CENTS = 9_000_000_000;

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
  stabilityFeeBps: 200 as Bps,
  // 100 million bsUSD in all, 2 million per vault: a young protocol grows its ceilings with use.
  debtCeilingCents: 10_000_000_000 as Cents,
  vaultDebtCeilingCents: 200_000_000 as Cents,
  systemRatioFloorBps: 15_000 as Bps,
  redemptionFeeBps: 50 as Bps,
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

/**
 * INVALID_CONFIG unless the peg's settings make sense: a fee of 0–100 % a year, ceilings of
 * whole cents (a vault's at most MAX_VAULT_DEBT_CEILING_CENTS), a system floor of at least 100 %.
 */
export function checkPegParams(p: VaultParams): void {
  const whole = (v: number, lo: number, hi: number) =>
    Number.isSafeInteger(v) && v >= lo && v <= hi;
  const bad = (name: string, rule: string, value: number) =>
    new BitStableError('INVALID_CONFIG', `${name} must be ${rule}; got ${String(value)}.`, {
      [name]: value,
    });
  if (!whole(p.stabilityFeeBps, 0, 10_000))
    throw bad(
      'stabilityFeeBps',
      'a whole number of basis points from 0 to 10,000',
      p.stabilityFeeBps,
    );
  if (!whole(p.vaultDebtCeilingCents, 1, MAX_VAULT_DEBT_CEILING_CENTS))
    throw bad(
      'vaultDebtCeilingCents',
      `whole cents from 1 to ${MAX_VAULT_DEBT_CEILING_CENTS}`,
      p.vaultDebtCeilingCents,
    );
  // The system's normalized debt is summed in SQLite's 64-bit integers: 9·10^12 cents (90
  // billion bsUSD) of debt at 10^6 units per cent stays under 2^63.
  if (!whole(p.debtCeilingCents, 1, 9_000_000_000_000))
    throw bad('debtCeilingCents', 'whole cents from 1 to 9,000,000,000,000', p.debtCeilingCents);
  if (!whole(p.redemptionFeeBps, 0, 5_000))
    throw bad(
      'redemptionFeeBps',
      'a whole number of basis points from 0 to 5,000',
      p.redemptionFeeBps,
    );
  if (!whole(p.systemRatioFloorBps, 10_000, 1_000_000))
    throw bad('systemRatioFloorBps', 'at least 10,000 (100 %)', p.systemRatioFloorBps);
}
