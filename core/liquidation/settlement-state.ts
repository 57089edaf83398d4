/**
 * What a settlement's confirmation (or its undoing by a reorg) changes on the auction side —
 * called by the spend store inside the transaction that moves the settlement spend.
 */
import { payments } from 'bitcoinjs-lib';
import type { NetworkInfo } from '../config/networks';
import type { ParsedKey } from '../bitcoin/keys';
import type { Store } from '../store/ports';

/** The vault's settling auction becomes settled and the vault Liquidated; returns the auction id. */
export async function markLiquidationSettled(
  store: Store,
  vaultId: number,
  ts: number,
): Promise<number | null> {
  const id = await store.auctions.settlingIdOf(vaultId);
  if (id === undefined) return null;
  await store.auctions.markSettled(id);
  await store.auctions.markVaultLiquidated(vaultId, ts);
  await store.ops.journal('vault.liquidated', vaultId, { auctionId: id }, ts);
  return id;
}

/**
 * The vault's coins left by another way than the settlement (an emergency exit the owner and the
 * guardian signed before the liquidation, from a database older than the rule that exits need no
 * debt): its open auction ends with the debt booked as deficit. Takes are refused while an exit
 * holds the coins, so nobody paid for them. Returns the auction id.
 */
export async function endLiquidationWithoutCoins(
  store: Store,
  vaultId: number,
  deficitCents: number,
  ts: number,
): Promise<number | null> {
  const id = await store.auctions.unsettledIdOf(vaultId);
  if (id === undefined) return null;
  await store.auctions.endWithoutCoins(id, ts, deficitCents);
  await store.ops.journal(
    'auction.ended-without-coins',
    vaultId,
    { auctionId: id, deficitCents },
    ts,
  );
  return id;
}

/** A reorg undid the settlement: the vault is Liquidating and its last auction settling again. */
export async function reopenLiquidation(store: Store, vaultId: number, ts: number): Promise<void> {
  await store.auctions.unmarkVaultLiquidated(vaultId, ts);
  await store.auctions.reopenLatest(vaultId);
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
