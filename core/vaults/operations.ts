/**
 * Vault operations (SPEC §6): mint and repay (the bsUSD ledger), deposits, and the on-chain
 * spends — withdraw, close, emergency exit — each signed by two of the three keys.
 *
 * Every state change is one SQLite transaction. A spend is written (plan + PSBT) before it is
 * signed, and its complete transaction before it is broadcast, so a restart resumes it and never
 * builds a second one.
 */
import type { NetworkInfo, VaultParams } from '../config/networks';
import type { Sqlite } from '../db/database';
import { BitStableError, isBitStableError } from '../errors';
import type { EventBus } from '../events/bus';
import { journal } from '../events/journal';
import { ensureHolder, holderAccount, post, vaultAccount } from '../ledger/bsusd';
import { cents, sats, satsToBtcString, type Cents, type Sats } from '../money';
import type { BitcoinNode } from '../node/bitcoin-node';
import type { PriceFeed } from '../oracle/feed';
import {
  buildPsbt,
  finalizePsbt,
  planSpend,
  type SpendPlan,
  type SpendSource,
  type VaultCoin,
} from '../psbt/build';
import { outputScript } from '../psbt/fees';
import { rangedDescriptor, vaultScript } from '../bitcoin/descriptor';
import { keyExpression } from '../bitcoin/keys';
import type { ProtocolSigner, SpendFacts } from '../signers/protocol';
import { FileGuardianSigner, unsignedTxIdOf } from '../signers/guardian-file';
import type { SignContext, Signer } from '../signers/types';
import { decodePsbt } from '../keys/psbt-keys';
import { faultPoint } from '../fault';
import { collateralRatioBps } from './health';
import { nextStateOutsideHealthPass } from './state';
import { storedPrices, type VaultService } from './vault-service';
import type { Vault } from './vault-store';

export interface OperationsDeps {
  db: Sqlite;
  node: BitcoinNode;
  network: NetworkInfo;
  params: VaultParams;
  bus: EventBus;
  price: PriceFeed;
  vaults: VaultService;
  signers: { owner: Signer; protocol: ProtocolSigner; guardian: Signer };
  /** Who holds the bsUSD minted here (the local user). */
  holder?: string;
  clock?: () => number;
  /** Progress lines for long work (signing, broadcasting). */
  onProgress?: (line: string) => void;
}

export interface SpendResult {
  spendId: number;
  /** The transaction's id; for one awaiting the guardian, the id it will have (segwit). */
  txid: string;
  plan: SpendPlan;
  /** `awaiting-guardian`: signed by the first key and stored; the guardian signs by file. */
  state: 'broadcast' | 'awaiting-guardian';
}

/** A spend waiting for the guardian's signature, for export as a PSBT file. */
export interface GuardianRequest {
  spendId: number;
  vaultId: number;
  kind: SpendPlan['kind'];
  /** The PSBT to give the guardian (base64), with the first key's signatures. */
  psbtBase64: string;
  txid: string;
  feeSats: Sats;
  outputs: { address: string; amountSats: Sats }[];
  createdAt: number;
}

/** Makes and sends the settlement of an auction (used by the auction house). */
export interface SpendExecutor {
  settle(
    vault: Vault,
    auctionId: number,
    payouts: { address: string; amountSats: Sats }[],
    returnAddress: string,
    context: SignContext,
  ): Promise<SpendResult>;
}

/** How long a cancelled guardian request is watched for the guardian sending it anyway. */
const CANCELLED_WATCH_MS = 30 * 24 * 3600_000;

/** Which two keys sign a spend, the first one first. */
type SignerPair = 'owner+protocol' | 'owner+guardian' | 'protocol+guardian';

/** A planned spend, for the review step: nothing is stored or signed yet. */
export interface SpendPreview {
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

type SpendRow = {
  id: number;
  vault_id: number;
  kind: string;
  state: string;
  plan: string;
  tx_hex: string | null;
  txid: string | null;
};

/** Mint, repay, withdraw, close and emergency exit for one network. */
export class VaultOperations implements SpendExecutor {
  private readonly db: Sqlite;
  private readonly holder: string;
  private readonly now: () => number;
  /** Spends this process is signing or broadcasting right now. */
  private readonly inFlight = new Set<number>();

  constructor(private readonly deps: OperationsDeps) {
    this.db = deps.db;
    this.holder = deps.holder ?? 'local';
    this.now = deps.clock ?? Date.now;
    ensureHolder(this.db, this.holder);
  }

