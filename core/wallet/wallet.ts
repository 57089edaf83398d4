/**
 * The wallet core (SPEC §1, §4): the user's side of BitStable. It holds the account key and the
 * owner's signer (a Ledger; on regtest a software key), keeps its own records, and believes the
 * protocol node only what it can check: the node's keys against the ones it pinned, each vault's
 * address against its own derivation, each PSBT against what the person asked for, the vault's
 * own script and (when it has one) its own Bitcoin node's view of every coin. Only then does the
 * owner sign; the signed PSBT is written down before it is handed back to the node.
 */
import { keyExpression } from '../bitcoin/keys';
import type { NetworkInfo } from '../config/networks';
import { BitStableError } from '../errors';
import type { Result } from '../api/contract';
import { toSats, type RpcCaller } from '../node/rpc';
import type { CoreNode } from '../node/bitcoin-node';
import { isDeviceSigner, type Signer } from '../signers/types';
import type { SpendKind } from '../spends/state';
import { recoveryKitOf, type KitVault } from '../vaults/recovery-kit';
import { vaultScript } from '../bitcoin/descriptor';
import { buildPsbt, finalizePsbt, planSpend, type VaultCoin } from '../psbt/build';
import { decodePsbt, inputsSignedBy, unsignedTxId, withSignaturesOf } from '../keys/psbt-keys';
import { checkSignedBy } from '../signers/guardian-file';
import {
  checkPinned,
  checkSpendPsbt,
  checkVaultAddress,
  vaultKeys,
  type CoinLookup,
  type PinnedKeys,
  type SpendRequest,
} from './checks';
import { ProtocolError, type ProtocolClient } from './protocol-client';
import type { AloneExit, WalletStore } from '../store/wallet';
import { OutageClock } from './outage';

export interface WalletCoreOptions {
  network: NetworkInfo;
  /** Where the protocol node is reached ('in-process' in local mode): what its keys are pinned by. */
  nodeUrl: string;
  store: WalletStore;
  client: ProtocolClient;
  /** The owner's signer: on the owner's machine only. */
  owner: Signer;
  /**
   * The wallet's own Bitcoin node (optional, recommended): every coin a PSBT spends is checked
   * against it, and the fee rate against its estimate. Without it, collateral figures come from
   * the protocol node unverified.
   */
  bitcoin?: {
    rpc: RpcCaller;
    feeRateSatPerKvB: () => Promise<number>;
    /** Its watch-only wallet for this wallet's vaults (made and filled by the wallet core). */
    watch?: CoreNode;
    /** Confirmations a deposit needs to count (the network's). */
    confirmations?: number;
  };
  clock?: () => number;
  /**
   * How long the protocol node must have been unreachable before the wallet builds an exit
   * alone (owner + guardian, from its own records and Bitcoin node). Default: 30 s on regtest,
   * an hour elsewhere.
   */
  exitAloneAfterMs?: number;
  /** Told of a device step that failed without failing the operation (logged by the host). */
  onDeviceError?: (err: unknown, during: string) => void;
}

/** The default wait before an exit without the protocol node is offered. */
export function defaultExitAloneAfterMs(network: NetworkInfo): number {
  return network.name === 'regtest' ? 30_000 : 3_600_000;
}

type Preview = Result<'vaults.previewWithdraw'>;
type PreviewKind = 'withdraw' | 'close' | 'emergency-exit' | 'sweep';

const PREVIEW_METHOD = {
  withdraw: 'vaults.previewWithdraw',
  close: 'vaults.previewClose',
  'emergency-exit': 'vaults.previewEmergencyExit',
  sweep: 'vaults.previewSweep',
} as const;

/** The highest fee rate a wallet without a Bitcoin node of its own signs: 200 sat/vB. */
export const MAX_FEE_RATE_WITHOUT_NODE_SAT_PER_KVB = 200_000;

