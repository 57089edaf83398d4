/**
 * What the wallet checks before it believes the protocol node (SPEC §4), as pure functions:
 * - the node's keys are the ones pinned on first connection;
 * - a vault's address and descriptor are what the wallet derives itself from the three keys;
 * - a PSBT spends only the vault's coins, pays exactly what the person asked (the rest back to
 *   the vault's own address), and a fee that is what the node said and within bounds.
 * Each refusal is a typed error with a sentence; the wallet then signs nothing.
 */
import { vaultDescriptor, vaultScript } from '../bitcoin/descriptor';
import { parseKey, type ParsedKey } from '../bitcoin/keys';
import type { NetworkInfo } from '../config/networks';
import { BitStableError } from '../errors';
import { decodePsbt } from '../keys/psbt-keys';
import { outputScript, vsize } from '../psbt/fees';
import type { SpendKind } from '../spends/state';

export interface PinnedKeys {
  nodeId: string;
  protocolKey: string;
  guardianKey: string;
}

/** Refuses a node whose keys are not the pinned ones (NODE_KEYS_CHANGED). */
export function checkPinned(pinned: PinnedKeys, now: PinnedKeys): void {
  for (const role of ['protocolKey', 'guardianKey'] as const) {
    if (pinned[role] !== now[role]) {
      const name = role === 'protocolKey' ? 'protocol' : 'guardian';
      throw new BitStableError(
        'NODE_KEYS_CHANGED',
        `The protocol node now shows another ${name} key than the one this wallet pinned when it first connected. Vaults on other keys are refused; ask the operator why before you go on.`,
        { role: name, pinned: pinned[role], shown: now[role] },
      );
    }
  }
}

/** The three keys of a vault as the wallet knows them. */
export function vaultKeys(
  ownerKey: string,
  pinned: PinnedKeys,
  net: NetworkInfo,
): { owner: ParsedKey; protocol: ParsedKey; guardian: ParsedKey } {
  return {
    owner: parseKey(ownerKey, net),
    protocol: parseKey(pinned.protocolKey, net),
    guardian: parseKey(pinned.guardianKey, net),
  };
}

/** The address and descriptor the wallet derives for vault `index`; refuses the node's if they differ. */
export function checkVaultAddress(
  keys: ReturnType<typeof vaultKeys>,
  index: number,
  net: NetworkInfo,
  shown: { address: string; descriptor: string },
): { address: string; descriptor: string } {
  const { address } = vaultScript(keys, index, net);
  const descriptor = vaultDescriptor(keys, index);
  if (address !== shown.address || descriptor !== shown.descriptor) {
    throw new BitStableError(
      'ADDRESS_MISMATCH',
      `The protocol node gave vault address ${shown.address}, but your three keys make ${address} at index ${index}. Do not send coins to it; nothing was stored.`,
      { shown: shown.address, derived: address, index },
    );
  }
  return { address, descriptor };
}

/** What the person asked for, as the wallet recorded it at review time. */
export interface SpendRequest {
  kind: SpendKind;
  vaultId: number;
  destination: string;
  /** Withdrawals only: the amount to the destination. */
  amountSats?: number;
  /** The fee the node's review showed the person. */
  feeSats: number;
}

/** A coin as the wallet's own Bitcoin node sees it (null: it does not know it, or it is spent). */
export type CoinLookup = (
  txid: string,
  vout: number,
) => Promise<{ amountSats: number; script: Uint8Array } | null>;

/** The most fee the wallet signs: the absolute cap, and a rate cap against its own estimate. */
export const MAX_FEE_SATS = 1_000_000;

/**
 * Checks an unsigned PSBT from the node against the vault's own script, the request, and (if
 * the wallet has one) its own node's view of each coin. Returns the fee and the change.
 */
