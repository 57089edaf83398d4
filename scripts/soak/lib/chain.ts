/**
 * What the chain says, read without the app's watch-only wallet: `scantxoutset` for confirmed
 * coins (with their heights), the mempool decoded for unconfirmed ones and for coins already
 * being spent. The soaks compare every vault's collateral with this.
 */
import { address as bjsAddress, Transaction } from 'bitcoinjs-lib';
import type { NetworkInfo } from '../../../core/config/networks';
import type { Sqlite } from '../../../core/db/database';
import { sqliteSql, type SoakSql } from './sql';
import { toSats } from '../../../core/node/rpc';
import { sqliteStore } from '../../../core/store/sqlite';

/** The RPC calls the soaks make (a RpcClient, or anything shaped like one). */
export interface Rpc {
  call<T = unknown>(
    method: string,
    params?: unknown[],
    options?: { wallet?: string; timeoutMs?: number },
  ): Promise<T>;
}

/** One unspent output at a watched address, as the chain (not the wallet) reports it. */
export interface ChainCoin {
  txid: string;
  vout: number;
  address: string;
  amountSats: number;
  /** 0 in the mempool. */
  confirmations: number;
}

interface ScanResult {
  height: number;
  unspents: { txid: string; vout: number; scriptPubKey: string; amount: unknown; height: number }[];
}

interface VerboseTx {
  txid: string;
  vin: { txid?: string; vout?: number }[];
  vout: { n: number; value: unknown; scriptPubKey: { address?: string } }[];
}

/**
 * Every unspent output at `addresses`: confirmed ones from the UTXO set, unconfirmed ones from
 * the mempool, less any already spent by a mempool transaction. Call with the chain at rest.
 */
export async function coinsAt(
  rpc: Rpc,
  addresses: string[],
  net: NetworkInfo,
): Promise<ChainCoin[]> {
  if (addresses.length === 0) return [];
  const byScript = new Map(
    addresses.map((a) => [
      Buffer.from(bjsAddress.toOutputScript(a, net.bitcoinjs)).toString('hex'),
      a,
    ]),
  );
  const wanted = new Set(addresses);
  const scan = await rpc.call<ScanResult>(
    'scantxoutset',
    ['start', addresses.map((a) => `addr(${a})`)],
    { timeoutMs: 300_000 },
  );
  const mempool = await rpc.call<string[]>('getrawmempool');
  const spent = new Set<string>();
  const coins: ChainCoin[] = [];
  for (const txid of mempool) {
    let tx: VerboseTx;
    try {
      tx = await rpc.call<VerboseTx>('getrawtransaction', [txid, true]);
    } catch {
      continue; // left the mempool meanwhile (the chain is not quite at rest; the next check sees it)
    }
    for (const i of tx.vin) if (i.txid !== undefined) spent.add(`${i.txid}:${i.vout}`);
    for (const o of tx.vout) {
      const address = o.scriptPubKey.address;
      if (address && wanted.has(address)) {
        coins.push({ txid, vout: o.n, address, amountSats: toSats(o.value), confirmations: 0 });
      }
    }
  }
  for (const u of scan.unspents) {
    const address = byScript.get(u.scriptPubKey);
    if (!address) continue;
    coins.push({
      txid: u.txid,
      vout: u.vout,
      address,
      amountSats: toSats(u.amount),
      confirmations: scan.height - u.height + 1,
    });
  }
  return coins.filter((c) => !spent.has(`${c.txid}:${c.vout}`));
}

/** Txids of the app's own spends that count at once (signed, broadcast or confirmed). */
export function ownSpendTxids(db: Sqlite): Set<string> {
  return new Set(
    db
      .prepare(
        "SELECT txid FROM spends WHERE txid IS NOT NULL AND state IN ('signed', 'broadcast', 'confirmed')",
      )
      .pluck()
      .all() as string[],
  );
}

interface VaultRow {
  id: number;
  address: string;
  state: string;
  collateral_sats: number;
  incoming_sats: number;
  debt_cents: number;
}