export class WalletCore {
  private pins: PinnedKeys | null = null;
  /** Reviews made in this wallet, by spend id: what the person asked for and the PSBT shown. */
  private readonly reviews = new Map<number, { request: SpendRequest; psbt: string }>();
  private readonly now: () => number;
  /** Since when the protocol node has been unreliable; brief returns do not end an outage. */
  private readonly outage: OutageClock;
  private completing: Promise<unknown> = Promise.resolve();
  readonly exitAloneAfterMs: number;

  constructor(private readonly o: WalletCoreOptions) {
    this.now = o.clock ?? Date.now;
    this.exitAloneAfterMs = o.exitAloneAfterMs ?? defaultExitAloneAfterMs(o.network);
    // An outage ends once the node has answered for as long as the wait before an exit alone.
    this.outage = new OutageClock(this.exitAloneAfterMs, this.now);
  }

  /**
   * Starts from the keys pinned for this node when it does not answer (the wallet then has its
   * own records only); `connect` checks them again once it is back.
   */
  usePinned(): PinnedKeys {
    const pinned = this.o.store.pinned(this.o.nodeUrl);
    if (!pinned) {
      throw new BitStableError(
        'NODE_UNREACHABLE',
        `The protocol node at ${this.o.nodeUrl} does not answer, and this wallet has never connected to it.`,
        {},
      );
    }
    this.pins = pinned;
    return pinned;
  }

  /**
   * The connection to the protocol node dropped. The first drop starts the outage; a drop within
   * `exitAloneAfterMs` of the node's return continues it (see `OutageClock`).
   */
  nodeLost(): void {
    this.outage.lost();
  }

  /** False while the protocol node does not answer. */
  get nodeReachable(): boolean {
    return this.outage.answering;
  }

  /** The node answers again with the pinned keys; the outage ends once it has stayed so. */
  nodeBack(): void {
    this.outage.back();
  }

  /** The network this wallet is on. */
  get network(): NetworkInfo {
    return this.o.network;
  }

  /** The node this wallet is connected to, with its keys pinned (after `connect`). */
  get node(): PinnedKeys {
    if (!this.pins)
      throw new BitStableError('INVALID_STATE', 'Connect to the protocol node first.', {});
    return this.pins;
  }

  /** True when collateral and coins are checked against the wallet's own Bitcoin node. */
  get verifiesCoins(): boolean {
    return this.o.bitcoin !== undefined;
  }

  /**
   * Asks the node who it is; pins its protocol and guardian keys on the first connection and
   * refuses a node that shows other keys later (NODE_KEYS_CHANGED).
   */
  async connect(): Promise<PinnedKeys> {
    const info = await this.o.client.call('node.info', {});
    if (info.network !== this.o.network.name) {
      throw new BitStableError(
        'WRONG_NETWORK',
        `The protocol node is on ${info.network}; this wallet is on ${this.o.network.name}.`,
        { node: info.network },
      );
    }
    const shown: PinnedKeys = {
      nodeId: info.nodeId,
      protocolKey: info.protocolKey,
      guardianKey: info.guardianKey,
    };
    const pinned = this.o.store.pinned(this.o.nodeUrl);
    if (pinned && pinned.nodeId !== shown.nodeId) {
      throw new BitStableError(
        'NODE_KEYS_CHANGED',
        `${this.o.nodeUrl} now answers as protocol node ${shown.nodeId}, not the ${pinned.nodeId} this wallet pinned there. Nothing was changed; ask the operator why before you go on.`,
        { pinned: pinned.nodeId, shown: shown.nodeId },
      );
    }
    if (pinned) checkPinned(pinned, shown);
    else this.o.store.pin(this.o.nodeUrl, shown, this.now());
    this.pins = pinned ?? shown;
    return this.pins;
  }

  /** The owner key as given to the node: `[fingerprint/48'/c'/0'/2']xpub`. */
  async ownerKey(): Promise<string> {
    return keyExpression(await this.o.owner.accountKey());
  }

