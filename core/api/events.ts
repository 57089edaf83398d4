/**
 * Events pushed to API clients: the core's events (price, vault, auction, node, spend) plus the
 * host's signer prompts and progress lines. One schema per event type.
 */
import { z } from 'zod';
import { SignerPrompt } from './schemas';

export const EVENT_SCHEMAS = {
  'vault.created': z.object({ vaultId: z.int(), address: z.string() }),
  'vault.changed': z.object({
    vaultId: z.int(),
    state: z.string(),
    collateralSats: z.int(),
    debtCents: z.int(),
  }),
  'price.round': z.object({
    roundId: z.int(),
    priceCents: z.int().nullable(),
    status: z.string(),
    accepted: z.boolean(),
  }),
  'price.accepted': z.object({ roundId: z.int(), priceCents: z.int(), ts: z.int() }),
  'node.status': z.object({
    online: z.boolean(),
    height: z.int().nullable(),
    message: z.string().optional(),
  }),
  'auction.started': z.object({ auctionId: z.int(), vaultId: z.int() }),
  'auction.changed': z.object({ auctionId: z.int(), state: z.string() }),
  'spend.confirmed': z.object({
    spendId: z.int(),
    vaultId: z.int(),
    kind: z.string(),
    txid: z.string().nullable(),
  }),
  'spend.changed': z.object({
    spendId: z.int(),
    vaultId: z.int(),
    kind: z.string(),
    state: z.string(),
  }),
  'bsusd.transfer': z.object({
    entryId: z.int(),
    from: z.string(),
    to: z.string(),
    amountCents: z.int(),
    memo: z.string().nullable(),
  }),
  /** What the signing device (or software key) asks of the person now. */
  'signer.prompt': SignerPrompt.extend({ operation: z.string().nullable() }),
  /** A line of progress on long work (signing, broadcasting, starting the node). */
  progress: z.object({ text: z.string() }),
} as const;

export type ApiEventType = keyof typeof EVENT_SCHEMAS;
export type ApiEvent<T extends ApiEventType = ApiEventType> = {
  [K in T]: { type: K; payload: z.output<(typeof EVENT_SCHEMAS)[K]> };
}[T];

export const EVENT_TYPES = Object.keys(EVENT_SCHEMAS) as ApiEventType[];

/** The core event types the host forwards from the EventBus as they are. */
export const CORE_EVENT_TYPES = [
  'vault.created',
  'vault.changed',
  'price.round',
  'price.accepted',
  'node.status',
  'auction.started',
  'auction.changed',
  'spend.confirmed',
  'spend.changed',
  'bsusd.transfer',
] as const satisfies readonly ApiEventType[];