  /** The local holder's bsUSD balance in cents. */
  balanceCents(): Cents {
    return (this.db
      .prepare('SELECT balance_cents FROM ledger_accounts WHERE id = ?')
      .pluck()
      .get(holderAccount(this.holder)) ?? 0) as Cents;
  }

  /** Where to send more collateral, with a BIP21 URI for a QR code. */
  depositAddress(vaultId: unknown, amountSats?: number): { address: string; uri: string } {
    const vault = this.openVault(vaultId, ['pending', 'active', 'warning']);
    const amount = amountSats === undefined ? null : sats(amountSats);
    const uri = `bitcoin:${vault.address}${amount ? `?amount=${satsToBtcString(amount)}` : ''}`;
    return { address: vault.address, uri };
  }

  /** Mints `amountCents` bsUSD against the vault; the post-mint ratio must stay ≥ 150 %. */
  mint(vaultId: unknown, amountCents: unknown): Vault {
    const amount = this.positiveCents(amountCents);
    const price = this.deps.price.requireFreshPrice();
    return this.changeDebt(vaultId, amount, (vault, newDebt) => {
      if (vault.state === 'pending') {
        throw new BitStableError(
          'INVALID_STATE',
          'Deposit collateral and wait for it to confirm before minting.',
          {
            vaultId: vault.id,
          },
        );
      }
      if (newDebt < this.deps.params.debtFloorCents) {
        throw new BitStableError(
          'DEBT_BELOW_FLOOR',
          `A vault's debt must be at least ${this.deps.params.debtFloorCents / 100} bsUSD.`,
          { debtFloorCents: this.deps.params.debtFloorCents },
        );
      }
      const ratio = collateralRatioBps(vault.collateralSats, newDebt as Cents, price)!;
      if (ratio < this.deps.params.liquidationRatioBps) {
        throw new BitStableError(
          'RATIO_TOO_LOW',
          `Minting that much would leave the vault at ${(ratio / 100).toFixed(2)} %; it must stay at or above ${this.deps.params.liquidationRatioBps / 100} %.`,
          { ratioBps: ratio },
        );
      }
      return {
        entry: 'mint',
        postings: [
          [holderAccount(this.holder), amount],
          [vaultAccount(vault.id), -amount],
        ],
        price,
      };
    });
  }

  /** Repays `amountCents` of the vault's debt from the local holder's bsUSD. */
  repay(vaultId: unknown, amountCents: unknown): Vault {
    const amount = this.positiveCents(amountCents);
    const price =
      this.deps.price.current().status === 'ok' ? this.deps.price.current().priceCents : null;
    return this.changeDebt(vaultId, -amount, (vault, newDebt) => {
      if (newDebt < 0) {
        throw new BitStableError(
          'INVALID_AMOUNT',
          `The vault owes ${vault.debtCents} cents; that is more than its debt.`,
          {
            debtCents: vault.debtCents,
          },
        );
      }
      if (newDebt > 0 && newDebt < this.deps.params.debtFloorCents) {
        throw new BitStableError(
          'DEBT_BELOW_FLOOR',
          `Repay all of it, or leave at least ${this.deps.params.debtFloorCents / 100} bsUSD of debt.`,
          { debtFloorCents: this.deps.params.debtFloorCents },
        );
      }
      return {
        entry: 'repay',
        postings: [
          [holderAccount(this.holder), -amount],
          [vaultAccount(vault.id), amount],
        ],
        price,
      };
    });
  }

  /**
   * The review step of a withdrawal: the planned transaction, its fee and the ratio after, with
   * the unsigned PSBT — refused here (before anything is signed) if the ratio would fall under
   * 150 %.
   */
  async previewWithdraw(
    vaultId: unknown,
    amountSats: unknown,
    destination: unknown,
  ): Promise<SpendPreview> {
    const amount = sats(amountSats);
    if (amount === 0) throw new BitStableError('INVALID_AMOUNT', 'Withdraw more than 0 sats.', {});
    const vault = this.openVault(vaultId, ['active', 'warning']);
    const dest = this.destination(destination, vault);
    const price = vault.debtCents > 0 ? this.deps.price.requireFreshPrice() : null;
    const source = await this.spendSource(vault);
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
    if (ratioAfterBps !== null && ratioAfterBps < this.deps.params.liquidationRatioBps) {
      throw new BitStableError(
        'RATIO_TOO_LOW',
        `Withdrawing that much would leave the vault at ${(ratioAfterBps / 100).toFixed(2)} %; it must stay at or above ${this.deps.params.liquidationRatioBps / 100} %.`,
        { ratioBps: ratioAfterBps },
      );
    }
    return this.preview(vault, source, plan, dest, price, ratioAfterBps);
  }