  /**
   * Creates a vault on the owner's key: the node answers with its descriptor and address, the
   * wallet derives both itself from the three keys and refuses a mismatch (ADDRESS_MISMATCH);
   * only a checked vault is recorded.
   */
  async createVault(input: {
    label?: string;
    returnAddress?: string;
    plannedDepositSats?: number;
  }): Promise<Result<'vaults.create'>> {
    const pins = this.node;
    const ownerKey = await this.ownerKey();
    const vault = await this.o.client.call('vaults.create', { ...input, ownerKey });
    const keys = vaultKeys(ownerKey, pins, this.o.network);
    checkVaultAddress(keys, vault.index, this.o.network, vault);
    const reused = this.o.store
      .vaults(pins.nodeId)
      .find(
        (v) => v.address === vault.address || (v.ownerKey === ownerKey && v.index === vault.index),
      );
    if (reused) {
      throw new BitStableError(
        'ADDRESS_MISMATCH',
        `The protocol node gave vault index ${vault.index} (${vault.address}), which your vault #${reused.vaultId} already uses. An address is never used twice; nothing was stored.`,
        { index: vault.index, address: vault.address, vaultId: reused.vaultId },
      );
    }
    // Its own node watches the vault from now on (a new address: nothing to rescan).
    await this.o.bitcoin?.watch?.importDescriptors([
      { desc: vault.descriptor, label: `bitstable-vault-${vault.id}`, timestamp: 'now' },
    ]);
    this.o.store.addVault(
      {
        nodeId: pins.nodeId,
        vaultId: vault.id,
        ownerKey,
        index: vault.index,
        address: vault.address,
        descriptor: vault.descriptor,
      },
      this.now(),
    );
    // The first vault of a key set registers its policy on the owner's Ledger (the device lists
    // all three keys for the owner to check; later vaults of the set find it registered). The
    // vault is made and recorded whatever the device says: a registration refused or cut off
    // here is asked again at "Show on Ledger" or at the first signature.
    const { owner } = this.o;
    if (isDeviceSigner(owner) && !(await owner.isRegistered(keys))) {
      try {
        await owner.registerVault(keys);
      } catch (err) {
        this.o.onDeviceError?.(err, `registering vault #${vault.id}'s policy`);
      }
    }
    return vault;
  }

  /**
   * Shows a vault's address on the owner's Ledger (derived there from the registered policy)
   * for the owner to compare; refuses if the device derives another. A software owner key has
   * no screen: the owner compares with the recovery kit instead.
   */
  async showAddress(vaultId: number): Promise<Result<'vaults.showAddress'>> {
    const vault = this.vaultRecord(vaultId);
    const { owner } = this.o;
    if (!isDeviceSigner(owner)) {
      return {
        shown: false,
        address: vault.address,
        deviceAddress: null,
        message:
          'The owner key is a software key with no screen of its own. Compare the address with the one in your recovery kit.',
      };
    }
    const keys = vaultKeys(vault.ownerKey, this.node, this.o.network);
    const check = await owner.vaultAddress(keys, vault.index, { display: true });
    if (check.address !== vault.address) {
      throw new BitStableError(
        'ADDRESS_MISMATCH',
        `Vault #${vaultId}'s address in this wallet (${vault.address}) is not the one its keys give (${check.address}). Do not deposit to it.`,
        { vaultId, address: vault.address, derived: check.address },
      );
    }
    return {
      shown: true,
      address: vault.address,
      deviceAddress: check.deviceAddress,
      message: 'The Ledger derived the same address.',
    };
  }

