/**
 * What the Ledger asks of the person, as prompt messages the UI shows. Pure functions: each
 * builds one message from what it is given and keeps no state.
 */
import { satsToBtcString, type Sats } from '../../money';
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

/** An output of the PSBT being signed, as the device will show it. */
export interface ShownOutput {
  /** In the device's encoding (tb1… for every test network). */
  address: string;
  amountSats: number;
  /** Change back to the vault: its address index (the device recognises it and does not show it). */
  changeIndex?: number;
}

/** Signing: the owner reviews each payment and the fee on the device, as listed here. */
export function signPrompt(
  net: NetworkInfo,
  purpose: string | undefined,
  unverifiedInputs: boolean,
  outputs: ShownOutput[] = [],
  feeSats?: number,
  vaultId?: number,
): SignerPrompt {
  const what = purpose ? `${purpose}: review` : 'Review';
  const warning = unverifiedInputs
    ? ' The Ledger will first warn about "unverified inputs" because the PSBT lacks the previous transactions; continue only if you expected that.'
    : '';
  const btc = (n: number) => `${satsToBtcString(n as Sats)} BTC`;
  const shown = outputs
    .filter((o) => o.changeIndex === undefined)
    .map((o) => `${btc(o.amountSats)} to ${o.address}`);
  const change = outputs
    .filter((o) => o.changeIndex !== undefined)
    .map(
      (o) =>
        `${btc(o.amountSats)} back to ${vaultId === undefined ? 'the vault' : `vault #${vaultId}`} (its address #${o.changeIndex}; the Ledger knows it as change and does not show it)`,
    );
  const list = outputs.length
    ? ` The Ledger will show: ${[...shown, ...(feeSats === undefined ? [] : [`fee ${btc(feeSats)}`])].join('; ')}.${change.length ? ` Also ${change.join('; ')}.` : ''}`
    : '';
  return {
    state: 'active',
    level: unverifiedInputs ? 'warning' : 'info',
    code: 'ledger.sign',
    text: `${what} the transaction on your Ledger — amount, destination and fee — then choose "Sign transaction".${list}${warning}${regtestNote(net)}`,
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
