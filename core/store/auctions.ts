/**
 * The auctions port: Liquidations, auctions and their takes, settlements, cures; the health pass's reads.
 * (Filled in as the statements move here from the services; see `ports.ts`.)
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in as statements move
export interface AuctionsRepo {}