  /** Reviews a spend at the node and remembers what was asked, to check the PSBT against it. */
  async preview(
    kind: PreviewKind,
    vaultId: number,
    destination: string,
    amountSats?: number,
  ): Promise<Preview> {
    this.vaultRecord(vaultId);
    const preview =
      kind === 'withdraw'
        ? await this.o.client.call(PREVIEW_METHOD.withdraw, {
            vaultId,
            destination,
            amountSats: amountSats!,
          })
        : await this.o.client.call(PREVIEW_METHOD[kind], { vaultId, destination });
    this.reviews.set(preview.spendId, {
      request: {
        kind: kind as SpendKind,
        vaultId,
        destination,
        ...(kind === 'withdraw' ? { amountSats: amountSats! } : {}),
        feeSats: preview.feeSats,
      },
      psbt: preview.psbtBase64,
    });
    return preview;
  }

  /**
   * Signs a spend reviewed in this wallet: checks the PSBT (inputs, outputs, fee; coins against
   * its own node), has the owner sign, writes the signed PSBT down, then hands it to the node,
   * which decides and co-signs. Any failed check signs nothing and stores nothing as signed.
   */
  async sign(vaultId: number, spendId: number): Promise<Result<'vaults.submitSigned'>> {
    const pins = this.node;
    const vault = this.vaultRecord(vaultId);
    const review = this.reviews.get(spendId);
    if (!review || review.request.vaultId !== vaultId) {
      throw new BitStableError(
        'INVALID_ARGUMENT',
        `Transaction #${spendId} was not reviewed in this wallet; review it here first.`,
        { spendId },
      );
    }
    const keys = vaultKeys(vault.ownerKey, pins, this.o.network);
    // Without a node of its own, the fee rate still has a ceiling: the node's word is not enough.
    const options: Parameters<typeof checkSpendPsbt>[5] = {
      maxFeeRateSatPerKvB: MAX_FEE_RATE_WITHOUT_NODE_SAT_PER_KVB,
    };
    if (this.o.bitcoin) {
      options.lookup = this.coinLookup();
      options.maxFeeRateSatPerKvB = 2 * (await this.o.bitcoin.feeRateSatPerKvB());
    }
    await checkSpendPsbt(review.psbt, vault, keys, review.request, this.o.network, options);

    const signed = await this.o.owner.signPsbt(review.psbt, {
      keys: { owner: keys.owner, protocol: keys.protocol, guardian: keys.guardian },
      purpose: `${review.request.kind} from vault #${vaultId}`,
      vaultId,
    });
    this.o.store.recordSigned(
      pins.nodeId,
      spendId,
      vaultId,
      review.request.kind,
      signed,
      this.now(),
    );
    try {
      const result = await this.o.client.call('vaults.submitSigned', {
        vaultId,
        spendId,
        psbtBase64: signed,
      });
      this.o.store.settleSigned(pins.nodeId, spendId, 'accepted', result.txid, null);
      this.reviews.delete(spendId);
      return result;
    } catch (err) {
      // A refusal is final (the node said so); a lost connection leaves it `submitted`, to be
      // looked up again: the node may have co-signed and sent it.
      if (
        err instanceof ProtocolError &&
        err.code !== 'NODE_UNREACHABLE' &&
        err.code !== 'NODE_TIMEOUT'
      )
        this.o.store.settleSigned(pins.nodeId, spendId, 'refused', null, err.message);
      throw err;
    }
  }

  /**
   * The vault's coins as the wallet's own Bitcoin node sees them, beside what the protocol node
   * says: null without a node of its own (the figures are then the protocol node's, unverified).
   */
  async ownView(vault: {
    id: number;
    address: string;
    collateralSats: number;
    incomingSats: number;
  }): Promise<{
    collateralSats: number;
    incomingSats: number;
    agrees: boolean;
    checkedAt: number;
  } | null> {
    const watch = this.o.bitcoin?.watch;
    if (!watch || !this.o.store.vault(this.node.nodeId, vault.id)) return null;
    const need = this.o.bitcoin?.confirmations ?? 1;
    let collateralSats = 0;
    let incomingSats = 0;
    for (const u of await watch.listWatchedUtxos()) {
      if (u.address !== vault.address) continue;
      if (u.confirmations >= need) collateralSats += u.amountSats;
      else incomingSats += u.amountSats;
    }
    // A spend the node sent but that is not yet confirmed leaves change the node already counts:
    // compare the total, so that only coins that are not there (or not the node's) disagree.
    const agrees =
      collateralSats + incomingSats === vault.collateralSats + vault.incomingSats ||
      collateralSats === vault.collateralSats;
    return { collateralSats, incomingSats, agrees, checkedAt: this.now() };
  }

