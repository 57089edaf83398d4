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
import { vaultDescriptor, vaultScript, type VaultKeys } from '../bitcoin/descriptor';
import type { BitcoinNode, WatchedUtxo } from '../node/bitcoin-node';
import { outputScript } from '../psbt/fees';
import type { Store } from '../store/ports';
import { storedPrices } from './debt';
import { nextStateOutsideHealthPass } from './state';
import { getKeySet, getVault, listVaults, type Vault } from './vault-store';

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

export interface SyncResult {
  /** Vaults whose collateral, incoming amount or state changed. */
  changed: number[];
  utxos: number;
}

/** Vault creation and deposit tracking for one network. */
export class VaultService {
  private readonly store: Store;
  private readonly keyCache = new Map<number, VaultKeys>();
  private createQueue: Promise<unknown> = Promise.resolve();
  private readonly now: () => number;

  constructor(private readonly deps: VaultServiceDeps) {
    this.store = deps.store;
    this.now = deps.clock ?? Date.now;
  }

  /** Stores a key set (owner, protocol, guardian account keys); returns its id. Idempotent. */
  registerKeySet(input: { owner: unknown; protocol: unknown; guardian: unknown }): number {
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
    const existing = this.store.vaults.keySetIdOf(net.name, ownerKey, protocolKey, guardianKey);
    if (existing) return existing;
    const id = this.store.transaction(() => {
      const keySetId = this.store.vaults.insertKeySet(
        net.name,
        ownerKey,
        protocolKey,
        guardianKey,
        this.now(),
      );
      this.store.ops.journal('keyset.registered', null, { keySetId }, this.now());
      return keySetId;
    });
    this.keyCache.set(id, keys);
    return id;
  }

  /** The parsed keys of a key set (cached; parsing xpubs is the slow part). */
  keySet(keySetId: unknown): VaultKeys {
    const row = getKeySet(this.store, keySetId);
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
    return keys;
  }

  /**
   * Creates the next vault of a key set: derives its address, has the node watch it, and stores
   * it as Pending. Importing first is safe: the import is idempotent and the index is only
   * consumed when the row commits, so a crash in between reuses the same index and address.
   */
  createVault(input: CreateVaultInput): Promise<Vault> {
    const run = async () => {
      if (!input || typeof input !== 'object')
        throw new BitStableError('INVALID_ARGUMENT', 'createVault needs a key set id.', {});
      const keys = this.keySet(input.keySetId);
      const planned =
        input.plannedDepositSats === undefined ? null : sats(input.plannedDepositSats);
      if (planned === 0)
        throw new BitStableError(
          'INVALID_AMOUNT',
          'A planned deposit must be more than 0 sats.',
          {},
        );
      const label =
        input.label === undefined ? null : String(input.label).trim().slice(0, 80) || null;
      const returnAddress =
        input.returnAddress === undefined ? null : this.checkAddress(input.returnAddress);
      const index = getKeySet(this.store, input.keySetId).nextIndex;
      const { address } = vaultScript(keys, index, this.deps.network);
      const descriptor = vaultDescriptor(keys, index);
      await this.deps.node.importDescriptors([
        { desc: descriptor, label: `bitstable-vault-${index}`, timestamp: 'now' },
      ]);

      const ts = this.now();
      const vaultId = this.store.transaction(() => {
        const id = this.store.vaults.insert({
          keySetId: input.keySetId,
          index,
          network: this.deps.network.name,
          address,
          descriptor,
          plannedDepositSats: planned,
          returnAddress,
          label,
          accountId: input.accountId ?? this.deps.defaultAccountId?.() ?? null,
          createdAt: ts,
        });
        this.store.vaults.setKeySetNextIndex(input.keySetId, index + 1);
        this.store.vaults.openLedgerAccount(id);
        this.store.ops.journal('vault.created', id, { address, index }, ts);
        return id;
      });
      this.deps.bus.emit('vault.created', { vaultId, address });
      return getVault(this.store, vaultId);
    };
    // One creation at a time, so two callers never claim the same index.
    const result = this.createQueue.then(run, run);
    this.createQueue = result.catch(() => undefined);
    return result;
  }

  /**
   * Has the node watch every vault again, rescanning from each vault's creation (less two hours
   * for block-time skew). For a node that has never seen them: a failover node, or a new one.
   */
  async rewatchAll(): Promise<number> {
    const rows = this.store.vaults.watchList(this.deps.network.name);
    for (let i = 0; i < rows.length; i += 500) {
      await this.deps.node.importDescriptors(
        rows.slice(i, i + 500).map((r) => ({
          desc: r.descriptor,
          label: `bitstable-vault-${r.index}`,
          timestamp: Math.max(0, Math.floor(r.createdAt / 1000) - 7200),
        })),
      );
    }
    return rows.length;
  }

  /** Sets where the rest of the collateral goes if the vault is liquidated. */
  setReturnAddress(vaultId: unknown, address: unknown): Vault {
    const vault = getVault(this.store, vaultId);
    const checked = this.checkAddress(address);
    const ts = this.now();
    this.store.transaction(() => {
      this.store.vaults.setReturnAddress(vault.id, checked, ts);
      this.store.ops.journal('vault.return-address', vault.id, { address: checked }, ts);
    });
    return getVault(this.store, vault.id);
  }

  private checkAddress(address: unknown): string {
    if (typeof address !== 'string')
      throw new BitStableError('INVALID_ADDRESS', 'Give a Bitcoin address.', {});
    outputScript(address, this.deps.network);
    return address;
  }

  /** One vault by id (VAULT_NOT_FOUND when there is none). */
  getVault(id: unknown): Vault {
    return getVault(this.store, id);
  }

  /** Every vault on this network (of one account, when given), newest first. */
  listVaults(accountId?: string): Vault[] {
    return listVaults(this.store, this.deps.network.name, accountId);
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

    const totals = new Map<number, { confirmed: number; incoming: number; coins: WatchedUtxo[] }>();
    for (const u of utxos) {
      const vaultId = vaults.idByAddress(u.address, this.deps.network.name);
      if (vaultId === undefined) continue;
      const t = totals.get(vaultId) ?? { confirmed: 0, incoming: 0, coins: [] };
      if (u.confirmations >= confirmations || vaults.isOwnSpendTx(u.txid))
        t.confirmed += u.amountSats;
      else t.incoming += u.amountSats;
      t.coins.push(u);
      totals.set(vaultId, t);
    }

    const changed = this.store.transaction(() => {
      const before = vaults.idsWithCoins(this.deps.network.name);
      const touched = new Set([...before, ...totals.keys()]);
      const out: Vault[] = [];
      for (const vaultId of touched) {
        const vault = getVault(this.store, vaultId);
        const t = totals.get(vaultId) ?? { confirmed: 0, incoming: 0, coins: [] };
        vaults.replaceCoins(vaultId, t.coins);
        // Bitcoin owed to a redeemer and not yet on its way is not the vault's collateral.
        const collateral = Math.max(
          0,
          t.confirmed - this.store.redemptions.owedUnsentSats(vaultId),
        ) as Sats;
        // While the vault's closing transaction waits to confirm, it is still what it was:
        // Closed comes with the confirmation, not Pending in between.
        const state = vaults.isClosing(vaultId)
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
        vaults.setCollateral(
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
        this.store.ops.journal(
          'vault.collateral',
          vaultId,
          {
            from: vault.collateralSats,
            to: collateral,
            incoming: t.incoming,
            state: { from: vault.state, to: state },
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