  /** The review step of closing a vault with no debt. */
  async previewClose(vaultId: unknown, destination: unknown): Promise<SpendPreview> {
    const vault = this.openVault(vaultId, ['active', 'warning']);
    if (vault.debtCents > 0) {
      throw new BitStableError('INVALID_STATE', "Repay the vault's debt before closing it.", {
        debtCents: vault.debtCents,
      });
    }
    const dest = this.destination(destination, vault);
    const source = await this.spendSource(vault);
    return this.preview(vault, source, planSpend(source, 'close', [], dest), dest, null, null);
  }

  /**
   * The review step of an emergency exit (owner + guardian, no protocol key). Not while the vault
   * is being liquidated: its collateral is then the takers' first, and the settlement pays them.
   */
  async previewEmergencyExit(vaultId: unknown, destination: unknown): Promise<SpendPreview> {
    const vault = this.openVault(vaultId, ['active', 'warning']);
    const dest = this.destination(destination, vault);
    const source = await this.spendSource(vault);
    return this.preview(
      vault,
      source,
      planSpend(source, 'emergency-exit', [], dest),
      dest,
      null,
      null,
    );
  }

  /** Sends `amountSats` of collateral to `destination`; the change stays in the vault. */
  async withdraw(
    vaultId: unknown,
    amountSats: unknown,
    destination: unknown,
  ): Promise<SpendResult> {
    return this.execute(
      await this.previewWithdraw(vaultId, amountSats, destination),
      'owner+protocol',
    );
  }

  /** Closes a vault with no debt: every coin, less the fee, to `destination`. */
  async close(vaultId: unknown, destination: unknown): Promise<SpendResult> {
    return this.execute(await this.previewClose(vaultId, destination), 'owner+protocol');
  }

  /** Owner + guardian move every coin to `destination` without the protocol key. */
  async emergencyExit(vaultId: unknown, destination: unknown): Promise<SpendResult> {
    return this.execute(await this.previewEmergencyExit(vaultId, destination), 'owner+guardian');
  }

  /**
   * Builds, signs (protocol + guardian) and broadcasts the settlement of an ended auction: every
   * taker's bitcoin, and the rest of the collateral less the fee to the owner's return address.
   */
  async settle(
    vault: Vault,
    auctionId: number,
    payouts: { address: string; amountSats: Sats }[],
    returnAddress: string,
    context: SignContext,
  ): Promise<SpendResult> {
    const source = await this.spendSource(vault);
    const plan: SpendPlan = {
      ...planSpend(source, 'settlement', payouts, returnAddress),
      auctionId,
    };
    const preview = this.preview(vault, source, plan, returnAddress, null, null);
    preview.facts.settlementPayouts = payouts;
    preview.facts.ownerReturnAddress = returnAddress;
    return this.execute(preview, 'protocol+guardian', context);
  }

  /**
   * Brings stored spends forward: broadcasts any signed but unsent (after a crash), marks
   * confirmed ones, closes vaults whose closing spend confirmed, and reopens any a reorg undid.
   */
  async trackSpends(): Promise<void> {
    // Guardian requests first: the guardian holds a PSBT two keys have signed and may send it
    // from their own wallet (Sparrow offers to). The chain is the truth: a request whose
    // transaction the node knows becomes a broadcast spend, tracked below like any other.
    const requests = this.db
      .prepare(
        "SELECT * FROM spends WHERE state = 'awaiting-guardian' OR (state = 'cancelled' AND updated_at > ?)",
      )
      .all(this.now() - CANCELLED_WATCH_MS) as (SpendRow & { psbt: string })[];
    for (const r of requests) if (!this.inFlight.has(r.id)) await this.adoptIfSent(r);

    const open = this.db
      .prepare(
        "SELECT * FROM spends WHERE state IN ('draft', 'signed', 'broadcast') OR (state = 'confirmed' AND updated_at > ?)",
      )
      .all(this.now() - 24 * 3600_000) as SpendRow[];
    for (const s of open) {
      if (s.state === 'draft') {
        // Left by an earlier process (crash mid-signing): nothing was sent, so it can be dropped.
        // One this process is still signing is not touched.
        if (!this.inFlight.has(s.id)) this.setSpendState(s, 'abandoned');
        continue;
      }
      if (s.state === 'signed') await this.broadcastStored(s);
      const confs = await this.deps.node.confirmations(s.txid!);
      if (confs >= this.deps.params.confirmations) {
        if (s.state !== 'confirmed') this.setSpendState(s, 'confirmed');
        continue;
      }
      if (s.state === 'confirmed') this.setSpendState(s, 'broadcast');
      // Neither in a block nor in the mempool (evicted by a reorg, or never relayed): Core's
      // wallet still counts its inputs as spent, so the vault would look empty. Send it again —
      // it is signed and was checked — or, if it can no longer be sent, let it go.
      if (confs <= 0 && !(await this.deps.node.inMempool(s.txid!))) await this.resend(s, confs);
    }
  }