  /**
   * The recovery kit from this wallet's own records (SPEC §4): one key set per owner key its
   * vaults on this node use (the one in use now first, even before its first vault), each its
   * owner key with the pinned protocol and guardian keys, with every vault it holds.
   */
  async recoveryKit() {
    const pins = this.node;
    const bySet = new Map<string, KitVault[]>([[await this.ownerKey(), []]]);
    for (const v of this.o.store.vaults(pins.nodeId)) {
      const list = bySet.get(v.ownerKey) ?? [];
      list.push({
        index: v.index,
        address: v.address,
        label: null,
        createdAt: v.createdAt ?? null,
      });
      bySet.set(v.ownerKey, list);
    }
    const sets = [...bySet].map(([ownerKey, vaults]) => ({
      keys: vaultKeys(ownerKey, pins, this.o.network),
      vaults,
    }));
    return recoveryKitOf(sets, this.o.network);
  }

  /** Every PSBT this wallet signed on the connected node and what became of it. */
  signed() {
    return this.o.store.signedList(this.node.nodeId);
  }

  /**
   * Asks the node about every signed PSBT whose answer was lost (the node stopped, the
   * connection dropped): sent → accepted with its txid; abandoned or expired → refused, saying
   * that nothing was sent. One still in flight stays `submitted` for the next time.
   */
  async reconcile(): Promise<{ accepted: number; refused: number; open: number }> {
    const counts = { accepted: 0, refused: 0, open: 0 };
    const nodeId = this.node.nodeId;
    for (const r of this.o.store.signedList(nodeId).filter((x) => x.outcome === 'submitted')) {
      const s = await this.o.client.call('spends.get', { spendId: r.spendId });
      if (['broadcast', 'confirmed', 'signed', 'awaiting-guardian'].includes(s.state)) {
        this.o.store.settleSigned(nodeId, r.spendId, 'accepted', s.txid, null);
        counts.accepted++;
      } else if (['abandoned', 'expired', 'cancelled'].includes(s.state)) {
        this.o.store.settleSigned(
          nodeId,
          r.spendId,
          'refused',
          null,
          `The protocol node stopped before it co-signed transaction #${r.spendId}; it was ${s.state} and nothing was sent. Review it again.`,
        );
        counts.refused++;
      } else counts.open++;
    }
    return counts;
  }

