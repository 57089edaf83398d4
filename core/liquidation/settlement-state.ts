/**
 * What a settlement's confirmation (or its undoing by a reorg) changes on the auction side —
 * called by the spend store inside the transaction that moves the settlement spend.
 */
import { payments } from 'bitcoinjs-lib';
import type { NetworkInfo } from '../config/networks';
import type { ParsedKey } from '../bitcoin/keys';
import type { Store } from '../store/ports';

/** The vault's settling auction becomes settled and the vault Liquidated; returns the auction id. */
export function markLiquidationSettled(store: Store, vaultId: number, ts: number): number | null {
  const id = store.auctions.settlingIdOf(vaultId);
  if (id === undefined) return null;
  store.auctions.markSettled(id);
  store.auctions.markVaultLiquidated(vaultId, ts);
  store.ops.journal('vault.liquidated', vaultId, { auctionId: id }, ts);
  return id;
}

/**
 * The vault's coins left by another way than the settlement (an emergency exit the owner and the
 * guardian signed before the liquidation, from a database older than the rule that exits need no
 * debt): its open auction ends with the debt booked as deficit. Takes are refused while an exit
 * holds the coins, so nobody paid for them. Returns the auction id.
 */
export function endLiquidationWithoutCoins(
  store: Store,
  vaultId: number,
  deficitCents: number,
  ts: number,
): number | null {
  const id = store.auctions.unsettledIdOf(vaultId);
  if (id === undefined) return null;
  store.auctions.endWithoutCoins(id, ts, deficitCents);
  store.ops.journal('auction.ended-without-coins', vaultId, { auctionId: id, deficitCents }, ts);
  return id;
}

/** A reorg undid the settlement: the vault is Liquidating and its last auction settling again. */
export function reopenLiquidation(store: Store, vaultId: number, ts: number): void {
  store.auctions.unmarkVaultLiquidated(vaultId, ts);
  store.auctions.reopenLatest(vaultId);
}

/**
 * The protocol's surplus address: where a settlement with bad debt sends the rest of the
 * collateral instead of the owner (SPEC §8.3). A single-key address on branch 2 of the protocol's
 * account key (vaults use branch 0), so only the operator's protocol seed spends it.
 */
export function protocolSurplusAddress(protocol: ParsedKey, net: NetworkInfo): string {
  const pubkey = protocol.node.derive(2).derive(0).publicKey;
  return payments.p2wpkh({ pubkey: Uint8Array.from(pubkey), network: net.bitcoinjs }).address!;
}
