/** The API: contract (shared with the renderer), dispatcher and events (server side). */
export * from './contract';
export * from './errors';
export * from './events';
export * from './dispatcher';
export type { ApiCore, ApiHostInfo } from './handlers';
export * as schemas from './schemas';