  /**
   * What the wallet can do without the protocol node: whether it is reachable (and since when
   * not), whether an exit alone may be built yet, its vaults' coins as its own Bitcoin node sees
   * them, and the exits it built.
   */
  async alone() {
    const pins = this.node;
    const outage = this.outage.state;
    const since = outage?.since ?? null;
    const waited = this.outage.lastedMs;
    // Offered through the node's brief returns too: a flapping node cannot hold the exit back.
    const ready =
      this.o.bitcoin?.watch !== undefined && since !== null && waited >= this.exitAloneAfterMs;
    const settleS = Math.ceil(this.exitAloneAfterMs / 1000);
    const reason = !this.o.bitcoin?.watch
      ? 'An exit without the protocol node needs a Bitcoin node of your own (BITSTABLE_RPC_URL): your coins are checked and the exit is sent through it.'
      : since === null
        ? 'The protocol node is reachable: use the emergency exit on the vault page, which the node records.'
        : outage?.backAt != null
          ? `The protocol node answers again, but it has dropped out for ${Math.floor(waited / 1000)} s with brief returns; it counts as back once it has answered for ${settleS} s without a break${ready ? ', and until then the exit without it stays on offer' : ''}.`
          : ready
            ? 'The protocol node has not answered for a while: you can build an exit from your own records, sign it with your owner key, and have the guardian co-sign it.'
            : `The protocol node has not answered for ${Math.floor(waited / 1000)} s; an exit without it is offered after ${settleS} s.`;
    const coins = this.o.bitcoin?.watch ? await this.o.bitcoin.watch.listWatchedUtxos() : null;
    // What an exit takes: every coin with a confirmation (the owner's own exit needs no more).
    const need = 1;
    const ownerKey = await this.ownerKey();
    // An exit the guardian (or anyone holding both signatures) sent is seen on the chain.
    for (const e of this.o.store.aloneExits(pins.nodeId))
      if (e.state !== 'broadcast') await this.adoptIfSent(e);
    return {
      nodeReachable: this.outage.answering,
      unreachableSinceMs: since,
      exitAloneAfterMs: this.exitAloneAfterMs,
      ready,
      reason,
      vaults: this.o.store
        .vaults(pins.nodeId)
        .filter((v) => v.ownerKey === ownerKey)
        .map((v) => {
          const mine = (coins ?? []).filter((u) => u.address === v.address);
          return {
            vaultId: v.vaultId,
            index: v.index,
            address: v.address,
            collateralSats:
              coins === null
                ? null
                : mine.filter((u) => u.confirmations >= need).reduce((t, u) => t + u.amountSats, 0),
            incomingSats:
              coins === null
                ? null
                : mine.filter((u) => u.confirmations < need).reduce((t, u) => t + u.amountSats, 0),
          };
        }),
      exits: this.o.store.aloneExits(pins.nodeId),
    };
  }

  /**
   * Builds an emergency exit alone (SPEC §6, owner + guardian) when the protocol node has been
   * unreachable for `exitAloneAfterMs`: every confirmed coin of the vault, as the wallet's own
   * Bitcoin node sees it, to `destination`, at its own node's fee rate. The owner signs here;
   * the signed PSBT is written down before it is returned for the guardian.
   */
  exitAlone(vaultId: number, destination: string): Promise<AloneExit> {
    // One at a time with completions and abandons: two at once cannot both pass the check below.
    return this.aloneLocked(() => this.exitAloneNow(vaultId, destination.trim()));
  }