/**
 * Compares every vault with the chain under the app's confirmation rule: a coin counts as
 * collateral once it has `confirmations` (or is change of the vault's own spend); anything
 * shallower is only incoming. Returns one sentence per difference.
 */
export async function collateralProblems(
  rpc: Rpc,
  db: Sqlite,
  net: NetworkInfo,
  confirmations: number,
  options: { incoming?: boolean } = {},
): Promise<{ problems: string[]; credited: Map<number, number> }> {
  const vaults = db
    .prepare('SELECT id, address, state, collateral_sats, incoming_sats, debt_cents FROM vaults')
    .all() as VaultRow[];
  const coins = await coinsAt(
    rpc,
    vaults.map((v) => v.address),
    net,
  );
  const own = ownSpendTxids(db);
  const totals = new Map<string, { credited: number; incoming: number }>();
  for (const c of coins) {
    const t = totals.get(c.address) ?? { credited: 0, incoming: 0 };
    if (c.confirmations >= confirmations || own.has(c.txid)) t.credited += c.amountSats;
    else t.incoming += c.amountSats;
    totals.set(c.address, t);
  }
  // A vault keeps its state while its closing transaction waits to confirm (Closed comes with it).
  const closing = new Set(
    db
      .prepare(
        "SELECT vault_id FROM spends WHERE kind IN ('close', 'emergency-exit') AND state IN ('signed', 'broadcast')",
      )
      .pluck()
      .all() as number[],
  );
  const problems: string[] = [];
  const credited = new Map<number, number>();
  for (const v of vaults) {
    const t = totals.get(v.address) ?? { credited: 0, incoming: 0 };
    credited.set(v.id, t.credited);
    if (v.collateral_sats !== t.credited) {
      problems.push(
        `vault ${v.id} holds ${v.collateral_sats} sats of collateral; the chain says ${t.credited} at ${confirmations} confirmation(s)${await lostSpendHint(rpc, db, v.id)}`,
      );
    }
    if (options.incoming && v.incoming_sats !== t.incoming) {
      problems.push(
        `vault ${v.id} shows ${v.incoming_sats} sats incoming; the chain says ${t.incoming}`,
      );
    }
    const terminal = v.state === 'liquidated' || v.state === 'closed' || v.state === 'liquidating';
    if (!terminal && !closing.has(v.id) && v.debt_cents === 0) {
      const want = v.collateral_sats > 0 ? 'active' : 'pending';
      if (v.state !== want)
        problems.push(
          `vault ${v.id} is ${v.state} with ${v.collateral_sats} sats and no debt; it should be ${want}`,
        );
    }
  }
  return { problems, credited };
}

/**
 * Names the vault's spends the app still thinks are in flight but that are in neither the
 * mempool nor a block: the node's wallet counts their inputs as spent, so the vault's coins
 * disappear from `listunspent` until the spend is sent again.
 */
async function lostSpendHint(rpc: Rpc, db: Sqlite, vaultId: number): Promise<string> {
  const open = db
    .prepare("SELECT id, kind, txid FROM spends WHERE vault_id = ? AND state = 'broadcast'")
    .all(vaultId) as { id: number; kind: string; txid: string }[];
  const lost: string[] = [];
  for (const s of open) {
    const inMempool = await rpc.call('getmempoolentry', [s.txid]).then(
      () => true,
      () => false,
    );
    const confirmations = await rpc
      .call<{ confirmations?: number }>('getrawtransaction', [s.txid, true])
      .then(
        (t) => t.confirmations ?? 0,
        () => 0,
      );
    if (!inMempool && confirmations === 0) lost.push(`${s.kind} ${s.id}`);
  }
  return lost.length
    ? ` (its ${lost.join(', ')} is stored as broadcast but is in neither the mempool nor a block)`
    : '';
}

