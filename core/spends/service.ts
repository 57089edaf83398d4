/**
 * Spends of a vault's coins (SPEC §6): withdraw, close, emergency exit, sweep and auction
 * settlements — reviewed, stored, signed by two of the three keys, then sent.
 *
 * What you review is what you sign: a preview stores the draft (plan and unsigned PSBT) and
 * returns its id; signing names that id and signs exactly that PSBT, or refuses with a code that
 * says what changed. The protocol co-signer decides at signing time: the facts it checks (state,
 * debt, coins, a fresh price, the node's fee rate) are read again inside the database transaction
 * that records its signature, so no mint, price move or other spend can slip in between.
 *
 * Crash safety: the complete transaction is stored before it is broadcast; a restart sends the
 * same one again (the tracker) and never builds a second.
 */
import { randomUUID } from 'node:crypto';
import type { NetworkInfo, VaultParams } from '../config/networks';
import { BitStableError } from '../errors';
import type { EventBus } from '../events/bus';
import { faultPoint } from '../fault';
import { decodePsbt, inputsSignedBy, withSignaturesOf } from '../keys/psbt-keys';
import { sats, type Cents, type Sats } from '../money';
import type { BitcoinNode } from '../node/bitcoin-node';
import { requireCollateralPrice, type PriceFeed } from '../oracle/feed';
import {
  buildPsbt,
  finalizePsbt,
  planRedemptionPayout,
  planSettlement,
  planSpend,
  type Payment,
  type SpendPlan,
  type SpendSource,
  type VaultCoin,
} from '../psbt/build';
import { outputScript } from '../psbt/fees';
import { checkSameTransaction } from '../psbt/verify';
import { vaultScript } from '../bitcoin/descriptor';
import { checkSignedBy, FileGuardianSigner, unsignedTxIdOf } from '../signers/guardian-file';
import { checkPlanPolicy, type ProtocolSigner, type SpendFacts } from '../signers/protocol';
import { requestSignature, type SignContext, type Signer } from '../signers/types';
import { writeOffDebt } from '../vaults/debt';
import { accrueVault, debtNow } from '../vaults/fee-book';
import { collateralRatioBps } from '../vaults/health';
import type { VaultService } from '../vaults/vault-service';
import type { Vault } from '../vaults/vault-store';
import {
  endLiquidationWithoutCoins,
  markLiquidationSettled,
  reopenLiquidation,
} from '../liquidation/settlement-state';
import type { Store } from '../store/ports';
import type { SpendEffect, SpendEvent, SpendKind } from './state';
import { SpendStore, type SpendPatch, type SpendRow } from './store';

export interface SpendServiceDeps {
  store: Store;
  node: BitcoinNode;
  network: NetworkInfo;
  params: VaultParams;
  bus: EventBus;
  price: PriceFeed;
  vaults: VaultService;
  signers: { owner: Signer; protocol: ProtocolSigner; guardian: Signer };
  clock?: () => number;
  /** How long a reviewed draft waits for its signature (default 15 minutes). */
  draftTtlMs?: number;
  /** Progress lines for long work (signing, broadcasting). */
  onProgress?: (line: string) => void;
}

/** What a signature produced: sent, or kept until the guardian's signed file comes back. */
export interface SpendResult {
  spendId: number;
  /** The transaction's id; for one awaiting the guardian, the id it will have (segwit). */
  txid: string;
  plan: SpendPlan;
  state: 'broadcast' | 'awaiting-guardian';
}

/** A reviewed spend: stored as a draft, nothing signed yet. */
export interface SpendPreview {
  spendId: number;
  /** When the draft expires unsigned and frees the vault. */
  expiresAt: number | null;
  vault: Vault;
  plan: SpendPlan;
  destination: string;
  /** The collateral ratio after the spend at the fresh price; null without debt. */
  ratioAfterBps: number | null;
  /** The unsigned PSBT, for export to any standard signer. */
  psbtBase64: string;
  source: SpendSource;
  facts: SpendFacts;
}

/** A spend waiting for the guardian's signature, for export as a PSBT file. */
export interface GuardianRequest {
  spendId: number;
  vaultId: number;
  kind: SpendKind;
  /** The PSBT to give the guardian (base64), with the first key's signatures. */
  psbtBase64: string;
  txid: string;
  feeSats: Sats;
  outputs: { address: string; amountSats: Sats }[];
  /** The vault's debt now: the guardian sees what is owed before signing. */
  debtCents: Cents;
  createdAt: number;
}

/** Which two keys sign a spend, the first one first. */
const PAIRS: Record<SpendKind, 'owner+protocol' | 'owner+guardian' | 'protocol+guardian'> = {
  withdraw: 'owner+protocol',
  close: 'owner+protocol',
  sweep: 'owner+protocol',
  'emergency-exit': 'owner+guardian',
  settlement: 'protocol+guardian',
  redemption: 'protocol+guardian',
};

/** The vault states each kind of spend is made from. */
const FROM_STATES: Record<SpendKind, readonly Vault['state'][]> = {
  withdraw: ['active', 'warning'],
  close: ['active', 'warning'],
  'emergency-exit': ['active', 'warning'],
  sweep: ['closed', 'liquidated'],
  settlement: ['liquidating'],
  // A payout owed before an auction started is still paid (the settlement waits for it).
  redemption: ['active', 'warning', 'liquidating'],
};