  private async exitAloneNow(vaultId: number, destination: string): Promise<AloneExit> {
    const status = await this.alone();
    if (!status.ready) {
      throw new BitStableError(
        this.o.bitcoin?.watch ? 'INVALID_STATE' : 'OWN_NODE_REQUIRED',
        status.reason,
        { vaultId },
      );
    }
    const pins = this.node;
    const vault = this.vaultRecord(vaultId);
    const waiting = status.exits.find(
      (e) => e.vaultId === vaultId && e.state === 'awaiting-guardian',
    );
    if (waiting) {
      throw new BitStableError(
        'AWAITING_GUARDIAN',
        `Exit #${waiting.exitId} of vault #${vaultId} already waits for the guardian. Abandon it first to build another.`,
        { vaultId, exitId: waiting.exitId },
      );
    }
    if (this.o.store.vaults(pins.nodeId).some((v) => v.address === destination)) {
      throw new BitStableError(
        'INVALID_ADDRESS',
        'That is the address of one of your vaults: an exit pays an address of your own wallet, outside BitStable.',
        { vaultId },
      );
    }
    const keys = vaultKeys(vault.ownerKey, pins, this.o.network);
    const script = vaultScript(keys, vault.index, this.o.network);
    if (script.address !== vault.address) {
      throw new BitStableError(
        'ADDRESS_MISMATCH',
        `Your records say vault #${vaultId} is ${vault.address}, but its keys make ${script.address}. Nothing was signed.`,
        { vaultId },
      );
    }
    const watch = this.o.bitcoin!.watch!;
    const coins: VaultCoin[] = [];
    for (const u of await watch.listWatchedUtxos()) {
      if (u.address !== vault.address || u.confirmations < 1) continue;
      coins.push({
        txid: u.txid,
        vout: u.vout,
        amountSats: u.amountSats,
        prevTxHex: await watch.transactionHex(u.txid),
      });
    }
    const source = {
      vaultId,
      script,
      coins,
      net: this.o.network,
      feeRateSatPerKvB: await this.o.bitcoin!.feeRateSatPerKvB(),
    };
    // Validates the destination (INVALID_ADDRESS) and the amounts before anything is signed.
    const plan = planSpend(source, 'emergency-exit', [], destination);
    const unsigned = buildPsbt(plan, source).toBase64();
    const signed = await this.o.owner.signPsbt(unsigned, {
      keys: { owner: keys.owner, protocol: keys.protocol, guardian: keys.guardian },
      purpose: `emergency exit of vault #${vaultId} without the protocol node`,
      vaultId,
    });
    if (inputsSignedBy(decodePsbt(signed), keys.owner.fingerprint) !== plan.inputs.length) {
      throw new BitStableError(
        'SIGNER_REFUSED',
        'The owner key did not sign every input of the exit.',
        { vaultId },
      );
    }
    const exitId = this.o.store.addAloneExit(
      pins.nodeId,
      {
        vaultId,
        destination,
        amountSats: plan.outputs[plan.outputs.length - 1]!.amountSats,
        feeSats: plan.feeSats,
        psbtBase64: signed,
        unsignedTxid: unsignedTxId(decodePsbt(signed)),
      },
      this.now(),
    );
    return this.o.store.aloneExit(pins.nodeId, exitId)!;
  }

  /**
   * Completes an exit built alone with the guardian's signed PSBT: the same transaction, a valid
   * guardian signature on every input; only those signatures are taken into the wallet's own
   * copy, which is finalized and sent through the wallet's own Bitcoin node. Sent once.
   */
  completeExitAlone(exitId: number, signedByGuardian: string): Promise<AloneExit> {
    // One completion at a time: a second, at once, finds the exit sent and sends nothing.
    return this.aloneLocked(() => this.completeExitAloneNow(exitId, signedByGuardian));
  }

  /**
   * Gives up an exit that waits for the guardian (a wrong destination, a fee too low). The PSBT
   * the owner signed stays valid: a guardian who signs and sends it anyway still can; the page
   * says so, and the exit is then seen on the chain as the vault's coins leaving.
   */
  abandonExitAlone(exitId: number): Promise<AloneExit> {
    return this.aloneLocked(async () => {
      const pins = this.node;
      const exit = this.requireExit(exitId);
      if (exit.state !== 'awaiting-guardian') {
        throw new BitStableError(
          'SPEND_STATE_CHANGED',
          `Exit #${exitId} is ${exit.state}; only one that waits for the guardian can be abandoned.`,
          { exitId, state: exit.state },
        );
      }
      if (await this.adoptIfSent(exit)) return this.requireExit(exitId);
      this.o.store.aloneExitAbandoned(pins.nodeId, exitId);
      return this.requireExit(exitId);
    });
  }

  private aloneLocked<T>(work: () => Promise<T>): Promise<T> {
    const run = this.completing.then(work);
    this.completing = run.catch(() => undefined);
    return run;
  }

  private requireExit(exitId: number): AloneExit {
    const exit = this.o.store.aloneExit(this.node.nodeId, exitId);
    if (!exit) {
      throw new BitStableError('SPEND_NOT_FOUND', `There is no exit #${exitId} in this wallet.`, {
        exitId,
      });
    }
    return exit;
  }