  /** Rebroadcasts a stored spend; one that cannot be sent any more is abandoned and released. */
  private async resend(s: SpendRow, confs: number): Promise<void> {
    try {
      await this.deps.node.broadcast(s.tx_hex!);
    } catch (err) {
      if (!isBitStableError(err, 'PSBT_INVALID')) throw err;
      // Its coins were spent by another transaction, or the deposit it spends was reorged away.
      if (confs === 0) await this.deps.node.abandon(s.txid!);
      this.setSpendState({ ...s, state: 'broadcast' }, 'abandoned');
    }
  }

  /** INVALID_STATE while the vault has a spend in flight: its coins are reserved for it. */
  private refuseOpenSpend(vaultId: number): void {
    const openSpend = this.db
      .prepare(
        "SELECT state FROM spends WHERE vault_id = ? AND state IN ('draft', 'awaiting-guardian', 'signed', 'broadcast')",
      )
      .pluck()
      .get(vaultId);
    if (openSpend === 'awaiting-guardian') {
      throw new BitStableError(
        'INVALID_STATE',
        "A transaction from this vault is waiting for the guardian's signature. Import the signed PSBT file, or cancel that transaction first.",
        { vaultId },
      );
    }
    if (openSpend !== undefined) {
      throw new BitStableError(
        'INVALID_STATE',
        'A transaction from this vault is still waiting to confirm. Try again after it does.',
        {
          vaultId: vaultId,
        },
      );
    }
  }

  /** Coins and vault data a spend is built from. */
  private async spendSource(vault: Vault): Promise<SpendSource> {
    this.refuseOpenSpend(vault.id);
    const rows = this.db
      .prepare(
        'SELECT txid, vout, amount_sats FROM vault_utxos WHERE vault_id = ? AND confirmations >= ? ORDER BY txid, vout',
      )
      .all(vault.id, this.deps.params.confirmations) as {
      txid: string;
      vout: number;
      amount_sats: number;
    }[];
    const coins: VaultCoin[] = [];
    for (const r of rows) {
      coins.push({
        txid: r.txid,
        vout: r.vout,
        amountSats: r.amount_sats as Sats,
        prevTxHex: await this.deps.node.transactionHex(r.txid),
      });
    }
    const keys = this.deps.vaults.keySet(vault.keySetId);
    return {
      vaultId: vault.id,
      script: vaultScript(keys, vault.index, this.deps.network),
      coins,
      net: this.deps.network,
      feeRateSatPerKvB: await this.deps.node.feeRateSatPerKvB(),
    };
  }

  private preview(
    vault: Vault,
    source: SpendSource,
    plan: SpendPlan,
    destination: string,
    price: Cents | null,
    ratioAfterBps: number | null,
  ): SpendPreview {
    const facts: SpendFacts = {
      vaultAddress: vault.address,
      vaultOutputScript: source.script.outputScript,
      coins: source.coins,
      debtCents: vault.debtCents,
      freshPriceCents: price,
      params: this.deps.params,
    };
    return {
      vault,
      plan,
      destination,
      ratioAfterBps,
      psbtBase64: buildPsbt(plan, source).toBase64(),
      source,
      facts,
    };
  }

