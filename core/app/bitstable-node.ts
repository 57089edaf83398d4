/**
 * The BitStable node: one composition root that wires the database, the Bitcoin node, the oracle,
 * the keys and the vault core for one network. The Electron main process, the headless host and
 * the integration tests all start the app through here.
 */
import { StabilityPool } from '../pool/pool';
import { RedemptionDesk } from '../redemptions/desk';
import { setAnnualRate, sweepFees } from '../vaults/fee-book';
import { join } from 'node:path';
import {
  checkPegParams,
  network as networkInfo,
  type NetworkInfo,
  type NetworkName,
  type VaultParams,
} from '../config/networks';
import { checkpoint, openDatabase, type Sqlite } from '../db/database';
import type { Store } from '../store/ports';
import { sqliteStore } from '../store/sqlite';
import { pgStore } from '../store/pg';
import { ClusterMember, type ClusterLogger } from './cluster';
import type { RelayedEvent } from '../db/pg/notify';
import { CORE_EVENT_TYPES } from '../api/events';
import { migratePostgres, openPostgres } from '../db/pg/database';
import { BitStableError } from '../errors';
import { EventBus } from '../events/bus';
import { adoptLocalAccount, ensureAccountSecret, ensureNodeId } from '../accounts/local';
import { PlaygroundAccounts } from '../accounts/playground';
import { privateDir, type PrivateLogger } from '../ops/private';
import { AccountService, type Registration } from '../accounts/service';
import {
  ensureProtocolSeed,
  ensureSoftwareGuardianSeed,
  ensureSoftwareOwnerMnemonic,
} from '../keys/node-keys';
import type { KeyStore } from '../keys/keystore';
import { CoreNode, REGTEST_FEE_RATE_SAT_PER_KVB } from '../node/bitcoin-node';
import { RegtestNode } from '../node/regtest';
import { RpcClient, type RpcCaller, type RpcConfig } from '../node/rpc';
import { FailoverRpc } from '../node/failover';
import { createOracle } from '../oracle';
import type { Oracle } from '../oracle/oracle';
import type { SimulatedSource } from '../oracle/sources/simulated';
import { ProtocolSigner } from '../signers/protocol';
import { FileGuardianSigner } from '../signers/guardian-file';
import { SoftwareSigner } from '../signers/software';
import type { PromptListener, Signer } from '../signers/types';
import { openLedgerOwnerSigner, type LedgerTransportConfig } from '../signers/ledger';
import { SqliteRegistrationStore } from '../store/sqlite/device-registrations';
import { keyExpression } from '../bitcoin/keys';
import type { Cents } from '../money';
import { VaultOperations } from '../vaults/operations';
import { SpendService } from '../spends/service';
import { SpendTracker } from '../spends/tracker';
import { BackgroundErrors, type FailureLogger } from '../ops/background';
import { VaultService } from '../vaults/vault-service';
import { backupDatabase, scheduleBackups, type BackupInfo } from '../ops/backup';
import { backupPostgres } from '../ops/pg-backup';
import { AuctionHouse } from '../liquidation/auction-house';

export type BitcoinConnection =
  | { kind: 'local-regtest'; bitcoind?: string }
  | {
      kind: 'rpc';
      rpc: RpcConfig;
      walletName?: string;
      /** A second node to fail over to. */ fallback?: RpcConfig;
    };

