/**
 * Vault core, first part: key sets, vault creation, and collateral tracking from the chain.
 *
 * Every state change is one transaction of the store that also writes the journal; events go
 * out after it commits. Collateral is always what the node reports for the vault's address.
 */
import type { NetworkInfo, VaultParams } from '../config/networks';
import { BitStableError } from '../errors';
import type { EventBus } from '../events/bus';
import { sats, type Cents, type Sats } from '../money';
import { keyExpression, parseKey, type ParsedKey } from '../bitcoin/keys';
import {
  rangedDescriptor,
  vaultDescriptor,
  vaultScript,
  type VaultKeys,
} from '../bitcoin/descriptor';
import type { BitcoinNode, WatchedUtxo } from '../node/bitcoin-node';
import { outputScript } from '../psbt/fees';
import type { Store } from '../store/ports';
import { storedPrices } from './debt';
import { nextStateOutsideHealthPass } from './state';
import { getKeySet, getVault, listVaults, type KeySetRow, type Vault } from './vault-store';

/**
 * The least lead of a key set's watched range past its next vault: what Core watches past a
 * ranged descriptor's start anyway (its default -keypool). Core derives a re-imported range
 * whole, from index 0 (0.2 ms per index here, three times that while the node is busy), so a
 * range grows geometrically and early: once a quarter of it is used it doubles, in the
 * background, and the import ends while the other three quarters are handed out, even at 1,000
 * vaults a second. Core then watches 4 to 8 times as many addresses as the set has vaults. A
 * creation waits for the node only when a range has run out (the first vault of a key set).
 */
export const RANGE_AHEAD_MIN = 1000;

export interface VaultServiceDeps {
  store: Store;
  node: BitcoinNode;
  network: NetworkInfo;
  params: VaultParams;
  bus: EventBus;
  /** The current fresh oracle price, or null when the oracle is not ok. */
  freshPrice?: () => Cents | null;
  clock?: () => number;
  /** The account a vault created without one belongs to (the node's own, in local mode). */
  defaultAccountId?: () => string | null;
  /**
   * How the watch-only wallet learns of new vaults: one ranged descriptor per key set (the
   * default), or one descriptor per vault imported at its creation (the earlier way, about 30
   * ms a vault; kept as the create_vault bench's baseline).
   */
  watch?: 'ranged' | 'per-vault';
  /** The least lead of a watched range (RANGE_AHEAD_MIN; tests make it small). */
  rangeAheadMin?: number;
  /** A background range growth failed: logged, counted and shown by the host. */
  failed?: (task: string, err: unknown, ids: Record<string, number>) => void;
  /** A range growth went through: an earlier failure of it is history. */
  succeeded?: (task: string) => void;
}

export interface CreateVaultInput {
  keySetId: number;
  label?: string;
  /** What the owner plans to deposit, for the deposit QR code. */
  plannedDepositSats?: number;
  /** Where the rest of the collateral goes if the vault is liquidated (an address of the owner's). */
  returnAddress?: string;
  /** The account the vault belongs to (registered); default: the node's own account. */
  accountId?: string;
}

/** The most creations one transaction makes. */
const MAX_CREATE_BATCH = 256;

interface PendingCreate {
  input: CreateVaultInput;
  resolve: (vault: Vault) => void;
  reject: (err: unknown) => void;
}

export interface SyncResult {
  /** Vaults whose collateral, incoming amount or state changed. */
  changed: number[];
  utxos: number;
}

/** Vault creation and deposit tracking for one network. */
export class VaultService {
  private readonly store: Store;
  private readonly keyCache = new Map<number, VaultKeys>();
  /** Creations waiting for the batch being made now. */
  private readonly pendingCreates: PendingCreate[] = [];
  private creating = false;
  /** Per key set: the range import in flight, if any. */
  private readonly growing = new Map<number, Promise<void>>();
  private readonly now: () => number;

  constructor(private readonly deps: VaultServiceDeps) {
    this.store = deps.store;
    this.now = deps.clock ?? Date.now;
  }