  /** Stores, signs (the pair's first key first), completes, stores again, then broadcasts one spend. */
  private async execute(
    preview: SpendPreview,
    pair: SignerPair,
    signContext?: SignContext,
  ): Promise<SpendResult> {
    const { vault, plan, destination, facts } = preview;
    const progress = this.deps.onProgress ?? (() => {});
    const unsigned = preview.psbtBase64;
    const ts = this.now();
    const spendId = this.db.transaction(() => {
      // Checked again here: planning awaited the node, and another spend of these coins (a
      // settlement, a second click) may have been stored meanwhile.
      this.refuseOpenSpend(vault.id);
      const id = Number(
        this.db
          .prepare(
            "INSERT INTO spends (vault_id, kind, state, plan, psbt, destination, created_at, updated_at) VALUES (?, ?, 'draft', ?, ?, ?, ?, ?)",
          )
          .run(vault.id, plan.kind, JSON.stringify(plan), unsigned, destination, ts, ts)
          .lastInsertRowid,
      );
      journal(
        this.db,
        'spend.planned',
        vault.id,
        { spendId: id, kind: plan.kind, feeSats: plan.feeSats },
        ts,
      );
      return id;
    })();
    faultPoint('spend.draft'); // stored, not signed: a restart drops it, nothing was sent
    this.inFlight.add(spendId);

    const keys = this.deps.vaults.keySet(vault.keySetId);
    const context: SignContext = signContext ?? {
      keys: { owner: keys.owner, protocol: keys.protocol, guardian: keys.guardian },
      purpose: `${plan.kind} from vault #${vault.id}`,
    };
    const { signers } = this.deps;
    const protocolSign = (psbt: string) => {
      progress('The protocol key checks and co-signs');
      return signers.protocol.approveAndSign(psbt, plan, facts, context);
    };
    try {
      let first: string;
      if (pair === 'protocol+guardian') {
        first = await protocolSign(unsigned);
      } else {
        progress('Waiting for the owner key to sign');
        first = await signers.owner.signPsbt(unsigned, context);
      }
      this.db
        .prepare('UPDATE spends SET psbt = ?, updated_at = ? WHERE id = ?')
        .run(first, this.now(), spendId);
      if (pair !== 'owner+protocol' && signers.guardian.kind === 'file') {
        // The guardian signs elsewhere, by file, perhaps days from now: keep the spend with the
        // first signature and its coins reserved until the signed file comes back.
        return this.awaitGuardian(spendId, vault.id, plan, first);
      }
      let cosigned: string;
      if (pair === 'owner+protocol') {
        cosigned = await protocolSign(first);
      } else {
        progress('Waiting for the guardian key to sign');
        cosigned = await signers.guardian.signPsbt(first, context);
      }
      const txid = await this.completeAndBroadcast(
        { id: spendId, vault_id: vault.id, kind: plan.kind, state: 'draft' },
        [first, cosigned],
      );
      return { spendId, txid, plan, state: 'broadcast' };
    } catch (err) {
      const row = this.db.prepare('SELECT state FROM spends WHERE id = ?').pluck().get(spendId);
      if (row === 'draft') {
        this.setSpendState(
          { id: spendId, vault_id: vault.id, kind: plan.kind, state: 'draft' },
          'abandoned',
        );
      }
      throw err;
    } finally {
      this.inFlight.delete(spendId);
    }
  }

  /** Stores a spend as waiting for the guardian's file, with the first key's signatures. */
  private awaitGuardian(
    spendId: number,
    vaultId: number,
    plan: SpendPlan,
    psbt: string,
  ): SpendResult {
    const ts = this.now();
    const stored = this.db.transaction(() => {
      const moved = this.db
        .prepare(
          "UPDATE spends SET state = 'awaiting-guardian', psbt = ?, updated_at = ? WHERE id = ? AND state = 'draft'",
        )
        .run(psbt, ts, spendId);
      if (moved.changes === 0) return false;
      journal(this.db, 'spend.awaiting-guardian', vaultId, { spendId, kind: plan.kind }, ts);
      return true;
    })();
    if (!stored) {
      throw new BitStableError(
        'INVALID_STATE',
        'This transaction was dropped while it was being signed; nothing was kept or sent.',
        { spendId },
      );
    }
    this.spendChanged({ id: spendId, vault_id: vaultId, kind: plan.kind }, 'awaiting-guardian');
    return { spendId, txid: unsignedTxIdOf(psbt), plan, state: 'awaiting-guardian' };
  }

  /**
   * Combines the stored signatures with the second key's, finalizes, has the node check the
   * transaction, stores it as signed (before it is sent, so a crash rebroadcasts it and never
   * builds another), then broadcasts it. Returns the txid.
   */
  private async completeAndBroadcast(
    s: Pick<SpendRow, 'id' | 'vault_id' | 'kind' | 'state'>,
    psbts: [string, string],
  ): Promise<string> {
    const { txHex, txid } = finalizePsbt(psbts, this.deps.network);
    await this.deps.node.testMempoolAccept(txHex);
    const stored = this.db.transaction(() => {
      const moved = this.db
        .prepare(
          "UPDATE spends SET state = 'signed', psbt = ?, tx_hex = ?, txid = ?, updated_at = ? WHERE id = ? AND state = ?",
        )
        .run(psbts[1], txHex, txid, this.now(), s.id, s.state);
      if (moved.changes === 0) return false;
      journal(this.db, 'spend.signed', s.vault_id, { spendId: s.id, txid }, this.now());
      return true;
    })();
    if (!stored) {
      throw new BitStableError(
        'INVALID_STATE',
        'This transaction was completed or cancelled meanwhile; nothing was sent.',
        { spendId: s.id },
      );
    }
    faultPoint('spend.signed');
    this.deps.onProgress?.('Broadcasting');
    await this.broadcastStored({ ...s, state: 'signed', plan: '', tx_hex: txHex, txid });
    await this.deps.vaults.syncDeposits();
    return txid;
  }