export interface BitStableNodeOptions {
  /** The app's data folder; each network keeps its own database and regtest node under it. */
  dataDir: string;
  network: NetworkName;
  keyStore: KeyStore;
  /** Default: local regtest on regtest; required elsewhere. */
  bitcoin?: BitcoinConnection;
  /**
   * Where the protocol node's data lives: the embedded SQLite file under `dataDir` (default), or
   * a PostgreSQL database (`postgres://…`) that several gateway instances share. With
   * PostgreSQL the SQLite file keeps only this instance's own records (Ledger registrations).
   */
  database?: {
    postgres: string;
    /** How often a follower tries for the leader lock; default 1 s. */
    leaseRetryMs?: number;
  };
  /**
   * The owner's signer: a Ledger by transport (USB HID or Speculos; its registrations are kept in
   * the database), or any Signer; default on regtest: the software owner key.
   */
  owner?: Signer | { kind: 'ledger'; transport: LedgerTransportConfig };
  /** Device instructions (connect, open the app, verify on screen) for the UI. */
  onPrompt?: PromptListener;
  /**
   * The guardian: a Signer, or its account key with origin (`[fingerprint/48'/c'/0'/2']xpub`),
   * which signs by PSBT file export and import. Default on regtest: the software guardian;
   * elsewhere required.
   */
  guardian?: Signer | string;
  oracleOverrides?: unknown;
  params?: Partial<VaultParams>;
  /** Milliseconds since the epoch; tests control auction time with it. */
  clock?: () => number;
  /** Online backups of the database (default: hourly, keep 24, in <dataDir>/<network>/backups). */
  backups?: { intervalMs?: number; keep?: number; dir?: string } | false;
  onProgress?: (line: string) => void;
  /** Where background failures are logged (the hosts pass their pino logger). */
  logger?: FailureLogger;
  /** How long a reviewed spend waits for its signature (default 15 minutes). */
  draftTtlMs?: number;
  /** Who may register an account: default open on regtest, invite codes elsewhere (SPEC §3). */
  registration?: Registration;
  /** How often every vault's accrued stability fee is booked (default hourly; SPEC §8.5). */
  feeSweepMs?: number;
}

/**
 * How often, between blocks, the mempool is looked at for a transaction the guardian sent from
 * their own wallet (one `getmempoolentry` per waiting request).
 */
const GUARDIAN_WATCH_MS = 5_000;

/** The Bitcoin node's reachability and tip, as last polled. */
export interface NodeStatus {
  online: boolean;
  height: number | null;
  tip: string | null;
  /** When the node was last asked (ms since the epoch). */
  checkedAt: number | null;
  /** Why it is offline, in words. */
  message: string | null;
}

/** The owner's signer from the options: a given Signer, a Ledger by transport, or (regtest) software. */
async function ownerSigner(
  options: BitStableNodeOptions,
  net: NetworkInfo,
  db: Sqlite,
): Promise<Signer> {
  const o = options.owner;
  if (o && typeof (o as Signer).signPsbt === 'function') return o as Signer;
  if (o && 'transport' in o) {
    const log = options.logger as { warn?: (obj: object, msg: string) => void } | undefined;
    return openLedgerOwnerSigner(o.transport, {
      network: net,
      registrations: new SqliteRegistrationStore(db),
      ...(options.onPrompt ? { onPrompt: options.onPrompt } : {}),
      ...(log?.warn ? { logger: { warn: (obj, msg) => log.warn!(obj, msg) } } : {}),
    });
  }
  return new SoftwareSigner({
    role: 'owner',
    network: net,
    secret: { mnemonic: await ensureSoftwareOwnerMnemonic(options.keyStore, net) },
  });
}

/** The guardian from the options: a Signer, an imported key (signs by file), or (regtest) software. */
async function guardianSigner(options: BitStableNodeOptions, net: NetworkInfo): Promise<Signer> {
  const g = options.guardian;
  if (typeof g === 'string') return new FileGuardianSigner(g.trim(), net);
  if (g) return g;
  if (net.name !== 'regtest') {
    throw new BitStableError(
      'INVALID_CONFIG',
      `On ${net.name} the guardian is an imported extended public key: give it with its origin, as [fingerprint/48'/${net.name === 'mainnet' ? 0 : 1}'/0'/2']xpub (headless: --guardian-key; desktop: BITSTABLE_GUARDIAN_KEY).`,
      { network: net.name },
    );
  }
  return new SoftwareSigner({
    role: 'guardian',
    network: net,
    secret: { seed: await ensureSoftwareGuardianSeed(options.keyStore, net) },
  });
}

/** The protocol node's store on PostgreSQL: a pool, migrated (once across instances starting together). */
async function openPostgresStore(
  url: string,
): Promise<{ store: Store; close: () => Promise<void>; postgres: string }> {
  const pool = openPostgres(url);
  try {
    await migratePostgres(pool);
  } catch (err) {
    await pool.end();
    throw err;
  }
  return { store: pgStore(pool), close: () => pool.end(), postgres: url };
}

/** The host's logger for the cluster's lines: warnings as warnings where it has them. */
function clusterLogger(logger: FailureLogger): ClusterLogger {
  const l = logger as FailureLogger & Partial<ClusterLogger>;
  return {
    info: (obj, msg) => l.info?.(obj, msg),
    warn: (obj, msg) => (l.warn ? l.warn(obj, msg) : l.error(obj as Record<string, unknown>, msg)),
  };
}

