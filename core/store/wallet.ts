/**
 * The wallet's own records (SPEC §5 of issue 12), apart from any protocol node's: the pinned
 * keys of each node it has connected to, its vaults (descriptor, index, address — enough to
 * recover without the node), every PSBT it signed (written before it is handed to the node),
 * and the exits it built alone. On SQLite: `sqlite/wallet.ts`.
 */
import type { PinnedKeys } from '../wallet/checks';

export interface SignedRecord {
  spendId: number;
  vaultId: number;
  kind: string;
  outcome: 'submitted' | 'accepted' | 'refused';
  txid: string | null;
  message: string | null;
  signedAt: number;
}

export interface WalletVault {
  nodeId: string;
  vaultId: number;
  ownerKey: string;
  index: number;
  address: string;
  descriptor: string;
  /** When the wallet recorded it (ms); read back, not written (addVault takes its own time). */
  createdAt?: number;
}

export interface AloneExit {
  exitId: number;
  vaultId: number;
  destination: string;
  amountSats: number;
  feeSats: number;
  /** The owner-signed PSBT for the guardian. */
  psbtBase64: string;
  unsignedTxid: string;
  state: 'awaiting-guardian' | 'broadcast' | 'abandoned';
  txid: string | null;
  createdAt: number;
}

export interface WalletStore {
  /** What was pinned for the node at `nodeUrl`, or null. */
  pinned(nodeUrl: string): PinnedKeys | null;
  /** Pins a node's keys at `nodeUrl` (the first pin stays). */
  pin(nodeUrl: string, keys: PinnedKeys, ts?: number): void;
  addVault(v: WalletVault, ts?: number): void;
  vault(nodeId: string, vaultId: number): WalletVault | null;
  vaults(nodeId: string): WalletVault[];
  /** Writes a signed PSBT (before it is handed to the node); signing again replaces it. */
  recordSigned(
    nodeId: string,
    spendId: number,
    vaultId: number,
    kind: string,
    psbt: string,
    ts?: number,
  ): void;
  settleSigned(
    nodeId: string,
    spendId: number,
    outcome: 'accepted' | 'refused',
    txid: string | null,
    message: string | null,
  ): void;
  /** Every PSBT signed for that node, newest first. */
  signedList(nodeId: string): SignedRecord[];
  signedCount(nodeId: string): number;
  /** Records an owner-signed exit built alone; returns its id. */
  addAloneExit(
    nodeId: string,
    e: Omit<AloneExit, 'exitId' | 'state' | 'txid' | 'createdAt'>,
    ts?: number,
  ): number;
  aloneExit(nodeId: string, exitId: number): AloneExit | null;
  aloneExits(nodeId: string): AloneExit[];
  /** Marks a waiting exit abandoned. */
  aloneExitAbandoned(nodeId: string, exitId: number): void;
  /** Marks an exit sent (once: a second completion finds it sent already). */
  aloneExitSent(nodeId: string, exitId: number, txid: string): boolean;
  close(): void;
}
