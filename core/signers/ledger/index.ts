/**
 * The owner's Ledger: signer, transport, registration store, and error mapping.
 */
import type { LedgerOwnerSignerOptions } from './signer';
import { LedgerOwnerSigner } from './signer';
import { openLedgerTransport, type LedgerTransportConfig } from './transport';

export { LedgerOwnerSigner, type LedgerOwnerSignerOptions, type VaultAddressCheck } from './signer';
export { openLedgerTransport, type LedgerTransportConfig } from './transport';
export {
  MemoryRegistrationStore,
  type LedgerRegistration,
  type RegistrationStore,
} from './registration-store';
export { checkApp, expectedAppName, MIN_APP_VERSION, type LedgerAppInfo } from './app';
export {
  deviceError,
  statusWordError,
  type DeviceOp,
  type DeviceErrorContext,
} from './device-errors';
export { defaultPolicyName, policyDescriptor, policyKeys, vaultWalletPolicy } from './policy';
export {
  placeSignatures,
  decodePsbt,
  inputsSignableBy,
  type DeviceSignature,
} from './place-signatures';

/**
 * The owner signer on the configured transport (USB HID by default). Nothing is opened yet: the
 * device is reached when a request needs it, and reached again after it was lost.
 */
export async function openLedgerOwnerSigner(
  config: LedgerTransportConfig,
  options: Omit<LedgerOwnerSignerOptions, 'transport' | 'openTransport'>,
): Promise<LedgerOwnerSigner> {
  return new LedgerOwnerSigner({ ...options, openTransport: () => openLedgerTransport(config) });
}