  /**
   * Stores a key set (owner, protocol, guardian account keys); returns its id. Idempotent. A new
   * set's first range is imported in the background unless `importNow` is false (the node's own
   * set at start, which `watchAhead` imports once the node can report on it).
   */
  async registerKeySet(
    input: { owner: unknown; protocol: unknown; guardian: unknown },
    { importNow = true }: { importNow?: boolean } = {},
  ): Promise<number> {
    const net = this.deps.network;
    const keys: VaultKeys = {
      owner: parseKey(input.owner, net),
      protocol: parseKey(input.protocol, net),
      guardian: parseKey(input.guardian, net),
    };
    const xpubs = new Set([keys.owner.xpub, keys.protocol.xpub, keys.guardian.xpub]);
    if (xpubs.size !== 3) {
      throw new BitStableError(
        'INVALID_XPUB',
        'The owner, protocol and guardian keys must be three different keys.',
        {},
      );
    }
    const exprs = [keys.owner, keys.protocol, keys.guardian].map(keyExpression);
    const [ownerKey, protocolKey, guardianKey] = exprs;
    const existing = await this.store.vaults.keySetIdOf(
      net.name,
      ownerKey,
      protocolKey,
      guardianKey,
    );
    if (existing) return existing;
    const id = await this.store.transaction(async () => {
      const keySetId = await this.store.vaults.insertKeySet(
        net.name,
        ownerKey,
        protocolKey,
        guardianKey,
        this.now(),
      );
      await this.store.ops.journal('keyset.registered', null, { keySetId }, this.now());
      return keySetId;
    });
    this.keyCache.set(id, keys);
    // The first range is imported now, in the background, so the set's first vault is a
    // database insert too (it waits only if the import has not ended by then).
    if (importNow && this.deps.watch !== 'per-vault') this.growInBackground(id);
    return id;
  }

  /**
   * Imports the key set's range now if it has none yet or is due to grow, and waits for it (and
   * for an import already in flight): afterwards no write of this set's range is pending.
   */
  async watchAhead(keySetId: number): Promise<void> {
    if (this.deps.watch === 'per-vault') return;
    const { nextIndex, watchedEnd } = await getKeySet(this.store, keySetId);
    const inFlight = this.growing.get(keySetId);
    if (inFlight) return inFlight;
    if (watchedEnd === 0 || this.wantsGrowth(nextIndex, watchedEnd))
      await this.growRange(keySetId, 0);
  }

  /** The parsed keys of a key set (cached; parsing xpubs is the slow part). */
  async keySet(keySetId: unknown): Promise<VaultKeys> {
    return (await this.keySetEntry(keySetId)).keys;
  }

  /** The key set's row and parsed keys, refused if it is of another network. */
  private async keySetEntry(keySetId: unknown): Promise<{ row: KeySetRow; keys: VaultKeys }> {
    const row = await getKeySet(this.store, keySetId);
    if (row.network !== this.deps.network.name) {
      throw new BitStableError(
        'WRONG_NETWORK',
        `Key set #${row.id} is for ${row.network}, not ${this.deps.network.name}.`,
        {
          keySetId: row.id,
        },
      );
    }
    let keys = this.keyCache.get(row.id);
    if (!keys) {
      const p = (k: string): ParsedKey => parseKey(k, this.deps.network);
      keys = { owner: p(row.ownerKey), protocol: p(row.protocolKey), guardian: p(row.guardianKey) };
      this.keyCache.set(row.id, keys);
    }
    return { row, keys };
  }

  /**
   * Creates the next vault of a key set: derives its address, makes sure the node watches it,
   * and stores it as Pending. The index is handed out only below the key set's watched range
   * (imported before it is recorded), so the wallet sees a deposit the moment the address is
   * shown; with the range ahead, creating a vault is a database insert.
   *
   * Creations queue and are made one batch at a time: the requests that arrived while the last
   * batch was committing share one transaction (so one disk sync), and indexes are handed out in
   * arrival order, so two callers never claim the same one.
   */
  createVault(input: CreateVaultInput): Promise<Vault> {
    return new Promise<Vault>((resolve, reject) => {
      this.pendingCreates.push({ input, resolve, reject });
      if (!this.creating) void this.drainCreates();
    });
  }

