/**
 * In-process event bus. Every state change that others should see is announced here after its
 * transaction commits (and journaled in the `events` table inside it).
 */
import { EventEmitter } from 'node:events';

/** Every event the core emits, by type. Payloads are plain JSON-able data. */
export interface CoreEvents {
  'vault.created': { vaultId: number; address: string };
  'vault.changed': { vaultId: number; state: string; collateralSats: number; debtCents: number };
  'price.round': { roundId: number; priceCents: number | null; status: string; accepted: boolean };
  'price.accepted': { roundId: number; priceCents: number; ts: number };
  'node.status': { online: boolean; height: number | null; message?: string };
  'auction.started': { auctionId: number; vaultId: number };
  'auction.changed': { auctionId: number; state: string };
  'spend.confirmed': { spendId: number; vaultId: number; kind: string; txid: string | null };
  /** A spend began or stopped waiting for the guardian's signed PSBT file. */
  'spend.changed': { spendId: number; vaultId: number; kind: string; state: string };
  /** bsUSD moved between two accounts (shown to those two only). */
  'bsusd.transfer': {
    entryId: number;
    from: string;
    to: string;
    amountCents: number;
    memo: string | null;
  };
}

export type CoreEventType = keyof CoreEvents;

/** A typed wrapper over EventEmitter; listeners that throw are isolated from the emitter. */
export class EventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(100);
  }

  /** Subscribes to one event type; returns the unsubscribe function. */
  on<T extends CoreEventType>(type: T, listener: (payload: CoreEvents[T]) => void): () => void {
    const safe = (payload: CoreEvents[T]) => {
      try {
        listener(payload);
      } catch (err) {
        this.emitter.emit('listener-error', err);
      }
    };
    this.emitter.on(type, safe);
    return () => this.emitter.off(type, safe);
  }

  /** Announces an event to every subscriber. */
  emit<T extends CoreEventType>(type: T, payload: CoreEvents[T]): void {
    this.emitter.emit(type, payload);
  }
}
