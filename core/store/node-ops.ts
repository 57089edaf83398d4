/**
 * The ops port: What the node keeps about itself: the event journal, metrics and health readings, settings, backups.
 * (Filled in as the statements move here from the services; see `ports.ts`.)
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in as statements move
export interface NodeOpsRepo {}
