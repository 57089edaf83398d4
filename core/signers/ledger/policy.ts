/**
 * The Ledger wallet policy of a vault set (SPEC §4): the template
 * `wsh(sortedmulti(2,@0/**,@1/**,@2/**))` with keys owner (@0, the device's), protocol, guardian.
 */
import { createHash } from 'node:crypto';
import { WalletPolicy } from 'ledger-bitcoin';
import { keyExpression } from '../../bitcoin/keys';
import { POLICY_TEMPLATE } from '../../bitcoin/descriptor';
import type { VaultKeyOrigins } from '../types';

/** The policy's key expressions in placeholder order: @0 owner, @1 protocol, @2 guardian. */
export function policyKeys(keys: VaultKeyOrigins): string[] {
  return [keys.owner, keys.protocol, keys.guardian].map(keyExpression);
}

/**
 * The policy with its keys filled in, e.g. `wsh(sortedmulti(2,[f5acc2fd/48'/1'/0'/2']tpub…/**,…))`:
 * what a registration is stored under, independent of the name it was registered with.
 */
export function policyDescriptor(keys: VaultKeyOrigins): string {
  const exprs = policyKeys(keys);
  // Replace from the highest index down so @1 never eats the start of @10.
  let out = POLICY_TEMPLATE;
  for (let i = exprs.length - 1; i >= 0; i--) out = out.split(`@${i}`).join(exprs[i]!);
  return out;
}

/**
 * The name the device shows for the vault set: "BitStable " and six hex digits of the policy.
 * 16 characters at most, the limit of older Bitcoin app versions.
 */
export function defaultPolicyName(keys: VaultKeyOrigins): string {
  const digest = createHash('sha256').update(policyDescriptor(keys)).digest('hex');
  return `BitStable ${digest.slice(0, 6)}`;
}

/** The ledger-bitcoin WalletPolicy for a vault set under `name`. */
export function vaultWalletPolicy(keys: VaultKeyOrigins, name: string): WalletPolicy {
  return new WalletPolicy(name, POLICY_TEMPLATE, policyKeys(keys));
}