const DEFAULT_DRAFT_TTL_MS = 15 * 60_000;

export class SpendService {
  readonly store: SpendStore;
  /** This process, as written on the spends it signs (a restart abandons a dead one's). */
  readonly instance = randomUUID();
  private readonly now: () => number;
  /** Events to send once the transaction that caused them has committed. */
  private readonly after: (() => void)[] = [];

  constructor(private readonly deps: SpendServiceDeps) {
    this.now = deps.clock ?? Date.now;
    this.store = new SpendStore(
      deps.store,
      this.now,
      async (effect, spend, ts) => await this.applyEffect(effect, spend, ts),
    );
  }

  // ── Review ────────────────────────────────────────────────────────────────────────────────

  /**
   * The review step of a withdrawal: the planned transaction, its fee and the ratio after, stored
   * as a draft — refused here, before anything is signed, if the ratio would fall under 150 %.
   */
  async previewWithdraw(
    vaultId: unknown,
    amountSats: unknown,
    destination: unknown,
  ): Promise<SpendPreview> {
    const amount = sats(amountSats);
    if (amount === 0) throw new BitStableError('INVALID_AMOUNT', 'Withdraw more than 0 sats.', {});
    return this.review(vaultId, 'withdraw', destination, (vault, source, dest) => {
      const price = vault.debtCents > 0 ? requireCollateralPrice(this.deps.price.current()) : null;
      const plan = planSpend(
        source,
        'withdraw',
        [{ address: dest, amountSats: amount }],
        vault.address,
      );
      const ratioAfterBps =
        price === null
          ? null
          : collateralRatioBps(plan.outputs[1]!.amountSats, vault.debtCents, price)!;
      if (ratioAfterBps !== null) this.requireRatio(ratioAfterBps, 'Withdrawing that much');
      return { plan, ratioAfterBps };
    });
  }

  /** The review step of closing a vault with no debt. */
  previewClose(vaultId: unknown, destination: unknown): Promise<SpendPreview> {
    return this.review(vaultId, 'close', destination, (vault, source, dest) => {
      this.requireNoDebt(vault, "Repay the vault's debt before closing it.");
      return { plan: planSpend(source, 'close', [], dest), ratioAfterBps: null };
    });
  }

  /**
   * The review step of an emergency exit (owner + guardian, no protocol key): only with no debt
   * while the protocol is alive (SPEC §6), and never while the vault is being liquidated.
   */
  previewEmergencyExit(vaultId: unknown, destination: unknown): Promise<SpendPreview> {
    return this.review(vaultId, 'emergency-exit', destination, (vault, source, dest) => {
      this.requireNoDebt(
        vault,
        'An emergency exit needs a vault with no debt while the protocol is running: repay it first.',
      );
      return { plan: planSpend(source, 'emergency-exit', [], dest), ratioAfterBps: null };
    });
  }

  /** The review step of sweeping coins that arrived at a Closed or Liquidated vault back to the owner. */
  previewSweep(vaultId: unknown, destination: unknown): Promise<SpendPreview> {
    return this.review(vaultId, 'sweep', destination, (vault, source, dest) => {
      this.requireNoDebt(vault, 'This vault still owes bsUSD.');
      if (source.coins.length === 0) {
        throw new BitStableError(
          'NOTHING_TO_SWEEP',
          `Vault #${vault.id} holds no confirmed coins to sweep.`,
          { vaultId: vault.id },
        );
      }
      return { plan: planSpend(source, 'sweep', [], dest), ratioAfterBps: null };
    });
  }

  /** Plans a spend, then stores it as a draft if the vault is still as it was when planned. */
  private async review(
    vaultId: unknown,
    kind: Exclude<SpendKind, 'settlement'>,
    destination: unknown,
    plan: (
      vault: Vault,
      source: SpendSource,
      destination: string,
    ) => { plan: SpendPlan; ratioAfterBps: number | null },
  ): Promise<SpendPreview> {
    const vault = await this.vaultFor(vaultId, kind);
    const dest = this.destination(destination, vault);
    await this.store.refuseOpen(vault.id, { ignoreUnsignedDraft: true });
    await this.store.refuseOwed(vault.id);
    const source = await this.source(vault);
    const planned = plan(vault, source, dest);
    const p: SpendPlan = { ...planned.plan, debtCents: vault.debtCents };
    const psbtBase64 = buildPsbt(p, source).toBase64();
    const expiresAt = this.now() + (this.deps.draftTtlMs ?? DEFAULT_DRAFT_TTL_MS);
    const spendId = await this.deps.store.transaction(async () => {
      await accrueVault(this.deps.store, vault.id, this.now());
      // Planning awaited the node: the vault must still be what the plan was made from.
      await this.requireUnchanged(vault.id, p, kind);
      return await this.store.insertDraft(
        vault.id,
        kind,
        p,
        psbtBase64,
        dest,
        expiresAt,
        this.instance,
      );
    });
    this.spendChanged(spendId, vault.id, kind, 'draft');
    return {
      spendId,
      expiresAt,
      vault,
      plan: p,
      destination: dest,
      ratioAfterBps: planned.ratioAfterBps,
      psbtBase64,
      source,
      facts: await this.factsNow(vault.id, source.feeRateSatPerKvB),
    };
  }

  // ── Signing ───────────────────────────────────────────────────────────────────────────────