  /**
   * An exit already in the mempool or a block (the guardian sent it, or this wallet stopped
   * between sending and writing it down) is recorded as sent, and not sent again.
   */
  private async adoptIfSent(exit: AloneExit): Promise<boolean> {
    const watch = this.o.bitcoin?.watch;
    if (!watch) return false;
    const seen =
      (await watch.inMempool(exit.unsignedTxid)) ||
      (await watch.confirmations(exit.unsignedTxid)) >= 0;
    if (seen) this.o.store.aloneExitSent(this.node.nodeId, exit.exitId, exit.unsignedTxid);
    return seen;
  }

  private async completeExitAloneNow(exitId: number, signedByGuardian: string): Promise<AloneExit> {
    const pins = this.node;
    const exit = this.requireExit(exitId);
    if (exit.state === 'broadcast') return exit;
    if (exit.state === 'abandoned') {
      throw new BitStableError(
        'SPEND_STATE_CHANGED',
        `Exit #${exitId} was abandoned in this wallet; build a new one.`,
        { exitId },
      );
    }
    const watch = this.o.bitcoin?.watch;
    if (!watch) {
      throw new BitStableError(
        'OWN_NODE_REQUIRED',
        'Sending the exit needs your own Bitcoin node.',
        { exitId },
      );
    }
    const vault = this.vaultRecord(exit.vaultId);
    const keys = vaultKeys(vault.ownerKey, pins, this.o.network);
    const imported = checkSignedBy(
      keys.guardian,
      'the guardian',
      this.o.network,
      signedByGuardian,
      exit.unsignedTxid,
      exit.psbtBase64,
      "The guardian's PSBT",
      { exitId },
    );
    const base = decodePsbt(exit.psbtBase64);
    const inputs = base.data.inputs.length;
    if (imported.signedInputs.length !== inputs) {
      throw new BitStableError(
        'PSBT_INVALID',
        `The guardian signed ${imported.signedInputs.length} of the exit's ${inputs} inputs; every input needs their signature. Nothing was sent.`,
        { exitId },
      );
    }
    // Only the guardian's partial signatures go into the wallet's own copy. A guardian wallet
    // that added the second signature may have finalized the inputs instead (Bitcoin Core and
    // Sparrow do): that witness was checked above to carry the guardian's valid signature on
    // this very transaction, and the node's mempool check below verifies all of it.
    const merged = withSignaturesOf(base, decodePsbt(imported.psbt), keys.guardian.fingerprint);
    const copies =
      inputsSignedBy(merged, keys.guardian.fingerprint) === inputs
        ? [merged.toBase64()]
        : [exit.psbtBase64, imported.psbt];
    const { txHex, txid } = finalizePsbt(copies, this.o.network);
    if (await this.adoptIfSent(exit)) return this.requireExit(exitId);
    await watch.testMempoolAccept(txHex);
    await watch.broadcast(txHex);
    this.o.store.aloneExitSent(pins.nodeId, exitId, txid);
    return this.o.store.aloneExit(pins.nodeId, exitId)!;
  }

  /** A vault of this wallet's records on the connected node (VAULT_NOT_FOUND otherwise). */
  private vaultRecord(vaultId: number) {
    const v = this.o.store.vault(this.node.nodeId, vaultId);
    if (!v) {
      throw new BitStableError(
        'VAULT_NOT_FOUND',
        `Vault #${vaultId} is not one this wallet created on this node.`,
        { vaultId },
      );
    }
    return v;
  }

  /** A coin as the wallet's own Bitcoin node sees it (unspent, with its script and amount). */
  private coinLookup(): CoinLookup {
    const rpc = this.o.bitcoin!.rpc;
    return async (txid, vout) => {
      const out = await rpc.call<{
        value: unknown;
        scriptPubKey: { hex: string };
      } | null>('gettxout', [txid, vout, true]);
      if (!out) return null;
      return { amountSats: toSats(out.value), script: Buffer.from(out.scriptPubKey.hex, 'hex') };
    };
  }
}