export async function checkSpendPsbt(
  psbtBase64: string,
  vault: { address: string; index: number },
  keys: ReturnType<typeof vaultKeys>,
  request: SpendRequest,
  net: NetworkInfo,
  options: { lookup?: CoinLookup; maxFeeRateSatPerKvB?: number } = {},
): Promise<{ feeSats: number; changeSats: number }> {
  const psbt = decodePsbt(psbtBase64, net.bitcoinjs);
  const own = vaultScript(keys, vault.index, net);
  const vaultOut = Buffer.from(outputScript(vault.address, net));
  let inSats = 0;
  for (const [i, input] of psbt.data.inputs.entries()) {
    const outpoint = psbt.txInputs[i]!;
    const txid = Buffer.from(outpoint.hash).reverse().toString('hex');
    const utxo = input.witnessUtxo;
    const foreign = (why: string) =>
      new BitStableError(
        'PSBT_FOREIGN_INPUT',
        `The transaction spends ${txid}:${outpoint.index}, ${why}. Nothing was signed.`,
        { txid, vout: outpoint.index },
      );
    if (!utxo || !vaultOut.equals(Buffer.from(utxo.script)))
      throw foreign(`which is not a coin of vault #${request.vaultId}`);
    if (!input.witnessScript || !Buffer.from(input.witnessScript).equals(own.witnessScript))
      throw foreign("with a script that is not the vault's");
    if (options.lookup) {
      const seen = await options.lookup(txid, outpoint.index);
      if (!seen || !vaultOut.equals(Buffer.from(seen.script)))
        throw foreign("which your Bitcoin node does not see as the vault's unspent coin");
      if (seen.amountSats !== Number(utxo.value))
        throw foreign(
          `whose amount the node gave as ${utxo.value} sats, but your Bitcoin node sees ${seen.amountSats}`,
        );
    }
    inSats += Number(utxo.value);
  }

  const dest = Buffer.from(outputScript(request.destination, net));
  let toDestination = 0;
  let change = 0;
  const scripts: Uint8Array[] = [];
  for (const out of psbt.txOutputs) {
    const script = Buffer.from(out.script);
    scripts.push(out.script);
    if (script.equals(dest) && toDestination === 0) toDestination = Number(out.value);
    else if (script.equals(vaultOut)) change += Number(out.value);
    else
      throw new BitStableError(
        'PSBT_OUTPUTS_CHANGED',
        `The transaction pays ${out.value} sats to an address you did not ask for. Nothing was signed.`,
        { script: script.toString('hex') },
      );
  }
  const outSats = toDestination + change;
  const fee = inSats - outSats;
  if (request.kind === 'withdraw') {
    if (toDestination !== request.amountSats)
      throw new BitStableError(
        'PSBT_OUTPUTS_CHANGED',
        `The transaction pays ${toDestination} sats to ${request.destination}, not the ${request.amountSats} you asked for. Nothing was signed.`,
        { paid: toDestination, asked: request.amountSats },
      );
  } else if (change !== 0 || toDestination === 0) {
    throw new BitStableError(
      'PSBT_OUTPUTS_CHANGED',
      `A ${request.kind} sends everything to ${request.destination}; this transaction does not. Nothing was signed.`,
      { toDestination, change },
    );
  }
  if (fee !== request.feeSats) {
    throw new BitStableError(
      'PSBT_FEE_TOO_HIGH',
      `The transaction pays ${fee} sats of fee, not the ${request.feeSats} the review showed. Nothing was signed.`,
      { feeSats: fee, reviewedFeeSats: request.feeSats },
    );
  }
  const rateCap = options.maxFeeRateSatPerKvB;
  const size = vsize(psbt.inputCount, scripts);
  if (fee > MAX_FEE_SATS || (rateCap !== undefined && fee * 1000 > rateCap * size)) {
    throw new BitStableError(
      'PSBT_FEE_TOO_HIGH',
      `The fee of ${fee} sats (${Math.round((fee * 1000) / size)} sat/kvB) is more than this wallet signs. Nothing was signed.`,
      { feeSats: fee, vsize: size },
    );
  }
  return { feeSats: fee, changeSats: change };
}
