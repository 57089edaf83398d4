/**
 * What the Ledger asks of the person, as prompt messages the UI shows. Pure functions: each
 * builds one message from what it is given and keeps no state.
 */
import type { NetworkInfo } from '../../config/networks';
import type { BitStableError } from '../../errors';
import type { SignerPrompt, VaultKeyOrigins } from '../types';
import { expectedAppName } from './app';
import { policyKeys } from './policy';

// The Bitcoin Test app knows only testnet encodings, so on regtest the device shows tpub keys and
// tb1… addresses where BitStable shows bcrt1…; the scripts are the same.
function regtestNote(net: NetworkInfo): string {
  return net.name === 'regtest'
    ? ' On regtest the Ledger shows testnet-style keys and addresses (tpub…, tb1…) where BitStable shows bcrt1…: that is expected, the keys and scripts are the same.'
    : '';
}

/** Before the first request: the device must be connected, unlocked, in the right app. */
export function connectPrompt(net: NetworkInfo): SignerPrompt {
  return {
    state: 'pending',
    level: 'info',
    code: 'ledger.connect',
    text: `Connect your Ledger, unlock it with your PIN and open the ${expectedAppName(net)} app.`,
  };
}

/** Registration: the owner checks the name, the policy and all three keys on the device. */
export function registerPrompt(
  net: NetworkInfo,
  keys: VaultKeyOrigins,
  name: string,
): SignerPrompt {
  const [owner, protocol, guardian] = policyKeys(keys);
  return {
    state: 'active',
    level: 'info',
    code: 'ledger.register',
    text:
      `Register the vault on your Ledger (needed once). Check that it shows the account name "${name}", ` +
      `the policy wsh(sortedmulti(2,@0/**,@1/**,@2/**)), and exactly these keys: ` +
      `@0 (your key) ${owner}; @1 (protocol) ${protocol}; @2 (guardian) ${guardian}. ` +
      `If all match, approve "Register account"; if anything differs, reject.` +
      regtestNote(net),
  };
}

/** Address check: the owner compares the address on the device with the one on screen. */
export function addressPrompt(
  net: NetworkInfo,
  index: number,
  deviceAddress: string,
): SignerPrompt {
  return {
    state: 'active',
    level: 'info',
    code: 'ledger.address',
    text: `Check that your Ledger shows the address of vault ${index}: ${deviceAddress}. Approve only if it matches.${regtestNote(net)}`,
  };
}

/** Signing: the owner reviews amount, destination and fee on the device. */
export function signPrompt(
  net: NetworkInfo,
  purpose: string | undefined,
  unverifiedInputs: boolean,
): SignerPrompt {
  const what = purpose ? `${purpose}: review` : 'Review';
  const warning = unverifiedInputs
    ? ' The Ledger will first warn about "unverified inputs" because the PSBT lacks the previous transactions; continue only if you expected that.'
    : '';
  return {
    state: 'active',
    level: unverifiedInputs ? 'warning' : 'info',
    code: 'ledger.sign',
    text: `${what} the transaction on your Ledger — amount, destination and fee — then choose "Sign transaction".${warning}${regtestNote(net)}`,
  };
}

/** The request finished. */
export function donePrompt(code: string, text: string): SignerPrompt {
  return { state: 'done', level: 'success', code, text };
}

/** The request failed; the error's sentence is the text. */
export function failedPrompt(err: BitStableError): SignerPrompt {
  return { state: 'failed', level: 'error', code: err.code, text: err.message };
}