  private async drainCreates(): Promise<void> {
    this.creating = true;
    try {
      while (this.pendingCreates.length > 0)
        await this.createBatch(this.pendingCreates.splice(0, MAX_CREATE_BATCH));
    } finally {
      this.creating = false;
    }
  }

  /** Checks one request; throws a typed error for bad input, and nothing is claimed. */
  private async checkCreate(input: CreateVaultInput) {
    if (!input || typeof input !== 'object')
      throw new BitStableError('INVALID_ARGUMENT', 'createVault needs a key set id.', {});
    const { row: keySet, keys } = await this.keySetEntry(input.keySetId);
    const planned = input.plannedDepositSats === undefined ? null : sats(input.plannedDepositSats);
    if (planned === 0)
      throw new BitStableError('INVALID_AMOUNT', 'A planned deposit must be more than 0 sats.', {});
    const label =
      input.label === undefined ? null : String(input.label).trim().slice(0, 80) || null;
    const returnAddress =
      input.returnAddress === undefined ? null : this.checkAddress(input.returnAddress);
    return { input, keys, keySet, planned, label, returnAddress };
  }

  private async createBatch(batch: PendingCreate[]): Promise<void> {
    type Claim = Awaited<ReturnType<VaultService['checkCreate']>> &
      PendingCreate & { index: number; address: string; descriptor: string };
    const claims: Claim[] = [];
    const nextIndex = new Map<number, number>();
    for (const request of batch) {
      try {
        const checked = await this.checkCreate(request.input);
        const index = nextIndex.get(checked.keySet.id) ?? checked.keySet.nextIndex;
        nextIndex.set(checked.keySet.id, index + 1);
        const { address } = vaultScript(checked.keys, index, this.deps.network);
        const descriptor = vaultDescriptor(checked.keys, index);
        claims.push({ ...request, ...checked, index, address, descriptor });
      } catch (err) {
        request.reject(err);
      }
    }
    if (claims.length === 0) return;
    try {
      await this.watchClaims(claims, nextIndex);
      const ts = this.now();
      const ids = await this.store.transaction(async () => {
        const ids: number[] = [];
        for (const c of claims) {
          const id = await this.store.vaults.insert({
            keySetId: c.keySet.id,
            index: c.index,
            network: this.deps.network.name,
            address: c.address,
            descriptor: c.descriptor,
            plannedDepositSats: c.planned,
            returnAddress: c.returnAddress,
            label: c.label,
            accountId: c.input.accountId ?? this.deps.defaultAccountId?.() ?? null,
            createdAt: ts,
          });
          await this.store.vaults.setKeySetNextIndex(c.keySet.id, c.index + 1);
          await this.store.vaults.openLedgerAccount(id);
          await this.store.ops.journal(
            'vault.created',
            id,
            { address: c.address, index: c.index },
            ts,
          );
          ids.push(id);
        }
        return ids;
      });
      for (const [n, c] of claims.entries()) {
        this.deps.bus.emit('vault.created', { vaultId: ids[n]!, address: c.address });
        c.resolve(await getVault(this.store, ids[n]!));
      }
    } catch (err) {
      for (const c of claims) c.reject(err);
    }
  }

  /**
   * Makes sure the node watches every claimed address before any is recorded: the ranged way
   * waits only when a key set's range has run out, and grows a range whose lead is half gone in
   * the background; the per-vault way imports each vault's descriptor (idempotent, and the index
   * is only consumed when the row commits, so a crash in between reuses the same address).
   */
  private async watchClaims(
    claims: { index: number; descriptor: string }[],
    nextIndex: Map<number, number>,
  ): Promise<void> {
    if (this.deps.watch === 'per-vault') {
      for (const c of claims)
        await this.deps.node.importDescriptors([
          { desc: c.descriptor, label: `bitstable-vault-${c.index}`, timestamp: 'now' },
        ]);
      return;
    }
    for (const [keySetId, end] of nextIndex) {
      const { watchedEnd } = await getKeySet(this.store, keySetId);
      if (end > watchedEnd) await this.growRange(keySetId, end);
      else if (this.wantsGrowth(end, watchedEnd)) this.growInBackground(keySetId);
    }
  }