  /**
   * Signs the reviewed draft `spendId` exactly as stored, has the second key sign (the protocol
   * deciding at that moment), stores the complete transaction and broadcasts it. A guardian who
   * signs by file makes it `awaiting-guardian` instead. `kind` names the operation the caller
   * means, so a withdrawal's id cannot be signed as a close.
   */
  async sign(spendId: unknown, kind?: SpendKind): Promise<SpendResult> {
    const { row, plan } = await this.claimDraft(spendId, kind);
    return this.signStored(row, plan);
  }

  /**
   * The owner signed the reviewed draft elsewhere — in their own wallet, on their own Ledger
   * (SPEC §4): the PSBT must be that very unsigned transaction with a valid owner signature on
   * every input. Then the protocol decides and co-signs (or the guardian is asked) exactly as
   * after a signature made here. A PSBT that is not that is refused and changes nothing.
   */
  async submitOwnerSigned(
    spendId: unknown,
    kind: SpendKind | undefined,
    psbtBase64: unknown,
  ): Promise<SpendResult> {
    const draft = await this.store.require(spendId);
    if (PAIRS[draft.kind] === 'protocol+guardian') {
      throw new BitStableError(
        'INVALID_ARGUMENT',
        `Transaction #${draft.id} is a ${draft.kind}: the owner does not sign it.`,
        { spendId: draft.id },
      );
    }
    if (typeof psbtBase64 !== 'string' || psbtBase64.length === 0) {
      throw new BitStableError('PSBT_INVALID', 'Give the PSBT the owner signed.', {});
    }
    const keys = await this.deps.vaults.keySet(
      (await this.deps.vaults.getVault(draft.vault_id)).keySetId,
    );
    const imported = checkSignedBy(
      keys.owner,
      'the owner key',
      this.deps.network,
      psbtBase64,
      unsignedTxIdOf(draft.psbt),
      draft.psbt,
      'The signed PSBT',
      { spendId: draft.id },
    );
    const inputs = decodePsbt(draft.psbt).data.inputs.length;
    if (imported.signedInputs.length !== inputs) {
      throw new BitStableError(
        'PSBT_INVALID',
        `The owner signed ${imported.signedInputs.length} of the ${inputs} inputs; every input needs its signature.`,
        { spendId: draft.id, signed: imported.signedInputs, inputs },
      );
    }
    // Signatures only, each verified again on the stored draft (its amounts and scripts, not
    // the submitted PSBT's): every input needs one before the protocol signs anything.
    const merged = withSignaturesOf(
      decodePsbt(draft.psbt),
      decodePsbt(imported.psbt),
      keys.owner.fingerprint,
    );
    const valid = inputsSignedBy(merged, keys.owner.fingerprint);
    if (valid !== inputs) {
      throw new BitStableError(
        'PSBT_INVALID',
        `The owner's signature is valid on ${valid} of the ${inputs} inputs of the stored transaction; sign the PSBT as it was handed out (unfinalized).`,
        { spendId: draft.id, valid, inputs },
      );
    }
    const ownerPsbt = merged.toBase64();
    const { row, plan } = await this.claimDraft(spendId, kind);
    return this.signStored(row, plan, undefined, undefined, ownerPsbt);
  }

  /** Moves a reviewed, unexpired, unchanged draft to `signing` by this process. */
  private async claimDraft(
    spendId: unknown,
    kind?: SpendKind,
  ): Promise<{ row: SpendRow; plan: SpendPlan }> {
    const row = await this.store.require(spendId);
    if (kind && row.kind !== kind) {
      throw new BitStableError(
        'INVALID_ARGUMENT',
        `Transaction #${row.id} is a ${row.kind}, not a ${kind}.`,
        { spendId: row.id, kind: row.kind },
      );
    }
    if (row.state !== 'draft') {
      throw new BitStableError(
        'SPEND_STATE_CHANGED',
        `Transaction #${row.id} is ${row.state}, not a reviewed draft waiting for a signature.`,
        { spendId: row.id, state: row.state },
      );
    }
    if (row.expires_at !== null && this.now() >= row.expires_at) {
      await this.move(row, 'expire');
      throw new BitStableError(
        'DRAFT_EXPIRED',
        `The review of transaction #${row.id} expired unsigned; review it again.`,
        { spendId: row.id },
      );
    }
    const plan = JSON.parse(row.plan) as SpendPlan;
    const signing = await this.deps.store.transaction(async () => {
      await this.requireUnchanged(row.vault_id, plan, row.kind);
      const patch = { signing_by: this.instance };
      if (!(await this.store.move(row, 'sign', patch))) {
        throw new BitStableError(
          'SPEND_STATE_CHANGED',
          `Transaction #${row.id} is being signed already.`,
          { spendId: row.id },
        );
      }
      return { ...row, ...patch, state: 'signing' as const };
    });
    return { row: signing, plan };
  }