  /** Spends waiting for the guardian's signed PSBT file, oldest first. */
  guardianRequests(): GuardianRequest[] {
    const rows = this.db
      .prepare(
        "SELECT id, vault_id, kind, plan, psbt, created_at FROM spends WHERE state = 'awaiting-guardian' ORDER BY id",
      )
      .all() as {
      id: number;
      vault_id: number;
      kind: SpendPlan['kind'];
      plan: string;
      psbt: string;
      created_at: number;
    }[];
    return rows.map((r) => {
      const plan = JSON.parse(r.plan) as SpendPlan;
      return {
        spendId: r.id,
        vaultId: r.vault_id,
        kind: r.kind,
        psbtBase64: r.psbt,
        txid: unsignedTxIdOf(r.psbt),
        feeSats: plan.feeSats,
        outputs: plan.outputs.map((o) => ({ address: o.address, amountSats: o.amountSats })),
        createdAt: r.created_at,
      };
    });
  }

  /**
   * Completes a spend waiting for the guardian with the guardian's signed PSBT (base64, as read
   * from its file): it must be the very transaction stored — so nothing the first key and the
   * protocol approved can change — and carry a valid guardian signature on every input. Then the
   * spend is finalized, checked by the node, stored and broadcast. A bad file changes nothing.
   */
  async completeWithGuardian(spendId: unknown, psbtBase64: unknown): Promise<SpendResult> {
    const row = this.awaitingRow(spendId);
    if (typeof psbtBase64 !== 'string' || psbtBase64.length === 0) {
      throw new BitStableError('PSBT_INVALID', 'Give the PSBT the guardian signed.', {});
    }
    if (this.inFlight.has(row.id)) {
      throw new BitStableError('INVALID_STATE', 'This transaction is being completed already.', {
        spendId: row.id,
      });
    }
    const plan = JSON.parse(row.plan) as SpendPlan;
    const keys = this.deps.vaults.keySet(this.deps.vaults.getVault(row.vault_id).keySetId);
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
    this.inFlight.add(row.id);
    let adopted = false;
    try {
      // The guardian may have sent it already (its wallet finalizes and offers to broadcast).
      if (await this.adoptIfSent(row)) {
        adopted = true;
        return { spendId: row.id, txid: expected, plan, state: 'broadcast' };
      }
      const txid = await this.completeAndBroadcast(
        { id: row.id, vault_id: row.vault_id, kind: row.kind, state: 'awaiting-guardian' },
        [row.psbt, imported.psbt],
      );
      return { spendId: row.id, txid, plan, state: 'broadcast' };
    } finally {
      this.inFlight.delete(row.id);
      // Also when the broadcast failed after the transaction was stored: it left the list.
      const now = this.db.prepare('SELECT state FROM spends WHERE id = ?').pluck().get(row.id);
      if (!adopted && now !== 'awaiting-guardian') this.spendChanged(row, String(now));
    }
  }

  /**
   * Gives up a spend waiting for the guardian and frees its coins: BitStable has sent nothing. It
   * stays watched for a while (`cancelled`): should the guardian send their signed copy anyway,
   * it is tracked from the chain. An auction's settlement is planned again, with a fresh fee rate,
   * at the next tick.
   */
  async cancelGuardianRequest(spendId: unknown): Promise<void> {
    const row = this.awaitingRow(spendId);
    if (this.inFlight.has(row.id)) {
      throw new BitStableError(
        'INVALID_STATE',
        'This transaction is being completed; it can no longer be cancelled.',
        { spendId: row.id },
      );
    }
    this.inFlight.add(row.id);
    try {
      if (await this.adoptIfSent(row)) {
        throw new BitStableError(
          'INVALID_STATE',
          'The guardian has already sent this transaction; it can no longer be cancelled and is tracked until it confirms.',
          { spendId: row.id },
        );
      }
      this.setSpendState(row, 'cancelled');
    } finally {
      this.inFlight.delete(row.id);
    }
    this.spendChanged(row, 'cancelled');
  }