/** A running BitStable node for one network. */
export class BitStableNode {
  private chainTimer: NodeJS.Timeout | null = null;
  private checkpointTimer: NodeJS.Timeout | null = null;
  private stopBackups: (() => void) | null = null;
  private feeTimer: NodeJS.Timeout | null = null;
  /** When the mempool was last looked at for what the guardian sent (between blocks). */
  private guardianWatchedAt = 0;
  private feeSweepMs = 3_600_000;
  /** The node's clock (milliseconds since the epoch); tests run it ahead. */
  clock: () => number = Date.now;
  /** Redemptions of bsUSD for the collateral of the lowest-ratio vaults (SPEC §8.5). */
  redemptions!: RedemptionDesk;
  /** The stability pool: deposits that take auctions nobody else takes (SPEC §8.5). */
  pool!: StabilityPool;
  private backupOptions: BitStableNodeOptions['backups'] = undefined;
  private backupDir = '';
  private lastTip: string | null = null;
  private syncing: Promise<void> = Promise.resolve();
  /** Set from the start's own check, then by the background poll. */
  private status: NodeStatus = {
    online: false,
    height: null,
    tip: null,
    checkedAt: null,
    message: 'Not checked yet.',
  };
  /** Every background failure (sync, settlement, backup, health pass): logged, counted, shown. */
  readonly background: BackgroundErrors;
  /** Also told of every background failure (tests and soaks listen here). */
  onBackgroundError: (err: unknown) => void = () => {};
  /** Accounts, sign-in and sessions (SPEC §3). */
  accounts!: AccountService;
  /** The account of the wallet in this process (local mode). */
  localAccountId!: string;
  /** On PostgreSQL: this instance among the others (leader lock, events between them). */
  cluster: ClusterMember | null = null;
  private followTimer: NodeJS.Timeout | null = null;
  private joined: Promise<void> = Promise.resolve();
  private pollMs = 2_000;
  /** Changes of leadership, applied one after another. */
  private leadership: Promise<void> = Promise.resolve();
  private readonly remoteListeners = new Set<(event: RelayedEvent) => void>();

  private joinCluster(
    database: NonNullable<BitStableNodeOptions['database']>,
    logger: FailureLogger | undefined,
  ): void {
    const cluster = new ClusterMember(openPostgres(database.postgres, { max: 3 }), {
      ...(database.leaseRetryMs !== undefined ? { retryMs: database.leaseRetryMs } : {}),
      ...(logger ? { logger: clusterLogger(logger) } : {}),
      onLeading: (leading) => this.onLeading(leading),
      onEvent: (event) => {
        if (event.type === 'price.accepted' && !cluster.leading)
          void this.oracle.refresh().catch((err: unknown) => this.failed('follow', err));
        for (const l of this.remoteListeners) l(event);
      },
    });
    for (const type of CORE_EVENT_TYPES)
      this.bus.on(type, (payload) => cluster.publish({ type, payload }));
    this.cluster = cluster;
  }

  /** Receives the events other instances published (none without PostgreSQL). */
  onRemoteEvent(listener: (event: RelayedEvent) => void): () => void {
    this.remoteListeners.add(listener);
    return () => this.remoteListeners.delete(listener);
  }

  /** The health passes of accepted prices, queued one after another (see `start`). */
  healthPasses: Promise<void> = Promise.resolve();
  /** Regtest: the playground's accounts, and which one this machine's window acts as. */
  playground: PlaygroundAccounts | null = null;

  /** The node's storage ports (core/store/ports.ts) on its database. */
  get store(): Store {
    return this.data.store;
  }

  /** The PostgreSQL database the node keeps its data in, or null on SQLite (tests read it). */
  get postgresUrl(): string | null {
    return this.data.postgres ?? null;
  }

  /** What a call without an account of its own acts for: the window's current account. */
  activeAccountId(): string {
    return this.playground?.active ?? this.localAccountId;
  }

  /** True when the account's key is in this process (the node's own, or a playground one). */
  isHere(accountId: string | null): boolean {
    return this.playground ? this.playground.isHere(accountId) : accountId === this.localAccountId;
  }

