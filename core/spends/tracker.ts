/**
 * Brings stored spends forward against the chain (the chain is the truth): drafts nobody signed
 * expire, signatures a dead process left are dropped, guardian requests the guardian sent
 * themselves are adopted, signed spends are (re)sent, confirmations and reorgs are followed.
 */
import type { VaultParams } from '../config/networks';
import { isBitStableError } from '../errors';
import type { BitcoinNode } from '../node/bitcoin-node';
import type { SpendService } from './service';
import type { SpendRow } from './store';

export class SpendTracker {
  private readonly now: () => number;

  constructor(
    private readonly spends: SpendService,
    private readonly deps: { node: BitcoinNode; params: VaultParams; clock?: () => number },
  ) {
    this.now = deps.clock ?? Date.now;
  }

  /**
   * Between blocks: a request the guardian sent from their own wallet is adopted as soon as the
   * node's mempool has it (the pass at each block adopts the rest). Returns how many.
   */
  async adoptSentByGuardian(): Promise<number> {
    let adopted = 0;
    for (const r of await this.spends.store.watchedGuardianRequests()) {
      if (await this.spends.adoptIfSent(r)) adopted++;
    }
    return adopted;
  }

  /**
   * One pass over every spend that is not finished. Returns how many transactions it sent, sent
   * again, dropped or adopted — moves that change which coins the node's wallet shows.
   */
  async track(): Promise<number> {
    const { store } = this.spends;
    let moved = 0;
    await this.expireDrafts();
    // Left `signing` by a process that is gone (a crash mid-signing): nothing was sent.
    for (const r of await store.inStates(['signing'])) {
      if (r.signing_by !== this.spends.instance) await this.spends.move(r, 'fail');
    }
    // The guardian holds a PSBT two keys have signed and may send it from their own wallet.
    for (const r of await store.watchedGuardianRequests()) {
      if (await this.spends.adoptIfSent(r)) moved++;
    }

    // Dropped transactions the node's wallet still holds: one the chain brought back (its
    // conflict was reorged away) is sent after all; one neither mined nor in the mempool is
    // abandoned in the wallet again — while it counts as pending there, its inputs would be
    // missing from the vault's coins (a conflicted one could not be abandoned when dropped).
    for (const d of await store.droppedRecently()) {
      const confs = await this.deps.node.confirmations(d.txid!);
      if (confs < 0) continue;
      if (confs > 0 || (await this.deps.node.inMempool(d.txid!))) {
        if (await this.spends.move(d, 'revive')) moved++;
      } else {
        await this.deps.node.abandon(d.txid!);
      }
    }

    for (let s of await store.tracked()) {
      if (s.state === 'signed') {
        moved++;
        if (!(await this.send(s, 0))) continue;
        s = (await store.get(s.id))!;
      }
      const confs = await this.deps.node.confirmations(s.txid!);
      if (confs >= this.deps.params.confirmations) {
        if (s.state !== 'confirmed') await this.spends.move(s, 'confirm');
        continue;
      }
      if (s.state === 'confirmed') {
        await this.spends.move(s, 'unconfirm');
        s = (await store.get(s.id))!;
      }
      // Neither in a block nor in the mempool (evicted by a reorg, or never relayed): Core's
      // wallet still counts its inputs as spent, so the vault would look empty. Send it again —
      // it is signed and was checked — or, if it can no longer be sent, let it go.
      if (confs <= 0 && !(await this.deps.node.inMempool(s.txid!))) {
        moved++;
        await this.send(s, confs);
      }
    }
    return moved;
  }

  /**
   * Drafts past their time free their vault; so do drafts an earlier process made (after a
   * restart nobody holds their id: the review is made again).
   */
  async expireDrafts(): Promise<number> {
    let n = 0;
    for (const r of await this.spends.store.inStates(['draft'])) {
      if (r.signing_by !== this.spends.instance) {
        if (await this.spends.move(r, 'supersede')) n++;
      } else if (
        r.expires_at !== null &&
        this.now() >= r.expires_at &&
        (await this.spends.move(r, 'expire'))
      )
        n++;
    }
    return n;
  }

  /**
   * (Re)sends a stored spend; one that can no longer be sent is dropped. False when dropped.
   * A refusal is checked against the node first: another pass (or the signing call itself) may
   * have sent it meanwhile, or it is in a block — then it is sent, not lost. A dropped one is
   * abandoned in the node's wallet too, so its inputs count as the vault's coins again.
   */
  private async send(s: SpendRow, confs: number): Promise<boolean> {
    try {
      if (s.state === 'signed') await this.spends.broadcastStored(s);
      else await this.deps.node.broadcast(s.tx_hex!);
      return true;
    } catch (err) {
      if (!isBitStableError(err, 'PSBT_INVALID')) throw err;
      const now = await this.deps.node.confirmations(s.txid!);
      if (now > 0 || (now === 0 && (await this.deps.node.inMempool(s.txid!)))) {
        if (s.state === 'signed') await this.spends.move(s, 'send');
        return true;
      }
      // Its coins were spent by another transaction, or the deposit it spends was reorged away.
      // (A conflicted one cannot be abandoned now; the dropped-spends pass retries.)
      if (now === 0 || confs === 0) await this.deps.node.abandon(s.txid!);
      await this.spends.move(s, 'drop');
      return false;
    }
  }
}
