/**
 * The wallet's own records (`WalletStore`, core/store/wallet.ts) in its own SQLite file, apart
 * from any protocol node's.
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { privateDir, privateFile } from '../../ops/private';
import type { PinnedKeys } from '../../wallet/checks';
import type { AloneExit, SignedRecord, WalletStore, WalletVault } from '../wallet';

export type WalletDb = Database.Database;

const SCHEMA = /* sql */ `
-- Pinned by the address the wallet connects to: whatever answers there later must be the same
-- node with the same keys (a node that renames itself does not get a fresh pin).
CREATE TABLE IF NOT EXISTS pins (
  node_url     TEXT PRIMARY KEY,
  node_id      TEXT NOT NULL,
  protocol_key TEXT NOT NULL,
  guardian_key TEXT NOT NULL,
  pinned_at    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS vaults (
  node_id    TEXT    NOT NULL,
  vault_id   INTEGER NOT NULL,
  owner_key  TEXT    NOT NULL,
  idx        INTEGER NOT NULL,
  address    TEXT    NOT NULL,
  descriptor TEXT    NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (node_id, vault_id)
);
CREATE TABLE IF NOT EXISTS signed (
  node_id    TEXT    NOT NULL,
  spend_id   INTEGER NOT NULL,
  vault_id   INTEGER NOT NULL,
  kind       TEXT    NOT NULL,
  psbt       TEXT    NOT NULL,
  signed_at  INTEGER NOT NULL,
  -- submitted | accepted (the node co-signed or kept it for the guardian) | refused
  outcome    TEXT    NOT NULL DEFAULT 'submitted',
  txid       TEXT,
  message    TEXT,
  PRIMARY KEY (node_id, spend_id)
);
-- The owner's Ledger registrations of vault policies (RegistrationStore), kept by the wallet that
-- holds the device, never by the protocol node.
CREATE TABLE IF NOT EXISTS device_registrations (
  fingerprint TEXT NOT NULL,
  descriptor  TEXT NOT NULL,
  name        TEXT NOT NULL,
  policy_id   TEXT NOT NULL,
  hmac        TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (fingerprint, descriptor)
);
-- The owner key read from the Ledger the first time, per network: the app starts and reads
-- without the device, and another Ledger plugged in later is refused, not taken as the owner.
CREATE TABLE IF NOT EXISTS ledger_owner_keys (
  network     TEXT PRIMARY KEY,
  fingerprint TEXT NOT NULL,
  path        TEXT NOT NULL,
  xpub        TEXT NOT NULL,
  created_at  INTEGER NOT NULL
);
-- Exits the wallet built alone, from its own records and Bitcoin node, while the protocol node
-- was unreachable (owner + guardian): the owner-signed PSBT is written before it is handed out.
CREATE TABLE IF NOT EXISTS alone_exits (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  node_id     TEXT    NOT NULL,
  vault_id    INTEGER NOT NULL,
  destination TEXT    NOT NULL,
  amount_sats INTEGER NOT NULL,
  fee_sats    INTEGER NOT NULL,
  psbt        TEXT    NOT NULL,
  unsigned_txid TEXT  NOT NULL,
  -- awaiting-guardian | broadcast | abandoned
  state       TEXT    NOT NULL DEFAULT 'awaiting-guardian',
  txid        TEXT,
  created_at  INTEGER NOT NULL
);
`;

interface AloneExitRow {
  id: number;
  vault_id: number;
  destination: string;
  amount_sats: number;
  fee_sats: number;
  psbt: string;
  unsigned_txid: string;
  state: AloneExit['state'];
  txid: string | null;
  created_at: number;
}

const aloneExit = (r: AloneExitRow): AloneExit => ({
  exitId: r.id,
  vaultId: r.vault_id,
  destination: r.destination,
  amountSats: r.amount_sats,
  feeSats: r.fee_sats,
  psbtBase64: r.psbt,
  unsignedTxid: r.unsigned_txid,
  state: r.state,
  txid: r.txid,
  createdAt: r.created_at,
});