  /**
   * Builds, stores, signs (protocol + guardian) and broadcasts the settlement of an ended auction
   * (called by the auction house):
   * every taker's payout, then the rest (less the fee) to `restAddress`.
   */
  async settle(
    vault: Vault,
    auctionId: number,
    payouts: Payment[],
    restAddress: string,
    context: SignContext,
  ): Promise<SpendResult> {
    await this.store.refuseOpen(vault.id);
    const source = await this.source(vault);
    const plan: SpendPlan = { ...planSettlement(source, payouts, restAddress), auctionId };
    const psbt = buildPsbt(plan, source).toBase64();
    const row = await this.deps.store.transaction(async () => {
      await this.requireUnchanged(vault.id, plan, 'settlement');
      const id = await this.store.insertDraft(
        vault.id,
        'settlement',
        plan,
        psbt,
        restAddress,
        null,
        this.instance,
      );
      const draft = (await this.store.get(id))!;
      await this.store.move(draft, 'sign', { signing_by: this.instance });
      return (await this.store.get(id))!;
    });
    this.spendChanged(row.id, vault.id, 'settlement', 'signing');
    return this.signStored(row, plan, { payouts, restAddress }, context);
  }

  /**
   * Builds, stores, signs (protocol + guardian) and broadcasts the payment of a redemption payout
   * the vault owes (called by the redemption desk): the redeemer's bitcoin less the fee, the rest
   * back to the vault. The payout stays owed until this confirms; a failure leaves it for the
   * next try.
   */
  async payRedemption(
    vault: Vault,
    payout: { id: number; address: string; sats: Sats },
    context: SignContext,
  ): Promise<SpendResult> {
    await this.store.refuseOpen(vault.id);
    const source = await this.source(vault);
    const plan = planRedemptionPayout(
      source,
      payout.id,
      payout.address,
      payout.sats,
      vault.address,
    );
    const psbt = buildPsbt(plan, source).toBase64();
    const row = await this.deps.store.transaction(async () => {
      await this.requireUnchanged(vault.id, plan, 'redemption');
      const id = await this.store.insertDraft(
        vault.id,
        'redemption',
        plan,
        psbt,
        payout.address,
        null,
        this.instance,
      );
      await this.deps.store.redemptions.setPayoutSpend(payout.id, id);
      const draft = (await this.store.get(id))!;
      await this.store.move(draft, 'sign', { signing_by: this.instance });
      return (await this.store.get(id))!;
    });
    this.spendChanged(row.id, vault.id, 'redemption', 'signing');
    return this.signStored(row, plan, undefined, context);
  }

  /** Runs the two signatures of a stored spend in `signing`; on any failure it is abandoned. */
  private async signStored(
    row: SpendRow,
    plan: SpendPlan,
    settlement?: { payouts: Payment[]; restAddress: string },
    signContext?: SignContext,
    ownerSigned?: string,
  ): Promise<SpendResult> {
    const progress = this.deps.onProgress ?? (() => {});
    const keys = await this.deps.vaults.keySet(
      (await this.deps.vaults.getVault(row.vault_id)).keySetId,
    );
    const context: SignContext = signContext ?? {
      keys: { owner: keys.owner, protocol: keys.protocol, guardian: keys.guardian },
      purpose: `${plan.kind} from vault #${row.vault_id}`,
      vaultId: row.vault_id,
    };
    const { signers } = this.deps;
    const pair = PAIRS[row.kind];
    faultPoint('spend.draft'); // stored, not signed: a restart drops it, nothing was sent
    try {
      let first: string;
      if (pair === 'protocol+guardian') {
        progress('The protocol key checks and co-signs');
        const feeRate = await this.deps.node.feeRateSatPerKvB();
        first = await signers.protocol.approveAndSign(
          row.psbt,
          plan,
          await this.factsNow(row.vault_id, feeRate, settlement),
          context,
        );
      } else if (ownerSigned !== undefined) {
        first = ownerSigned; // signed in the owner's wallet, checked by submitOwnerSigned
      } else {
        progress('Waiting for the owner key to sign');
        first = await signers.owner.signPsbt(row.psbt, context);
      }
      checkSameTransaction(first, row.psbt, this.deps.network);
      let second: string;
      if (pair === 'owner+protocol') {
        progress('The protocol key checks and co-signs');
        // The owner may have taken minutes: say in a code the UI can act on when the vault or
        // the price moved meanwhile (the protocol's own check below still decides).
        await this.requireStillAllowed(row.vault_id, plan, row.kind);
        const feeRate = await this.deps.node.feeRateSatPerKvB();
        second = await signers.protocol.approveAndSign(
          first,
          plan,
          await this.factsNow(row.vault_id, feeRate),
          context,
        );
      } else {
        progress('Waiting for the guardian key to sign');
        const answer = await requestSignature(signers.guardian, first, context);
        if (answer.outcome === 'deferred') {
          // The guardian signs elsewhere, perhaps days from now: keep the spend with the first
          // signature and its coins held until the signed file comes back.
          const feeRate = await this.deps.node.feeRateSatPerKvB();
          await this.commit(row, 'await-guardian', { psbt: first }, plan, feeRate, settlement);
          return { spendId: row.id, txid: unsignedTxIdOf(first), plan, state: 'awaiting-guardian' };
        }
        second = answer.psbt;
      }
      const txid = await this.completeAndBroadcast(row, plan, [first, second], settlement);
      return { spendId: row.id, txid, plan, state: 'broadcast' };
    } catch (err) {
      const now = await this.store.get(row.id);
      if (now?.state === 'signing' && now.signing_by === this.instance)
        await this.move(now, 'fail');
      throw err;
    }
  }