  private constructor(
    readonly network: NetworkInfo,
    readonly params: VaultParams,
    readonly db: Sqlite,
    private readonly data: { store: Store; close: () => Promise<void>; postgres?: string },
    readonly bus: EventBus,
    readonly chain: CoreNode,
    readonly regtest: RegtestNode | null,
    readonly oracle: Oracle,
    readonly simulated: SimulatedSource | null,
    readonly vaults: VaultService,
    readonly operations: VaultOperations,
    readonly spends: SpendService,
    readonly tracker: SpendTracker,
    readonly liquidation: AuctionHouse,
    readonly keySetId: number,
    readonly signers: { owner: Signer; protocol: ProtocolSigner; guardian: Signer },
    logger: FailureLogger | null,
  ) {
    this.background = new BackgroundErrors(logger);
  }

  /** A background failure: recorded (log, count, /health) and passed to `onBackgroundError`. */
  failed(task: string, err: unknown, ids: Record<string, number> = {}): void {
    this.background.record(task, err, ids);
    this.onBackgroundError(err);
  }

  /** Opens the database, connects (or starts) the Bitcoin node, loads the keys, and starts nothing else. */
  static async start(options: BitStableNodeOptions): Promise<BitStableNode> {
    const net = networkInfo(options.network);
    const progress = options.onProgress ?? (() => {});
    const params: VaultParams = { ...net.defaults, ...options.params };
    checkPegParams(params);
    const dir = join(options.dataDir, net.name);
    const connection =
      options.bitcoin ?? (net.name === 'regtest' ? { kind: 'local-regtest' } : undefined);
    if (!connection) {
      throw new BitStableError(
        'INVALID_CONFIG',
        `Connect BitStable to a Bitcoin node for ${net.name} first.`,
        {},
      );
    }
    if (connection.kind === 'local-regtest' && net.name !== 'regtest') {
      throw new BitStableError('INVALID_CONFIG', 'A local node is only started for regtest.', {});
    }

    progress('Opening the database');
    // The app's folder and everything in it are this user's alone.
    privateDir(options.dataDir, {
      info: (obj, msg) =>
        (options.logger as { info?: PrivateLogger['info'] } | undefined)?.info?.(obj, msg),
    });
    const db = openDatabase(join(dir, 'bitstable.sqlite'), { backgroundCheckpoints: true });
    const bus = new EventBus();
    let regtest: RegtestNode | null = null;
    let data: { store: Store; close: () => Promise<void>; postgres?: string } | undefined;
    try {
      let rpc: RpcCaller;
      // Set once the vault service exists: a failover node must be told about every vault.
      let onSwitch: (() => Promise<void>) | null = null;
      if (connection.kind === 'local-regtest') {
        regtest = await RegtestNode.start({
          dataDir: join(dir, 'bitcoind'),
          ...(connection.bitcoind ? { bitcoind: connection.bitcoind } : {}),
          onProgress: progress,
        });
        rpc = regtest.rpc;
      } else if (connection.fallback) {
        rpc = new FailoverRpc([new RpcClient(connection.rpc), new RpcClient(connection.fallback)], {
          onSwitch: async () => {
            progress(`Switched to the Bitcoin node at ${rpc.url}`);
            await onSwitch?.();
          },
        });
      } else {
        rpc = new RpcClient(connection.rpc);
      }
      const chain = new CoreNode(
        rpc,
        connection.kind === 'rpc' ? connection.walletName : undefined,
        net.name === 'regtest' ? REGTEST_FEE_RATE_SAT_PER_KVB : null,
      );
      const info = await chain.chainInfo();
      if (info.chain !== net.coreChain) {
        throw new BitStableError(
          'WRONG_NETWORK',
          `The Bitcoin node is on ${info.chain}, but BitStable is set to ${net.name}.`,
          { nodeChain: info.chain, network: net.name },
        );
      }
      await chain.ensureWatchWallet();

      progress('Loading keys');
      const protocolKey = new SoftwareSigner({
        role: 'protocol',
        network: net,
        secret: { seed: await ensureProtocolSeed(options.keyStore, net) },
      });
      const owner = await ownerSigner(options, net, db);
      const guardian = await guardianSigner(options, net);

      // The storage ports every service takes (core/store/ports.ts), on this node's database.
      data = options.database
        ? await openPostgresStore(options.database.postgres)
        : { store: sqliteStore(db), close: async () => {} };
      const { store } = data;
      const { oracle, simulated } = createOracle({
        network: net.name,
        store,
        bus,
        overrides: options.oracleOverrides,
      });
      await oracle.ready();
      const freshPrice = (): Cents | null => {
        const s = oracle.current();
        return s.status === 'ok' ? s.priceCents : null;
      };
      const clock = options.clock ?? Date.now;
      // The stability fee from now on is the configured one; what accrued before, at the old.
      await store.transaction(
        async () => await setAnnualRate(store, net.name, params.stabilityFeeBps, clock()),
      );
      const accounts = new AccountService({
        store,
        nodeId: await ensureNodeId(store, net),
        registration: options.registration ?? (net.name === 'regtest' ? 'open' : 'invite'),
        clock,
      });
      const localAccountId = await adoptLocalAccount(
        store,
        accounts,
        await ensureAccountSecret(options.keyStore, net),
        clock(),
      );
      const vaults = new VaultService({
        defaultAccountId: () => localAccountId,
        store,
        node: chain,
        network: net,
        params,
        bus,
        freshPrice,
        clock,
        failed: (task, err, ids) => node.failed(task, err, ids),
        succeeded: (task) => node.background.succeeded(task),
      });
      onSwitch = async () => {
        await chain.ensureWatchWallet();
        await vaults.rewatchAll();
      };
      // Its range is imported below, once `node` exists to hear how the import went.
      const keySetId = await vaults.registerKeySet(
        {
          owner: keyExpression(await owner.accountKey()),
          protocol: keyExpression(await protocolKey.accountKey()),
          guardian: keyExpression(await guardian.accountKey()),
        },
        { importNow: false },
      );
      const signers = { owner, protocol: new ProtocolSigner(protocolKey, net), guardian };
      const spends = new SpendService({
        store,
        node: chain,
        network: net,
        params,
        bus,
        price: oracle,
        vaults,
        signers,
        clock,
        onProgress: progress,
        ...(options.draftTtlMs !== undefined ? { draftTtlMs: options.draftTtlMs } : {}),
      });
      const tracker = new SpendTracker(spends, { node: chain, params, clock });
      const operations = await VaultOperations.open({
        holder: localAccountId,
        store,
        network: net,
        params,
        bus,
        price: oracle,
        vaults,
        spends,
        clock,
      });
      const liquidation = new AuctionHouse({
        defaultTaker: localAccountId,
        store,
        node: chain,
        network: net,
        params,
        bus,
        price: oracle,
        vaults,
        spends,
        signers: { protocol: signers.protocol, guardian },
        clock,
        onError: (err, ids) => node.failed('settlement', err, ids),
        // On regtest the miner wallet stands in for the owner's everyday wallet.
        ...(regtest ? { fallbackReturnAddress: () => regtest!.miner.newAddress() } : {}),
      });
      // Every accepted (so fresh) price round runs a health pass; stale or held rounds run none,
      // and neither does any round while the Bitcoin node is unreachable: collateral cannot be
      // checked then, so no liquidation starts (the next round after it returns runs the pass).
      // The pass acts on the delayed price (SPEC §7; the current one on regtest): an owner sees a
      // crossing coming for the delay, and can act, before it is liquidated.
      // Passes run one after another, in the order of their rounds.
      bus.on('price.accepted', () => {
        const state = oracle.current();
        if (state.status !== 'ok' || !node.nodeStatus().online) return;
        const price = state.liquidationPriceCents;
        if (price === null) return; // no price is a delay old yet
        node.healthPasses = node.healthPasses.then(async () => {
          try {
            await liquidation.healthPass(price);
            node.background.succeeded('health-pass');
          } catch (err) {
            node.failed('health-pass', err);
          }
        });
      });
      const node = new BitStableNode(
        net,
        params,
        db,
        data,
        bus,
        chain,
        regtest,
        oracle,
        simulated,
        vaults,
        operations,
        spends,
        tracker,
        liquidation,
        keySetId,
        signers,
        options.logger ?? null,
      );
      node.accounts = accounts;
      node.localAccountId = localAccountId;
      if (options.database) node.joinCluster(options.database, options.logger);
      node.pool = new StabilityPool({ store, network: net, clock });
      node.redemptions = new RedemptionDesk({
        store,
        network: net,
        params,
        bus,
        price: oracle,
        vaults,
        spends,
        clock,
        feeRateSatPerKvB: () => liquidation.feeRateSatPerKvB(),
        onError: (err, ids) => node.failed('redemption-payout', err, ids),
      });
      if (net.name === 'regtest') {
        node.playground = await PlaygroundAccounts.open({
          store,
          accounts,
          keyStore: options.keyStore,
          network: net,
          ownId: localAccountId,
        });
      }
      node.status = {
        online: true,
        height: info.blocks,
        tip: info.bestBlockHash,
        checkedAt: Date.now(),
        message: null,
      };
      node.backupOptions = options.backups;
      node.clock = clock;
      if (options.feeSweepMs !== undefined) node.feeSweepMs = options.feeSweepMs;
      node.backupDir = (options.backups && options.backups.dir) || join(dir, 'backups');
      // A first sync that fails (the node busy, a settlement waiting for its guardian) must not
      // keep the app from starting; the background loop retries it.
      await liquidation.refreshFeeRate().catch((err: unknown) => node.failed('fee-rate', err));
      // Awaited, so a started node has no write of its own pending (its first vault is then a
      // database insert); a failure is reported and the next creation imports again.
      await vaults
        .watchAhead(keySetId)
        .catch((err: unknown) => node.failed('watch-range', err, { keySetId }));
      await node.sync().catch((err: unknown) => node.failed('sync', err));
      return node;
    } catch (err) {
      await regtest?.stop();
      await data?.close();
      db.close();
      throw err;
    }
  }