  private get rangeMin(): number {
    return this.deps.rangeAheadMin ?? RANGE_AHEAD_MIN;
  }

  /** A range grows once a quarter of it is used, or when less than half the least lead is left. */
  private wantsGrowth(next: number, watchedEnd: number): boolean {
    return next * 4 > watchedEnd || watchedEnd - next < this.rangeMin / 2;
  }

  /** Where a range grown now ends: twice as far, and at least four times its next index. */
  private grownEnd(next: number, watchedEnd: number): number {
    return Math.max(2 * watchedEnd, 4 * next, next + this.rangeMin);
  }

  /**
   * Has the node watch the key set's ranged descriptor for indexes below at least `needEnd`
   * (and the full lead past its next vault), then records the new end. One import per key set
   * at a time: a caller that finds one in flight waits for it and looks again.
   */
  private growRange(keySetId: number, needEnd: number): Promise<void> {
    const inFlight = this.growing.get(keySetId);
    if (inFlight) {
      const again = async () =>
        (await getKeySet(this.store, keySetId)).watchedEnd >= needEnd
          ? undefined
          : this.growRange(keySetId, needEnd);
      return inFlight.then(again, again);
    }
    const grow = (async () => {
      const keys = await this.keySet(keySetId);
      const { nextIndex, watchedEnd } = await getKeySet(this.store, keySetId);
      const end = Math.max(needEnd, this.grownEnd(nextIndex, watchedEnd));
      await this.deps.node.importDescriptors([
        { desc: rangedDescriptor(keys), range: [0, end - 1], timestamp: 'now' },
      ]);
      const ts = this.now();
      await this.store.transaction(async () => {
        await this.store.vaults.raiseKeySetWatchedEnd(keySetId, end);
        await this.store.ops.journal('keyset.watched', null, { keySetId, end }, ts);
      });
      this.deps.succeeded?.('watch-range');
    })();
    const tracked = grow.finally(() => this.growing.delete(keySetId));
    this.growing.set(keySetId, tracked);
    return tracked;
  }

  private growInBackground(keySetId: number): void {
    if (this.growing.has(keySetId)) return;
    this.growRange(keySetId, 0).catch((err: unknown) =>
      this.deps.failed?.('watch-range', err, { keySetId }),
    );
  }

  /**
   * Has the node watch every key set's range again, rescanning from the key set's creation (less
   * two hours for block-time skew). For a node that has never seen them: a failover node, or a
   * new one. Returns how many vaults that covers.
   */
  async rewatchAll(): Promise<number> {
    let covered = 0;
    for (const keySet of await this.store.vaults.keySets(this.deps.network.name)) {
      const end = Math.max(keySet.watchedEnd, keySet.nextIndex);
      if (end === 0) continue;
      await this.deps.node.importDescriptors([
        {
          desc: rangedDescriptor(await this.keySet(keySet.id)),
          range: [0, end - 1],
          timestamp: Math.max(0, Math.floor(keySet.createdAt / 1000) - 7200),
        },
      ]);
      await this.store.transaction(
        async () => await this.store.vaults.raiseKeySetWatchedEnd(keySet.id, end),
      );
      covered += keySet.nextIndex;
    }
    return covered;
  }

  /** Sets where the rest of the collateral goes if the vault is liquidated. */
  async setReturnAddress(vaultId: unknown, address: unknown): Promise<Vault> {
    const vault = await getVault(this.store, vaultId);
    const checked = this.checkAddress(address);
    const ts = this.now();
    await this.store.transaction(async () => {
      await this.store.vaults.setReturnAddress(vault.id, checked, ts);
      await this.store.ops.journal('vault.return-address', vault.id, { address: checked }, ts);
    });
    return await getVault(this.store, vault.id);
  }

  private checkAddress(address: unknown): string {
    if (typeof address !== 'string')
      throw new BitStableError('INVALID_ADDRESS', 'Give a Bitcoin address.', {});
    outputScript(address, this.deps.network);
    return address;
  }