  /**
   * A guardian request (waiting or cancelled) whose transaction the node already knows — in a
   * block, or in the mempool — becomes a `broadcast` spend with that transaction; any other
   * request for the vault's coins can no longer be sent and is dropped. True when adopted.
   */
  private async adoptIfSent(row: SpendRow & { psbt: string }): Promise<boolean> {
    const txid = unsignedTxIdOf(row.psbt);
    const confs = await this.deps.node.confirmations(txid);
    if (confs < 0 || (confs === 0 && !(await this.deps.node.inMempool(txid)))) return false;
    const txHex = await this.deps.node.transactionHex(txid);
    const ts = this.now();
    const adopted = this.db.transaction(() => {
      const moved = this.db
        .prepare(
          "UPDATE spends SET state = 'broadcast', tx_hex = ?, txid = ?, updated_at = ? WHERE id = ? AND state = ? AND NOT EXISTS (SELECT 1 FROM spends WHERE txid = ?)",
        )
        .run(txHex, txid, ts, row.id, row.state, txid);
      if (moved.changes === 0) return false;
      journal(
        this.db,
        'spend.broadcast',
        row.vault_id,
        { spendId: row.id, txid, sentBy: 'guardian' },
        ts,
      );
      const others = this.db
        .prepare(
          "SELECT id FROM spends WHERE vault_id = ? AND id <> ? AND state = 'awaiting-guardian'",
        )
        .pluck()
        .all(row.vault_id, row.id) as number[];
      for (const id of others) {
        this.db
          .prepare("UPDATE spends SET state = 'abandoned', updated_at = ? WHERE id = ?")
          .run(ts, id);
        journal(this.db, 'spend.abandoned', row.vault_id, { spendId: id, txid: null }, ts);
      }
      return true;
    })();
    if (adopted) this.spendChanged(row, 'broadcast');
    return adopted;
  }

  private spendChanged(s: Pick<SpendRow, 'id' | 'vault_id' | 'kind'>, state: string): void {
    this.deps.bus.emit('spend.changed', {
      spendId: s.id,
      vaultId: s.vault_id,
      kind: s.kind,
      state,
    });
  }

  private awaitingRow(spendId: unknown): SpendRow & { psbt: string } {
    if (typeof spendId !== 'number' || !Number.isSafeInteger(spendId) || spendId <= 0) {
      throw new BitStableError('INVALID_ARGUMENT', 'A spend id is a positive whole number.', {
        spendId: String(spendId).slice(0, 40),
      });
    }
    const row = this.db.prepare('SELECT * FROM spends WHERE id = ?').get(spendId) as
      (SpendRow & { psbt: string }) | undefined;
    if (!row) {
      throw new BitStableError('SPEND_NOT_FOUND', `There is no transaction #${spendId}.`, {
        spendId,
      });
    }
    if (row.state !== 'awaiting-guardian') {
      throw new BitStableError(
        'INVALID_STATE',
        `Transaction #${spendId} is not waiting for the guardian (it is ${row.state}).`,
        { spendId, state: row.state },
      );
    }
    return row;
  }

  private async broadcastStored(s: SpendRow): Promise<void> {
    await this.deps.node.broadcast(s.tx_hex!);
    faultPoint('spend.broadcast'); // sent, not yet marked: a restart sends the same one again
    this.setSpendState(s, 'broadcast');
  }

  private setSpendState(
    s: Pick<SpendRow, 'id' | 'vault_id'> & Partial<SpendRow>,
    state: string,
  ): void {
    const ts = this.now();
    const changed = this.db.transaction(() => {
      // Only from the state the caller saw: a concurrent step that moved it first wins.
      const moved = s.state
        ? this.db
            .prepare('UPDATE spends SET state = ?, updated_at = ? WHERE id = ? AND state = ?')
            .run(state, ts, s.id, s.state)
        : this.db
            .prepare('UPDATE spends SET state = ?, updated_at = ? WHERE id = ?')
            .run(state, ts, s.id);
      if (moved.changes === 0) return false;
      journal(this.db, `spend.${state}`, s.vault_id, { spendId: s.id, txid: s.txid ?? null }, ts);
      const closes = s.kind === 'close' || s.kind === 'emergency-exit';
      if (closes && state === 'confirmed') {
        this.db
          .prepare("UPDATE vaults SET state = 'closed', updated_at = ? WHERE id = ?")
          .run(ts, s.vault_id);
      } else if (closes && state === 'broadcast' && s.state === 'confirmed') {
        // A reorg undid the close: the vault is open again until it re-confirms.
        this.db
          .prepare(
            "UPDATE vaults SET state = 'active', updated_at = ? WHERE id = ? AND state = 'closed'",
          )
          .run(ts, s.vault_id);
      } else if (s.kind === 'settlement' && state === 'broadcast' && s.state === 'confirmed') {
        // A reorg undid the settlement: liquidating again until it re-confirms.
        this.db
          .prepare(
            "UPDATE vaults SET state = 'liquidating', updated_at = ? WHERE id = ? AND state = 'liquidated'",
          )
          .run(ts, s.vault_id);
        this.db
          .prepare(
            "UPDATE liquidations SET state = 'settling' WHERE vault_id = ? AND state = 'settled'",
          )
          .run(s.vault_id);
      }
      return true;
    })();
    if (!changed) return;
    if (state === 'confirmed' && s.state !== 'confirmed') {
      this.deps.bus.emit('spend.confirmed', {
        spendId: s.id,
        vaultId: s.vault_id,
        kind: s.kind ?? '',
        txid: s.txid ?? null,
      });
    }
    if (s.kind === 'close' || s.kind === 'emergency-exit') {
      const v = this.deps.vaults.getVault(s.vault_id);
      this.deps.bus.emit('vault.changed', {
        vaultId: v.id,
        state: v.state,
        collateralSats: v.collateralSats,
        debtCents: v.debtCents,
      });
    }
  }