/** SQLite's own checks and the bsUSD ledger invariant. */
export async function databaseProblems(db: Sqlite): Promise<string[]> {
  const problems: string[] = [];
  const integrity = db.pragma('integrity_check', { simple: false }) as {
    integrity_check: string;
  }[];
  if (integrity.length !== 1 || integrity[0]!.integrity_check !== 'ok') {
    problems.push(`integrity_check: ${integrity.map((r) => r.integrity_check).join('; ')}`);
  }
  const fk = db.pragma('foreign_key_check') as unknown[];
  if (fk.length) problems.push(`foreign_key_check: ${fk.length} row(s) point nowhere`);
  const ledger = await sqliteStore(db).ledger.checkInvariant();
  if (!ledger.ok) problems.push(`ledger invariant: ${ledger.problems.join('; ')}`);
  return problems;
}

interface SpendRow {
  id: number;
  vault_id: number;
  kind: string;
  state: string;
  txid: string | null;
  tx_hex: string | null;
  plan: string;
}

/**
 * No transaction made twice: txids unique, no vault coin in two different stored transactions,
 * at most one settlement per auction, and (unless a reorg may have put a confirmed spend and its
 * child back in flight together) at most one spend in flight per vault.
 */
export async function spendProblems(
  db: Sqlite | SoakSql,
  options: { oneInFlightPerVault?: boolean } = {},
): Promise<string[]> {
  const sql = 'all' in db ? db : sqliteSql(db);
  const problems: string[] = [];
  const spends = await sql.all<SpendRow>(
    'SELECT id, vault_id, kind, state, txid, tx_hex, plan FROM spends ORDER BY id',
  );
  const txids = new Map<string, number>();
  const live = new Map<number, number[]>();
  const coinSpentBy = new Map<string, string>();
  const settlementOf = new Map<number, number[]>();
  for (const s of spends) {
    if (s.txid) {
      if (txids.has(s.txid))
        problems.push(`txid ${s.txid} stored by spends ${txids.get(s.txid)} and ${s.id}`);
      txids.set(s.txid, s.id);
    }
    if (['draft', 'awaiting-guardian', 'signed', 'broadcast'].includes(s.state))
      live.set(s.vault_id, [...(live.get(s.vault_id) ?? []), s.id]);
    if (s.state !== 'abandoned' && s.tx_hex) {
      const tx = Transaction.fromHex(s.tx_hex);
      for (const input of tx.ins) {
        const coin = `${Buffer.from(input.hash).reverse().toString('hex')}:${input.index}`;
        const other = coinSpentBy.get(coin);
        if (other && other !== s.txid)
          problems.push(
            `vault coin ${coin} is spent by two stored transactions, ${other} and ${s.txid}`,
          );
        coinSpentBy.set(coin, s.txid!);
      }
    }
    if (s.kind === 'settlement' && s.state !== 'abandoned') {
      const auctionId = (JSON.parse(s.plan) as { auctionId?: number }).auctionId ?? -1;
      settlementOf.set(auctionId, [...(settlementOf.get(auctionId) ?? []), s.id]);
    }
  }
  for (const [vaultId, ids] of live) {
    if (options.oneInFlightPerVault !== false && ids.length > 1)
      problems.push(
        `vault ${vaultId} has ${ids.length} spends in flight at once (${ids.join(', ')})`,
      );
  }
  for (const [auctionId, ids] of settlementOf) {
    if (ids.length > 1)
      problems.push(`auction ${auctionId} has ${ids.length} settlements (${ids.join(', ')})`);
  }
  const takes = await sql.all<{
    id: number;
    sold_sats: number;
    covered_cents: number;
    sats: number;
    paid: number;
  }>(
    `SELECT l.id, l.sold_sats, l.covered_cents, COALESCE(SUM(t.sats), 0) AS sats, COALESCE(SUM(t.paid_cents), 0) AS paid
       FROM liquidations l LEFT JOIN auction_takes t ON t.liquidation_id = l.id GROUP BY l.id`,
  );
  for (const t of takes) {
    if (t.sold_sats !== t.sats || t.covered_cents !== t.paid) {
      problems.push(
        `auction ${t.id} sold ${t.sold_sats} sats for ${t.covered_cents} cents but its takes add up to ${t.sats} sats for ${t.paid} cents`,
      );
    }
  }
  return problems;
}