  /** Brings vaults and spends in line with the chain (one at a time). */
  sync(): Promise<void> {
    const run = async () => {
      await this.tracker.track();
      await this.vaults.syncDeposits();
      await this.liquidation.tick();
      // Owed redemption payouts whose transaction failed, was dropped or never made are sent.
      await this.redemptions.payOwed();
      // A settlement broadcast by the tick is tracked at once; when that pass sends or drops a
      // transaction (a spend a reorg evicted, sent again), the coins are read again, so the
      // collateral matches the chain when the sync returns.
      if ((await this.tracker.track()) > 0) await this.vaults.syncDeposits();
      this.background.succeeded('sync');
    };
    const next = this.syncing.then(run, run);
    this.syncing = next.catch(() => undefined);
    return next;
  }

  /**
   * Starts the background work: oracle rounds and chain polling (a sync on every new block), the
   * fee sweep and backups. On PostgreSQL only while this instance leads; a follower reads the
   * accepted price back and keeps the Bitcoin node's status (see core/app/cluster.ts).
   */
  startBackground(pollMs = 2_000): void {
    this.pollMs = pollMs;
    if (!this.cluster) return this.startLeading(pollMs);
    this.startFollowing(pollMs);
    this.joined = this.cluster.start().catch((err: unknown) => this.failed('cluster', err));
  }