  /** One vault by id (VAULT_NOT_FOUND when there is none). */
  async getVault(id: unknown): Promise<Vault> {
    return await getVault(this.store, id);
  }

  /** Every vault on this network (of one account, when given), newest first. */
  async listVaults(accountId?: string): Promise<Vault[]> {
    return await listVaults(this.store, this.deps.network.name, accountId);
  }

  /**
   * Reads the watched coins from the node and brings every vault's collateral and state in line
   * with the chain, in one transaction. A deposit counts once it has the network's confirmations;
   * a reorg that drops it below that takes it out again.
   */
  async syncDeposits(): Promise<SyncResult> {
    const utxos = await this.deps.node.listWatchedUtxos();
    const { confirmations } = this.deps.params;
    const price = this.deps.freshPrice?.() ?? null;
    const ts = this.now();
    const vaults = this.store.vaults;

    // Change from the vault's own spends counts at once: it was built and co-signed here, and
    // cannot be double-spent without two of the vault's keys. Otherwise a vault with debt would
    // look empty between a withdrawal's broadcast and its confirmation.

    type Total = { confirmed: number; incoming: number; coins: WatchedUtxo[]; counted: string[] };
    const totals = new Map<number, Total>();
    for (const u of utxos) {
      const vaultId = await vaults.idByAddress(u.address, this.deps.network.name);
      if (vaultId === undefined) continue;
      const t = totals.get(vaultId) ?? { confirmed: 0, incoming: 0, coins: [], counted: [] };
      if (u.confirmations >= confirmations || (await vaults.isOwnSpendTx(u.txid))) {
        t.confirmed += u.amountSats;
        t.counted.push(`${u.txid}:${u.vout}`);
      } else t.incoming += u.amountSats;
      t.coins.push(u);
      totals.set(vaultId, t);
    }

    const changed = await this.store.transaction(async () => {
      const before = await vaults.idsWithCoins(this.deps.network.name);
      const touched = new Set([...before, ...totals.keys()]);
      const out: Vault[] = [];
      for (const vaultId of touched) {
        const vault = await getVault(this.store, vaultId);
        const t = totals.get(vaultId) ?? { confirmed: 0, incoming: 0, coins: [], counted: [] };
        await vaults.replaceCoins(vaultId, t.coins);
        // Bitcoin owed to a redeemer and not yet on its way is not the vault's collateral.
        const collateral = Math.max(
          0,
          t.confirmed - (await this.store.redemptions.owedUnsentSats(vaultId)),
        ) as Sats;
        // While the vault's closing transaction waits to confirm, it is still what it was:
        // Closed comes with the confirmation, not Pending in between.
        const state = (await vaults.isClosing(vaultId))
          ? vault.state
          : nextStateOutsideHealthPass(
              vault.state,
              { collateralSats: collateral, debtCents: vault.debtCents, freshPriceCents: price },
              this.deps.params,
            );
        if (
          collateral === vault.collateralSats &&
          t.incoming === vault.incomingSats &&
          state === vault.state
        )
          continue;
        const prices = storedPrices(collateral, vault.debtArt, this.deps.params);
        await vaults.setCollateral(
          vaultId,
          {
            collateralSats: collateral,
            incomingSats: t.incoming,
            state,
            liquidationPriceCents: prices.liquidation,
            warningPriceCents: prices.warning,
          },
          ts,
        );
        await this.store.ops.journal(
          'vault.collateral',
          vaultId,
          {
            from: vault.collateralSats,
            to: collateral,
            incoming: t.incoming,
            state: { from: vault.state, to: state },
            // The coins counted now, so the vault's history names each deposit's transaction.
            coins: t.counted.sort(),
          },
          ts,
        );
        out.push({ ...vault, collateralSats: collateral, incomingSats: t.incoming as Sats, state });
      }
      return out;
    });

    for (const v of changed) {
      this.deps.bus.emit('vault.changed', {
        vaultId: v.id,
        state: v.state,
        collateralSats: v.collateralSats,
        debtCents: v.debtCents,
      });
    }
    return { changed: changed.map((v) => v.id), utxos: utxos.length };
  }
}
