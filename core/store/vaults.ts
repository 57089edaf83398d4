/**
 * The vaults port: Vaults, key sets, their coins and debt; the stability fee book; ceilings.
 * (Filled in as the statements move here from the services; see `ports.ts`.)
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in as statements move
export interface VaultsRepo {}