  /**
   * Resolves once this instance listens for the others' events and has tried for the lead (at
   * once after `startBackground` without PostgreSQL): a host says it is up only after this, so
   * no event published in between is missed by its clients.
   */
  backgroundStarted(): Promise<void> {
    return this.joined;
  }

  /** The lease changed hands: lead, or follow again. */
  private onLeading(leading: boolean): void {
    this.leadership = this.leadership.then(async () => {
      if (leading) {
        this.stopFollowing();
        // What the last leader wrote: the price it accepted, the vaults it moved — and what it
        // may not have lived to announce.
        await this.oracle.refresh().catch(() => undefined);
        await this.liquidation.announceLive().catch((err: unknown) => this.failed('announce', err));
        this.startLeading(this.pollMs);
      } else {
        await this.stopLeading();
        this.startFollowing(this.pollMs);
      }
    });
  }

  private startFollowing(pollMs: number): void {
    if (this.followTimer) return;
    const follow = async () => {
      try {
        await this.oracle.refresh();
        await this.checkNodeStatus(pollMs);
        this.background.succeeded('follow');
      } catch (err) {
        this.failed('follow', err);
      }
    };
    this.followTimer = setInterval(() => void follow(), pollMs);
    this.followTimer.unref();
    void follow();
  }

  private stopFollowing(): void {
    if (this.followTimer) clearInterval(this.followTimer);
    this.followTimer = null;
  }

  /** Asks the Bitcoin node for its tip; the answer (or its absence) is the node status. */
  private async checkNodeStatus(pollMs: number): Promise<string | null> {
    try {
      // A short timeout: a stalled node must show as offline within seconds, not after 30 s.
      const info = await this.chain.chainInfo(Math.min(5_000, pollMs * 2));
      this.setNodeStatus({
        online: true,
        height: info.blocks,
        tip: info.bestBlockHash,
        checkedAt: Date.now(),
        message: null,
      });
      return info.bestBlockHash;
    } catch (err) {
      this.setNodeStatus({
        ...this.status,
        online: false,
        checkedAt: Date.now(),
        message: (err as Error).message,
      });
      return null;
    }
  }