  /** One debt change: checks, ledger entry, vault row and journal in one transaction. */
  private changeDebt(
    vaultId: unknown,
    delta: number,
    check: (
      vault: Vault,
      newDebt: number,
    ) => { entry: 'mint' | 'repay'; postings: [string, number][]; price: Cents | null },
  ): Vault {
    const ts = this.now();
    const updated = this.db.transaction(() => {
      const vault = this.openVault(vaultId, ['pending', 'active', 'warning']);
      const newDebt = vault.debtCents + delta;
      const { entry, postings, price } = check(vault, newDebt);
      post(this.db, entry, vault.id, postings, undefined, ts);
      const debt = newDebt as Cents;
      const state = nextStateOutsideHealthPass(
        vault.state,
        { collateralSats: vault.collateralSats, debtCents: debt, freshPriceCents: price },
        this.deps.params,
      );
      const prices = storedPrices(vault.collateralSats, debt, this.deps.params);
      this.db
        .prepare(
          'UPDATE vaults SET debt_cents = ?, state = ?, liquidation_price_cents = ?, warning_price_cents = ?, updated_at = ? WHERE id = ?',
        )
        .run(debt, state, prices.liquidation, prices.warning, ts, vault.id);
      journal(
        this.db,
        `vault.${entry}`,
        vault.id,
        { amountCents: Math.abs(delta), debtCents: debt },
        ts,
      );
      return {
        ...vault,
        debtCents: debt,
        state,
        liquidationPriceCents: prices.liquidation,
        warningPriceCents: prices.warning,
      };
    })();
    this.deps.bus.emit('vault.changed', {
      vaultId: updated.id,
      state: updated.state,
      collateralSats: updated.collateralSats,
      debtCents: updated.debtCents,
    });
    return updated;
  }

  private openVault(vaultId: unknown, allowed: Vault['state'][]): Vault {
    const vault = this.deps.vaults.getVault(vaultId);
    if (!allowed.includes(vault.state)) {
      throw new BitStableError(
        'INVALID_STATE',
        `Vault #${vault.id} is ${vault.state}; that cannot be done now.`,
        {
          vaultId: vault.id,
          state: vault.state,
        },
      );
    }
    return vault;
  }

  private positiveCents(value: unknown): Cents {
    const amount = cents(value);
    if (amount === 0)
      throw new BitStableError('INVALID_AMOUNT', 'The amount must be more than 0.', {});
    return amount;
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
}

/** The recovery kit (SPEC §4): enough to rebuild every vault in Sparrow, Electrum or Core. */
export function recoveryKit(vaults: VaultService, keySetId: number, network: NetworkInfo) {
  const keys = vaults.keySet(keySetId);
  const indexes = vaults
    .listVaults()
    .filter((v) => v.keySetId === keySetId)
    .map((v) => v.index)
    .sort((a, b) => a - b);
  return {
    format: 'bitstable-recovery-kit/1',
    network: network.name,
    descriptor: rangedDescriptor(keys),
    policy: 'wsh(sortedmulti(2,@0/**,@1/**,@2/**))',
    keys: {
      owner: keyExpression(keys.owner),
      protocol: keyExpression(keys.protocol),
      guardian: keyExpression(keys.guardian),
    },
    vaultIndexes: indexes,
    note: 'Import the descriptor as a watch-only wallet and scan indexes 0 to the highest listed; any two of the three keys spend.',
  };
}
