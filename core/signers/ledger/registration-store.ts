/**
 * Where wallet-policy registrations are kept, so the owner registers a vault set once per
 * device and never again — unless the device itself rejects the stored HMAC.
 */

import type { KeyOrigin } from '../../bitcoin/keys';

/** One registration of a vault set's policy on one Ledger (by its master fingerprint). */
export interface LedgerRegistration {
  /** The device's master key fingerprint, 8 lowercase hex digits. */
  fingerprint: string;
  /** The policy with keys filled in (policyDescriptor): identifies the vault set. */
  descriptor: string;
  /** The name registered on the device; part of the policy id. */
  name: string;
  /** The wallet policy id returned by the device, 64 hex digits. */
  policyId: string;
  /** The registration HMAC returned by the device, 64 hex digits. */
  hmac: string;
}

/**
 * What BitStable remembers of the owner's Ledger: its registrations, and the owner key it read
 * the first time. Backed by the database in the app (`SqliteRegistrationStore`,
 * core/store/sqlite/device-registrations.ts), by memory in tests.
 */
export interface RegistrationStore {
  get(fingerprint: string, descriptor: string): Promise<LedgerRegistration | undefined>;
  /** Adds or replaces the registration for (fingerprint, descriptor). */
  put(registration: LedgerRegistration): Promise<void>;
  delete(fingerprint: string, descriptor: string): Promise<void>;
  /** The owner's account key on this network, as first read from the device. */
  ownerKey(network: string): Promise<KeyOrigin | undefined>;
  /** Remembers it (the first one stays: a later call does not replace it). */
  rememberOwnerKey(network: string, key: KeyOrigin): Promise<void>;
}

const keyOf = (fingerprint: string, descriptor: string) =>
  `${fingerprint.toLowerCase()} ${descriptor}`;

/** A RegistrationStore in memory (tests, and until the database backs it). */
export class MemoryRegistrationStore implements RegistrationStore {
  private readonly items = new Map<string, LedgerRegistration>();
  private readonly owners = new Map<string, KeyOrigin>();

  async ownerKey(network: string): Promise<KeyOrigin | undefined> {
    const key = this.owners.get(network);
    return key && { ...key };
  }

  async rememberOwnerKey(network: string, key: KeyOrigin): Promise<void> {
    if (!this.owners.has(network)) this.owners.set(network, { ...key });
  }

  async get(fingerprint: string, descriptor: string): Promise<LedgerRegistration | undefined> {
    const found = this.items.get(keyOf(fingerprint, descriptor));
    return found && { ...found };
  }

  async put(registration: LedgerRegistration): Promise<void> {
    this.items.set(keyOf(registration.fingerprint, registration.descriptor), { ...registration });
  }

  async delete(fingerprint: string, descriptor: string): Promise<void> {
    this.items.delete(keyOf(fingerprint, descriptor));
  }
}