  /**
   * Moves a spend whose second-to-last check passed, re-reading the facts and checking them
   * again inside the same transaction: the decision and the record of it are one.
   */
  private async commit(
    row: SpendRow,
    event: SpendEvent,
    patch: SpendPatch,
    plan: SpendPlan,
    feeRate: number,
    settlement?: { payouts: Payment[]; restAddress: string },
  ): Promise<void> {
    await this.deps.store.transaction(async () => {
      const facts = await this.factsNow(row.vault_id, feeRate, settlement);
      if (row.kind === 'emergency-exit') this.checkExit(facts);
      else checkPlanPolicy(plan, facts);
      const withPrice =
        row.kind === 'withdraw' && facts.freshPriceCents !== null
          ? { ...patch, cosign_price_cents: facts.freshPriceCents }
          : patch;
      if (!(await this.store.move(row, event, withPrice))) {
        throw new BitStableError(
          'SPEND_STATE_CHANGED',
          `Transaction #${row.id} was completed, cancelled or dropped meanwhile; nothing was sent.`,
          { spendId: row.id },
        );
      }
    });
    this.spendChanged(
      row.id,
      row.vault_id,
      row.kind,
      event === 'complete' ? 'signed' : 'awaiting-guardian',
    );
  }

  /** An exit signed by owner and guardian: only with no debt and while the vault is open. */
  private checkExit(facts: SpendFacts): void {
    if (!FROM_STATES['emergency-exit'].includes(facts.vaultState)) {
      throw new BitStableError(
        'VAULT_LIQUIDATING',
        `The vault is ${facts.vaultState}; its collateral is not the owner's to move out now.`,
        { state: facts.vaultState },
      );
    }
    if (facts.debtCents > 0) {
      throw new BitStableError(
        'DEBT_OUTSTANDING',
        `The vault owes ${facts.debtCents} cents; an emergency exit needs a vault with no debt.`,
        { debtCents: facts.debtCents },
      );
    }
  }

  /**
   * Combines the signatures, finalizes, has the node check the transaction, stores it as signed
   * — the facts checked again in that transaction — then broadcasts it. Returns the txid.
   */
  private async completeAndBroadcast(
    row: SpendRow,
    plan: SpendPlan,
    psbts: [string, string],
    settlement?: { payouts: Payment[]; restAddress: string },
  ): Promise<string> {
    const { txHex, txid } = finalizePsbt(psbts, this.deps.network);
    await this.deps.node.testMempoolAccept(txHex);
    const feeRate = await this.deps.node.feeRateSatPerKvB();
    await this.commit(
      row,
      'complete',
      { psbt: psbts[1], tx_hex: txHex, txid },
      plan,
      feeRate,
      settlement,
    );
    faultPoint('spend.signed');
    this.deps.onProgress?.('Broadcasting');
    await this.broadcastStored({ ...(await this.store.get(row.id))! });
    await this.deps.vaults.syncDeposits();
    return txid;
  }

  /** Sends a stored, signed spend and marks it broadcast. */
  async broadcastStored(s: SpendRow): Promise<void> {
    await this.deps.node.broadcast(s.tx_hex!);
    faultPoint('spend.broadcast'); // sent, not yet marked: a restart sends the same one again
    await this.move(s, 'send');
  }

  // ── The guardian by file ─────────────────────────────────────────────────────────────────

  /** Spends waiting for the guardian's signed PSBT file, oldest first, with the vault's debt. */
  async guardianRequests(): Promise<GuardianRequest[]> {
    const requests: GuardianRequest[] = [];
    for (const r of await this.store.inStates(['awaiting-guardian'])) {
      const plan = JSON.parse(r.plan) as SpendPlan;
      requests.push({
        spendId: r.id,
        vaultId: r.vault_id,
        kind: r.kind,
        psbtBase64: r.psbt,
        txid: unsignedTxIdOf(r.psbt),
        feeSats: plan.feeSats,
        outputs: plan.outputs.map((o) => ({ address: o.address, amountSats: o.amountSats })),
        debtCents: (await this.deps.vaults.getVault(r.vault_id)).debtCents,
        createdAt: r.created_at,
      });
    }
    return requests;
  }

  /**
   * Completes a spend waiting for the guardian with the guardian's signed PSBT: it must be the
   * very transaction stored and carry a valid guardian signature on every input. Then it is
   * finalized, checked by the node, stored (the vault's facts checked again) and broadcast.
   */
  async completeWithGuardian(spendId: unknown, psbtBase64: unknown): Promise<SpendResult> {
    const row = await this.awaitingRow(spendId);
    if (typeof psbtBase64 !== 'string' || psbtBase64.length === 0) {
      throw new BitStableError('PSBT_INVALID', 'Give the PSBT the guardian signed.', {});
    }
    const plan = JSON.parse(row.plan) as SpendPlan;
    const keys = await this.deps.vaults.keySet(
      (await this.deps.vaults.getVault(row.vault_id)).keySetId,
    );
    const guardian = new FileGuardianSigner(keys.guardian, this.deps.network);
    const expected = unsignedTxIdOf(row.psbt);
    const imported = guardian.checkSignedPsbt(psbtBase64, expected, row.psbt, 'The imported PSBT', {
      spendId: row.id,
    });
    const inputs = decodePsbt(row.psbt).data.inputs.length;
    if (imported.signedInputs.length !== inputs) {
      throw new BitStableError(
        'PSBT_INVALID',
        `The guardian signed ${imported.signedInputs.length} of the ${inputs} inputs; every input needs its signature.`,
        { spendId: row.id, signed: imported.signedInputs, inputs },
      );
    }
    // The guardian may have sent it already (its wallet finalizes and offers to broadcast).
    if (await this.adoptIfSent(row))
      return { spendId: row.id, txid: expected, plan, state: 'broadcast' };
    const settlement =
      row.kind === 'settlement' ? this.settlementTermsOf(plan, row.destination) : undefined;
    try {
      const txid = await this.completeAndBroadcast(
        row,
        plan,
        [row.psbt, imported.psbt],
        settlement,
      );
      return { spendId: row.id, txid, plan, state: 'broadcast' };
    } catch (err) {
      // Sent meanwhile, the same transaction: by the guardian (the node refuses it as already
      // in its mempool), or by an import or the mempool watch beside this one.
      const now = await this.store.get(row.id);
      if (now?.state === 'awaiting-guardian' && (await this.adoptIfSent(now)))
        return { spendId: row.id, txid: expected, plan, state: 'broadcast' };
      // Read again: an adoption beside this one may have moved it while this one asked the node.
      const after = await this.store.get(row.id);
      if (after && after.state !== 'awaiting-guardian' && after.txid === expected) {
        throw new BitStableError(
          'SPEND_STATE_CHANGED',
          `Transaction #${row.id} was sent meanwhile (by the guardian, or another import); it is tracked until it confirms.`,
          { spendId: row.id, txid: expected },
        );
      }
      throw err;
    }
  }