  /** Stops what `startLeading` started and waits for work under way. */
  private async stopLeading(): Promise<void> {
    if (this.chainTimer) clearTimeout(this.chainTimer);
    if (this.checkpointTimer) clearInterval(this.checkpointTimer);
    if (this.feeTimer) clearInterval(this.feeTimer);
    this.stopBackups?.();
    this.stopBackups = null;
    this.chainTimer = this.checkpointTimer = this.feeTimer = null;
    await this.oracle.stop();
    await this.healthPasses;
    await this.syncing;
  }

  private startLeading(pollMs: number): void {
    this.oracle.start();
    const poll = async () => {
      const tip = await this.checkNodeStatus(pollMs);
      if (tip !== null && tip !== this.lastTip) {
        try {
          await this.sync();
          this.lastTip = tip;
        } catch (err) {
          this.failed('sync', err); // retried at the next poll, since lastTip did not move
        }
      } else if (tip !== null && Date.now() - this.guardianWatchedAt >= GUARDIAN_WATCH_MS) {
        // Between blocks: what the guardian sent from their own wallet, seen in the mempool.
        this.guardianWatchedAt = Date.now();
        try {
          await this.tracker.adoptSentByGuardian();
          this.background.succeeded('guardian-watch');
        } catch (err) {
          this.failed('guardian-watch', err);
        }
      }
      if (this.chainTimer) this.chainTimer = setTimeout(poll, pollMs);
    };
    this.chainTimer = setTimeout(poll, 0);
    // Automatic checkpoints are off (see openDatabase); copy the WAL back off the hot path.
    this.checkpointTimer = setInterval(() => checkpoint(this.db), 30_000);
    this.checkpointTimer.unref();
    this.feeTimer = setInterval(async () => {
      try {
        await this.sweepFees();
        this.background.succeeded('fee-sweep');
      } catch (err) {
        this.failed('fee-sweep', err);
      }
    }, this.feeSweepMs);
    this.feeTimer.unref();
    // On PostgreSQL only the leader gets here: one instance backs the database up.
    if (this.backupOptions !== false) {
      this.stopBackups = scheduleBackups(
        async () => ((await this.store.ops.isOpen()) ? await this.backupNow() : null),
        {
          intervalMs: this.backupOptions?.intervalMs ?? 3_600_000,
          onError: (err) => this.failed('backup', err),
          onBackup: () => this.background.succeeded('backup'),
        },
      );
    }
  }

  /**
   * Books every vault's accrued stability fee in one ledger entry (the timer does it hourly; a
   * vault's own fee is booked whenever it is touched). Returns how many vaults and cents.
   */
  async sweepFees(): Promise<{ vaults: number; cents: number }> {
    const ts = this.clock();
    return await this.store.transaction(
      async () => await sweepFees(this.store, this.network.name, ts),
    );
  }

  /** Takes a backup now (also what the schedule does); returns where it is. */
  backupNow(): Promise<BackupInfo> {
    const keep = (this.backupOptions && this.backupOptions.keep) || 24;
    return this.data.postgres
      ? backupPostgres(this.data.postgres, this.backupDir, keep)
      : backupDatabase(this.store, this.backupDir, keep);
  }

  /** The Bitcoin node as the background poll last saw it. */
  nodeStatus(): NodeStatus {
    return { ...this.status };
  }

  private setNodeStatus(next: NodeStatus): void {
    const changed = next.online !== this.status.online || next.height !== this.status.height;
    this.status = next;
    if (changed) {
      this.bus.emit('node.status', {
        online: next.online,
        height: next.height,
        ...(next.message ? { message: next.message } : {}),
      });
    }
  }

  /** Stops background work, the oracle, the regtest node it started, and closes the database. */
  async stop(): Promise<void> {
    this.stopFollowing();
    // Gives the lease up first: another instance leads at once, not after a timeout.
    await this.cluster?.stop().catch((err: unknown) => this.failed('cluster', err));
    await this.leadership;
    await this.stopLeading();
    await this.regtest?.stop();
    await this.data.close();
    if (this.db.open) {
      checkpoint(this.db, 'TRUNCATE');
      this.db.close();
    }
  }
}
