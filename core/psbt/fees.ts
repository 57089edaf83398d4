/**
 * Transaction size, fee and dust for vault spends, in integers.
 *
 * bitcoinjs-lib cannot size an unsigned transaction (it needs the witnesses), so the weight of a
 * 2-of-3 P2WSH input is counted here from its parts, with the largest DER signatures, so the
 * real fee rate is never under the target.
 */
import { address as bjsAddress } from 'bitcoinjs-lib';
import type { NetworkInfo } from '../config/networks';
import { BitStableError } from '../errors';
import type { Sats } from '../money';

/** Weight of one 2-of-3 sortedmulti P2WSH input, signatures at their 72-byte maximum. */
const P2WSH_2OF3_INPUT_WEIGHT =
  (32 + 4 + 1 + 4) * 4 + // outpoint, empty scriptSig length, sequence
  1 + // witness item count
  1 + // the empty item CHECKMULTISIG consumes
  2 * (1 + 72) + // two signatures
  (1 + 105); // witness script: OP_2 <33> <33> <33> OP_3 OP_CHECKMULTISIG
/** version, locktime, input and output counts, segwit marker and flag. */
const TX_OVERHEAD_WEIGHT = (4 + 4 + 1 + 1) * 4 + 2;

/**
 * Decoded addresses, per network: decoding tries each address form in turn and throws on the
 * misses, which costs more than the rest of planning a settlement to twenty takers. Bounded.
 */
const decoded = new Map<string, Uint8Array>();
const DECODED_MAX = 10_000;

/** The output script for an address on `net`; a wrong or foreign address is INVALID_ADDRESS. */
export function outputScript(address: string, net: NetworkInfo): Uint8Array {
  const key = `${net.name}:${address}`;
  const known = decoded.get(key);
  if (known) return Uint8Array.from(known);
  try {
    const script = bjsAddress.toOutputScript(address, net.bitcoinjs);
    if (decoded.size >= DECODED_MAX) decoded.delete(decoded.keys().next().value!);
    decoded.set(key, Uint8Array.from(script));
    return script;
  } catch {
    throw new BitStableError(
      'INVALID_ADDRESS',
      `"${address}" is not a valid ${net.name} address.`,
      {
        address,
        network: net.name,
      },
    );
  }
}

/** Virtual size of a spend of `inputs` vault coins to outputs with these scripts. */
export function vsize(inputs: number, outputScripts: Uint8Array[]): number {
  const outputs = outputScripts.reduce((w, s) => w + (8 + 1 + s.length) * 4, 0);
  return Math.ceil((TX_OVERHEAD_WEIGHT + inputs * P2WSH_2OF3_INPUT_WEIGHT + outputs) / 4);
}

/** Fee for `vbytes` at `satPerKvB`, rounded up. */
export function feeFor(vbytes: number, satPerKvB: number): Sats {
  return Math.ceil((vbytes * satPerKvB) / 1000) as Sats;
}

const isWitnessProgram = (s: Uint8Array) =>
  s.length >= 4 &&
  s.length <= 42 &&
  (s[0] === 0 || (s[0]! >= 0x51 && s[0]! <= 0x60)) &&
  s[1] === s.length - 2;

/** Bitcoin Core's dust threshold at its default dust relay fee (3 sat/vB). */
export function dustThreshold(script: Uint8Array): Sats {
  const outputSize = 8 + 1 + script.length;
  // Spending cost Core assumes: 67 vbytes for a witness input, 148 for a legacy one.
  return ((outputSize + (isWitnessProgram(script) ? 67 : 148)) * 3) as Sats;
}