  /**
   * Gives up a spend waiting for the guardian (BitStable sent nothing). It stays watched for a
   * while (`cancelled`): should the guardian send their signed copy anyway, it is tracked from the
   * chain — and an exit the owner signed keeps its coins held until they are spent. A settlement
   * is the auction's: only the operator (`admin`) may cancel it.
   */
  async cancelGuardianRequest(spendId: unknown, options: { admin?: boolean } = {}): Promise<void> {
    const row = await this.awaitingRow(spendId);
    if ((row.kind === 'settlement' || row.kind === 'redemption') && !options.admin) {
      throw new BitStableError(
        'ADMIN_ONLY',
        row.kind === 'settlement'
          ? `Transaction #${row.id} settles an auction; only the operator can cancel it.`
          : `Transaction #${row.id} pays a redeemer what the vault owes; only the operator can cancel it.`,
        { spendId: row.id },
      );
    }
    if (await this.adoptIfSent(row)) {
      throw new BitStableError(
        'SPEND_STATE_CHANGED',
        'The guardian has already sent this transaction; it can no longer be cancelled and is tracked until it confirms.',
        { spendId: row.id },
      );
    }
    if (!(await this.move(row, 'cancel'))) {
      throw new BitStableError(
        'SPEND_STATE_CHANGED',
        `Transaction #${row.id} was completed meanwhile; it can no longer be cancelled.`,
        { spendId: row.id },
      );
    }
  }

  /**
   * A guardian request (waiting or cancelled) whose transaction the node already knows — in a
   * block, or in the mempool — becomes a `broadcast` spend with that transaction; another request
   * for the vault's coins can no longer be sent and is dropped. True when adopted.
   */
  async adoptIfSent(row: SpendRow): Promise<boolean> {
    const txid = unsignedTxIdOf(row.psbt);
    // The node's wallet learns of a mempool transaction a moment after the mempool takes it:
    // unknown to the wallet, it may still be in the mempool.
    const confs = await this.deps.node.confirmations(txid);
    if (confs <= 0 && !(await this.deps.node.inMempool(txid))) return false;
    const txHex = await this.deps.node.transactionHex(txid);
    const adopted = await this.deps.store.transaction(async () => {
      const open = await this.store.openFor(row.vault_id);
      if (open && open.id !== row.id) {
        // The guardian's transaction spends the same coins: the other one can never be sent.
        if (open.state === 'signed' || open.state === 'broadcast') return false;
        await this.store.move(
          open,
          open.state === 'draft' ? 'supersede' : open.state === 'signing' ? 'fail' : 'drop',
        );
      }
      if (await this.deps.store.spends.hasTransaction(txid)) return false;
      const moved = await this.store.move(row, 'adopt', { tx_hex: txHex, txid });
      if (moved) {
        await this.deps.store.ops.journal(
          'spend.sent-by-guardian',
          row.vault_id,
          { spendId: row.id, txid },
          this.now(),
        );
      }
      return moved;
    });
    if (adopted) this.spendChanged(row.id, row.vault_id, row.kind, 'broadcast');
    return adopted;
  }

  private async awaitingRow(spendId: unknown): Promise<SpendRow> {
    const row = await this.store.require(spendId);
    if (row.state !== 'awaiting-guardian') {
      throw new BitStableError(
        'SPEND_STATE_CHANGED',
        `Transaction #${row.id} is not waiting for the guardian (it is ${row.state}).`,
        { spendId: row.id, state: row.state },
      );
    }
    return row;
  }

  /** A stored settlement's payouts and rest, as planned (the auction's takes do not change once it ended). */
  private settlementTermsOf(plan: SpendPlan, restAddress: string | null) {
    const hasRest = restAddress !== null && plan.outputs.at(-1)?.address === restAddress;
    return {
      payouts: hasRest ? plan.outputs.slice(0, -1) : plan.outputs,
      restAddress: restAddress ?? '',
    };
  }

  // ── Moves, effects, facts ────────────────────────────────────────────────────────────────