export class SqliteWalletStore implements WalletStore {
  constructor(readonly db: WalletDb) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec(SCHEMA);
  }

  static open(path: string): SqliteWalletStore {
    privateDir(dirname(path));
    privateFile(path);
    for (const side of ['-wal', '-shm'])
      if (existsSync(`${path}${side}`)) privateFile(`${path}${side}`);
    return new SqliteWalletStore(new Database(path));
  }

  /** What was pinned for the node at `nodeUrl`, or null. */
  pinned(nodeUrl: string): PinnedKeys | null {
    const r = this.db
      .prepare('SELECT node_id, protocol_key, guardian_key FROM pins WHERE node_url = ?')
      .get(nodeUrl) as { node_id: string; protocol_key: string; guardian_key: string } | undefined;
    return r
      ? { nodeId: r.node_id, protocolKey: r.protocol_key, guardianKey: r.guardian_key }
      : null;
  }

  pin(nodeUrl: string, keys: PinnedKeys, ts = Date.now()): void {
    this.db
      .prepare(
        'INSERT INTO pins (node_url, node_id, protocol_key, guardian_key, pinned_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
      )
      .run(nodeUrl, keys.nodeId, keys.protocolKey, keys.guardianKey, ts);
  }

  addVault(v: WalletVault, ts = Date.now()): void {
    this.db
      .prepare(
        'INSERT INTO vaults (node_id, vault_id, owner_key, idx, address, descriptor, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(v.nodeId, v.vaultId, v.ownerKey, v.index, v.address, v.descriptor, ts);
  }

  vault(nodeId: string, vaultId: number): WalletVault | null {
    const r = this.db
      .prepare('SELECT * FROM vaults WHERE node_id = ? AND vault_id = ?')
      .get(nodeId, vaultId) as
      | {
          node_id: string;
          vault_id: number;
          owner_key: string;
          idx: number;
          address: string;
          descriptor: string;
          created_at: number;
        }
      | undefined;
    return r
      ? {
          nodeId: r.node_id,
          vaultId: r.vault_id,
          ownerKey: r.owner_key,
          index: r.idx,
          address: r.address,
          descriptor: r.descriptor,
          createdAt: r.created_at,
        }
      : null;
  }

  vaults(nodeId: string): WalletVault[] {
    return (
      this.db
        .prepare('SELECT vault_id FROM vaults WHERE node_id = ? ORDER BY vault_id')
        .pluck()
        .all(nodeId) as number[]
    ).map((id) => this.vault(nodeId, id)!);
  }

  recordSigned(
    nodeId: string,
    spendId: number,
    vaultId: number,
    kind: string,
    psbt: string,
    ts = Date.now(),
  ): void {
    this.db
      .prepare(
        `INSERT INTO signed (node_id, spend_id, vault_id, kind, psbt, signed_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (node_id, spend_id) DO UPDATE SET psbt = excluded.psbt, signed_at = excluded.signed_at,
           outcome = 'submitted', txid = NULL, message = NULL`,
      )
      .run(nodeId, spendId, vaultId, kind, psbt, ts);
  }

  settleSigned(
    nodeId: string,
    spendId: number,
    outcome: 'accepted' | 'refused',
    txid: string | null,
    message: string | null,
  ): void {
    this.db
      .prepare(
        'UPDATE signed SET outcome = ?, txid = ?, message = ? WHERE node_id = ? AND spend_id = ?',
      )
      .run(outcome, txid, message, nodeId, spendId);
  }

  /** Every PSBT signed for that node, newest first. */
  signedList(nodeId: string): SignedRecord[] {
    return (
      this.db
        .prepare(
          'SELECT spend_id, vault_id, kind, outcome, txid, message, signed_at FROM signed WHERE node_id = ? ORDER BY signed_at DESC, spend_id DESC',
        )
        .all(nodeId) as {
        spend_id: number;
        vault_id: number;
        kind: string;
        outcome: SignedRecord['outcome'];
        txid: string | null;
        message: string | null;
        signed_at: number;
      }[]
    ).map((r) => ({
      spendId: r.spend_id,
      vaultId: r.vault_id,
      kind: r.kind,
      outcome: r.outcome,
      txid: r.txid,
      message: r.message,
      signedAt: r.signed_at,
    }));
  }

  signedCount(nodeId: string): number {
    return this.db
      .prepare('SELECT COUNT(*) FROM signed WHERE node_id = ?')
      .pluck()
      .get(nodeId) as number;
  }

  /** Records an owner-signed exit built alone; returns its id. */
  addAloneExit(
    nodeId: string,
    e: Omit<AloneExit, 'exitId' | 'state' | 'txid' | 'createdAt'>,
    ts = Date.now(),
  ): number {
    return Number(
      this.db
        .prepare(
          `INSERT INTO alone_exits (node_id, vault_id, destination, amount_sats, fee_sats, psbt, unsigned_txid, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          nodeId,
          e.vaultId,
          e.destination,
          e.amountSats,
          e.feeSats,
          e.psbtBase64,
          e.unsignedTxid,
          ts,
        ).lastInsertRowid,
    );
  }

  aloneExit(nodeId: string, exitId: number): AloneExit | null {
    const r = this.db
      .prepare('SELECT * FROM alone_exits WHERE node_id = ? AND id = ?')
      .get(nodeId, exitId) as AloneExitRow | undefined;
    return r ? aloneExit(r) : null;
  }

  aloneExits(nodeId: string): AloneExit[] {
    return (
      this.db
        .prepare('SELECT * FROM alone_exits WHERE node_id = ? ORDER BY id DESC')
        .all(nodeId) as AloneExitRow[]
    ).map(aloneExit);
  }

  /** Marks a waiting exit abandoned. */
  aloneExitAbandoned(nodeId: string, exitId: number): void {
    this.db
      .prepare(
        "UPDATE alone_exits SET state = 'abandoned' WHERE node_id = ? AND id = ? AND state = 'awaiting-guardian'",
      )
      .run(nodeId, exitId);
  }

  /** Marks an exit sent (once: a second completion finds it sent already). */
  aloneExitSent(nodeId: string, exitId: number, txid: string): boolean {
    return (
      this.db
        .prepare(
          "UPDATE alone_exits SET state = 'broadcast', txid = ? WHERE node_id = ? AND id = ? AND state IN ('awaiting-guardian', 'abandoned')",
        )
        .run(txid, nodeId, exitId).changes === 1
    );
  }

  close(): void {
    this.db.close();
  }
}