  /** Moves a spend (see SpendStore.move) and sends the events its effects queued. */
  async move(row: SpendRow, event: SpendEvent, patch: SpendPatch = {}): Promise<boolean> {
    let moved = false;
    try {
      moved = await this.store.move(row, event, patch);
    } finally {
      const queued = this.after.splice(0);
      if (moved) for (const send of queued) send();
    }
    if (moved) {
      const now = (await this.store.get(row.id))!;
      this.spendChanged(now.id, now.vault_id, now.kind, now.state);
      if (event === 'confirm') {
        this.deps.bus.emit('spend.confirmed', {
          spendId: now.id,
          vaultId: now.vault_id,
          kind: now.kind,
          txid: now.txid,
        });
      }
    }
    return moved;
  }

  /** What a move changes beyond the spend itself, inside its transaction. */
  private async applyEffect(effect: SpendEffect, spend: SpendRow, ts: number): Promise<void> {
    const { store } = this.deps;
    const why = `${spend.kind} #${spend.id}`;
    switch (effect) {
      case 'vault.close': {
        await store.spends.closeVault(spend.vault_id, ts);
        const deficit = await writeOffDebt(store, spend.vault_id, this.deps.params, ts, why);
        const auctionId = await endLiquidationWithoutCoins(store, spend.vault_id, deficit, ts);
        if (auctionId !== null) {
          this.after.push(() =>
            this.deps.bus.emit('auction.changed', { auctionId, state: 'settled' }),
          );
        }
        break;
      }
      case 'vault.reopen':
        await store.spends.reopenClosedVault(spend.vault_id, ts);
        break;
      case 'vault.write-off':
        await writeOffDebt(store, spend.vault_id, this.deps.params, ts, why);
        break;
      case 'liquidation.settle': {
        const auctionId = await markLiquidationSettled(store, spend.vault_id, ts);
        if (auctionId !== null) {
          this.after.push(() =>
            this.deps.bus.emit('auction.changed', { auctionId, state: 'settled' }),
          );
        }
        break;
      }
      case 'liquidation.reopen':
        await reopenLiquidation(store, spend.vault_id, ts);
        break;
      case 'redemption.paid': {
        // By the payout the spend pays (its plan), not by the payout's latest spend: an older
        // spend of the same payout, dropped and then mined after all, pays it just as well.
        const payoutId = (JSON.parse(spend.plan) as SpendPlan).redemptionPayoutId;
        const paid = await store.redemptions.markPaid(payoutId, spend.txid, spend.id, ts);
        if (paid)
          await store.ops.journal(
            'vault.redemption-paid',
            spend.vault_id,
            { payoutId, spendId: spend.id, txid: spend.txid },
            ts,
          );
        break;
      }
      case 'redemption.unpaid': {
        // A reorg undid it: owed again until it (or a new spend of it) confirms.
        const payoutId = (JSON.parse(spend.plan) as SpendPlan).redemptionPayoutId;
        await store.redemptions.markUnpaid(payoutId, spend.id);
        break;
      }
    }
    this.after.push(async () => await this.vaultChanged(spend.vault_id));
  }

  /** The vault's facts now, for the protocol's decision: read them inside the deciding transaction. */
  async factsNow(
    vaultId: number,
    nodeFeeRateSatPerKvB: number,
    settlement?: { payouts: Payment[]; restAddress: string },
  ): Promise<SpendFacts> {
    const vault = await this.deps.vaults.getVault(vaultId);
    const price = this.deps.price.current();
    const keys = await this.deps.vaults.keySet(vault.keySetId);
    return {
      vaultState: vault.state,
      vaultAddress: vault.address,
      vaultOutputScript: vaultScript(keys, vault.index, this.deps.network).outputScript,
      coins: await this.confirmedCoins(vaultId),
      // What the vault owes now: booked, and the stability fee accrued since.
      debtCents: await debtNow(this.deps.store, vault, this.now()),
      // The co-signer checks a withdrawal at the price a mint is checked at: the lower of the
      // current and the delayed one.
      freshPriceCents: price.status === 'ok' ? requireCollateralPrice(price) : null,
      params: this.deps.params,
      nodeFeeRateSatPerKvB,
      network: this.deps.network,
      ...(settlement
        ? { settlementPayouts: settlement.payouts, settlementRestAddress: settlement.restAddress }
        : {}),
      redemptionOwed: await this.deps.store.redemptions.owedPayouts(vaultId),
    };
  }

  /** The vault's confirmed coins, the ones a spend is planned from. */
  private async confirmedCoins(
    vaultId: number,
  ): Promise<{ txid: string; vout: number; amountSats: Sats }[]> {
    return (
      await this.deps.store.spends.confirmedCoins(vaultId, this.deps.params.confirmations)
    ).map((r) => ({ txid: r.txid, vout: r.vout, amountSats: r.amount_sats as Sats }));
  }

  /**
   * DRAFT_CHANGED (or a state code) unless the vault is still what `plan` was made from: its
   * state allows the spend, its debt is the reviewed debt, and its coins are the planned inputs.
   * For a withdrawal with debt, the ratio after must hold at the fresh price now.
   */
  private async requireUnchanged(vaultId: number, plan: SpendPlan, kind: SpendKind): Promise<void> {
    const vault = await this.deps.vaults.getVault(vaultId);
    this.requireState(vault, kind);
    if (plan.debtCents !== undefined && plan.debtCents !== vault.debtCents) {
      throw new BitStableError(
        'DRAFT_CHANGED',
        `Vault #${vault.id}'s debt changed since the review (${plan.debtCents} → ${vault.debtCents} cents); review again.`,
        { vaultId: vault.id, reviewedDebtCents: plan.debtCents, debtCents: vault.debtCents },
      );
    }
    const key = (c: { txid: string; vout: number }) => `${c.txid}:${c.vout}`;
    const coins = (await this.confirmedCoins(vaultId)).map(key);
    // A redemption payout spends only the coins it needs; every other spend spends them all.
    const changed =
      kind === 'redemption'
        ? plan.inputs.some((i) => !coins.includes(key(i)))
        : coins.sort().join(',') !== plan.inputs.map(key).sort().join(',');
    if (changed) {
      throw new BitStableError(
        'DRAFT_CHANGED',
        `Vault #${vault.id}'s coins changed since the review; review again.`,
        { vaultId: vault.id },
      );
    }
    await this.requireStillAllowed(vaultId, plan, kind);
  }

  /** The vault's state still allows the spend, and a withdrawal with debt still keeps 150 %. */
  private async requireStillAllowed(
    vaultId: number,
    plan: SpendPlan,
    kind: SpendKind,
  ): Promise<void> {
    const vault = await this.deps.vaults.getVault(vaultId);
    this.requireState(vault, kind);
    if (kind === 'withdraw' && vault.debtCents > 0) {
      const price = requireCollateralPrice(this.deps.price.current());
      const debt = await debtNow(this.deps.store, vault, this.now());
      const ratio = collateralRatioBps(plan.outputs[1]!.amountSats, debt, price)!;
      this.requireRatio(ratio, 'At the price now, this withdrawal');
    }
  }

  /** A typed refusal unless the vault's state allows a spend of `kind`. */
  private requireState(vault: Vault, kind: SpendKind): void {
    if (FROM_STATES[kind].includes(vault.state)) return;
    if (vault.state === 'liquidating') {
      throw new BitStableError(
        'VAULT_LIQUIDATING',
        `Vault #${vault.id} is being liquidated; its collateral belongs to the auction now.`,
        { vaultId: vault.id, state: vault.state },
      );
    }
    throw new BitStableError(
      'VAULT_NOT_OPEN',
      vault.state === 'pending'
        ? `Vault #${vault.id} has no confirmed collateral yet.`
        : `Vault #${vault.id} is ${vault.state}; a ${kind} cannot be made from it.`,
      { vaultId: vault.id, state: vault.state },
    );
  }

  private async vaultFor(vaultId: unknown, kind: SpendKind): Promise<Vault> {
    const vault = await this.deps.vaults.getVault(vaultId);
    this.requireState(vault, kind);
    // Reviewed against the debt now (booked, and the fee accrued since): the draft's
    // transaction books that fee, so the debt the spend is signed against is the one reviewed.
    return { ...vault, debtCents: await debtNow(this.deps.store, vault, this.now()) };
  }

  private requireNoDebt(vault: Vault, message: string): void {
    if (vault.debtCents > 0) {
      throw new BitStableError('DEBT_OUTSTANDING', message, {
        vaultId: vault.id,
        debtCents: vault.debtCents,
      });
    }
  }

  private requireRatio(ratioBps: number, what: string): void {
    const min = this.deps.params.liquidationRatioBps;
    if (ratioBps < min) {
      throw new BitStableError(
        'RATIO_TOO_LOW',
        `${what} would leave the vault at ${(ratioBps / 100).toFixed(2)} %; it must stay at or above ${min / 100} %.`,
        { ratioBps },
      );
    }
  }

  /** Coins and vault data a spend is built from (its confirmed coins, with their transactions). */
  private async source(vault: Vault): Promise<SpendSource> {
    const coins: VaultCoin[] = [];
    for (const c of await this.confirmedCoins(vault.id)) {
      coins.push({ ...c, prevTxHex: await this.deps.node.transactionHex(c.txid) });
    }
    const keys = await this.deps.vaults.keySet(vault.keySetId);
    return {
      vaultId: vault.id,
      script: vaultScript(keys, vault.index, this.deps.network),
      keys,
      coins,
      net: this.deps.network,
      feeRateSatPerKvB: await this.deps.node.feeRateSatPerKvB(),
    };
  }

  private destination(value: unknown, vault: Vault): string {
    if (typeof value !== 'string' || value.length === 0 || value.length > 100) {
      throw new BitStableError('INVALID_ADDRESS', 'Give a Bitcoin address to send to.', {});
    }
    outputScript(value, this.deps.network);
    if (value === vault.address) {
      throw new BitStableError(
        'INVALID_ADDRESS',
        "That is the vault's own address; send to one of your wallets.",
        {},
      );
    }
    return value;
  }

  spendChanged(spendId: number, vaultId: number, kind: string, state: string): void {
    this.deps.bus.emit('spend.changed', { spendId, vaultId, kind, state });
  }

  async vaultChanged(vaultId: number): Promise<void> {
    const v = await this.deps.vaults.getVault(vaultId);
    this.deps.bus.emit('vault.changed', {
      vaultId: v.id,
      state: v.state,
      collateralSats: v.collateralSats,
      debtCents: v.debtCents,
    });
  }
}
