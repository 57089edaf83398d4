/**
 * PSBT builders for spends of a vault's coins (BIP174). Every input carries `witnessScript`,
 * `witnessUtxo`, the full previous transaction and `bip32Derivation` for all three keys, so any
 * standard signer (Ledger, Sparrow, Electrum, Bitcoin Core) can sign it; change back to the
 * vault carries its `witnessScript` and `bip32Derivation` too, and the three account keys are
 * the PSBT's global xpubs.
 */
import { Psbt, Transaction } from 'bitcoinjs-lib';
import type { NetworkInfo } from '../config/networks';
import type { VaultKeys, VaultScript } from '../bitcoin/descriptor';
import type { ParsedKey } from '../bitcoin/keys';
import { BitStableError } from '../errors';
import type { Sats } from '../money';
import { dustThreshold, feeFor, outputScript, vsize } from './fees';

/** One of the vault's coins, with what a signer needs to check it. */
export interface VaultCoin {
  txid: string;
  vout: number;
  amountSats: Sats;
  /** The full previous transaction. */
  prevTxHex: string;
}

export interface Payment {
  address: string;
  amountSats: Sats;
}

/** What a spend does, fixed before anything is signed; the protocol signer checks PSBTs against it. */
export interface SpendPlan {
  kind: 'withdraw' | 'close' | 'emergency-exit' | 'settlement' | 'sweep' | 'redemption';
  vaultId: number;
  inputs: { txid: string; vout: number; amountSats: Sats }[];
  /** Outputs in order; the last one is the remainder (change to the vault, or the owner's rest). */
  outputs: Payment[];
  feeSats: Sats;
  feeRateSatPerKvB: number;
  /** For settlements: the auction being settled. */
  auctionId?: number;
  /** For redemptions: the payout (redemption_payouts.id) this spend pays. */
  redemptionPayoutId?: number;
  /** The vault's debt when the spend was reviewed: signing refuses if it changed since. */
  debtCents?: number;
}

/** Every spend's version, locktime and input sequence (opt-in RBF, so a stuck spend can be bumped). */
export const TX_VERSION = 2;
export const TX_LOCKTIME = 0;
export const TX_SEQUENCE = 0xfffffffd;
/** Bitcoin Core's default minimum relay fee rate. */
export const MIN_RELAY_SAT_PER_KVB = 1_000;

/** What the builder needs to know about the vault. */
export interface SpendSource {
  vaultId: number;
  script: VaultScript;
  /** The vault's three account keys: written as the PSBT's global xpubs (BIP174) when given. */
  keys?: VaultKeys;
  coins: VaultCoin[];
  net: NetworkInfo;
  feeRateSatPerKvB: number;
}

const hexToBytes = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));

/**
 * Plans a spend of every coin of the vault: fixed `payments` first, then `remainder` receives
 * what is left after the fee. Refuses when the coins cannot cover payments and fee, or when a
 * payment or the remainder would be dust.
 */
export function planSpend(
  source: SpendSource,
  kind: SpendPlan['kind'],
  payments: Payment[],
  remainderAddress: string,
): SpendPlan {
  if (source.coins.length === 0) {
    throw new BitStableError('INSUFFICIENT_FUNDS', 'This vault has no confirmed coins to spend.', {
      vaultId: source.vaultId,
    });
  }
  const total = source.coins.reduce((s, c) => s + c.amountSats, 0);
  const scripts = [
    ...payments.map((p) => outputScript(p.address, source.net)),
    outputScript(remainderAddress, source.net),
  ];
  for (const [i, p] of payments.entries()) {
    if (p.amountSats < dustThreshold(scripts[i]!)) {
      throw new BitStableError(
        'INVALID_AMOUNT',
        `${p.amountSats} sats to ${p.address} is below the dust limit of ${dustThreshold(scripts[i]!)} sats; the network would not relay it.`,
        { amountSats: p.amountSats },
      );
    }
  }
  const fee = feeFor(vsize(source.coins.length, scripts), source.feeRateSatPerKvB);
  const paid = payments.reduce((s, p) => s + p.amountSats, 0);
  const remainder = total - paid - fee;
  const dust = dustThreshold(scripts[scripts.length - 1]!);
  if (remainder < dust) {
    throw new BitStableError(
      'INSUFFICIENT_FUNDS',
      remainder < 0
        ? `The vault holds ${total} sats; paying ${paid} sats and a ${fee}-sat fee needs ${paid + fee}.`
        : `What would be left (${remainder} sats) is below the dust limit; close the vault to take everything.`,
      { totalSats: total, paidSats: paid, feeSats: fee },
    );
  }
  return {
    kind,
    vaultId: source.vaultId,
    inputs: source.coins.map((c) => ({ txid: c.txid, vout: c.vout, amountSats: c.amountSats })),
    outputs: [...payments, { address: remainderAddress, amountSats: remainder as Sats }],
    feeSats: fee,
    feeRateSatPerKvB: source.feeRateSatPerKvB,
  };
}

/**
 * Plans an auction settlement (SPEC §8.3): every taker's payout, then the rest to `restAddress`
 * less the fee. The fee is sized from this very transaction at the node's fee rate. A rest that
 * would be dust is dropped to the fee rather than blocking the settlement; when the coins cannot
 * pay the target rate, the settlement goes out at what is left, down to the minimum relay rate.
 * SETTLEMENT_UNBUILDABLE when not even that can be paid, or there is nothing to pay anyone.
 */
export function planSettlement(
  source: SpendSource,
  payouts: Payment[],
  restAddress: string,
): SpendPlan {
  const n = source.coins.length;
  const total = source.coins.reduce((s, c) => s + c.amountSats, 0);
  const paid = payouts.reduce((s, p) => s + p.amountSats, 0);
  const payoutScripts = payouts.map((p) => outputScript(p.address, source.net));
  const restScript = outputScript(restAddress, source.net);
  const unbuildable = (why: string) =>
    new BitStableError('SETTLEMENT_UNBUILDABLE', why, {
      vaultId: source.vaultId,
      totalSats: total,
      paidSats: paid,
      coins: n,
    });
  if (n === 0) throw unbuildable('The vault has no confirmed coins to settle with.');
  const base = {
    kind: 'settlement' as const,
    vaultId: source.vaultId,
    inputs: source.coins.map((c) => ({ txid: c.txid, vout: c.vout, amountSats: c.amountSats })),
  };
  const withRest = vsize(n, [...payoutScripts, restScript]);
  const restFee = feeFor(withRest, source.feeRateSatPerKvB);
  const rest = total - paid - restFee;
  if (rest >= dustThreshold(restScript)) {
    return {
      ...base,
      outputs: [...payouts, { address: restAddress, amountSats: rest as Sats }],
      feeSats: restFee,
      feeRateSatPerKvB: source.feeRateSatPerKvB,
    };
  }
  if (payouts.length === 0) throw unbuildable('Nothing is left to pay once the fee is paid.');
  const size = vsize(n, payoutScripts);
  const fee = total - paid;
  if (fee < feeFor(size, MIN_RELAY_SAT_PER_KVB)) {
    throw unbuildable(
      `The vault's ${total} sats cannot pay the takers' ${paid} sats and the minimum fee of ${feeFor(size, MIN_RELAY_SAT_PER_KVB)} sats.`,
    );
  }
  return {
    ...base,
    outputs: payouts,
    feeSats: fee as Sats,
    feeRateSatPerKvB: Math.floor((fee * 1000) / size),
  };
}

/**
 * Plans a redemption payout (SPEC §8.5): the redeemer gets `owedSats` less this transaction's
 * fee (the redeemer pays to be paid, not the vault's owner). Only the coins it needs are spent,
 * largest first, so the fee is that of a small transaction whatever the vault holds; the rest of
 * those coins goes back to the vault's own address. A rest that would be dust takes one more
 * coin if there is one, else goes to the fee (the vault is then emptied). REDEMPTION_UNPAYABLE
 * when the vault cannot pay what it owes, or what is left for the redeemer after the fee is dust.
 */
export function planRedemptionPayout(
  source: SpendSource,
  payoutId: number,
  redeemer: string,
  owedSats: Sats,
  vaultAddress: string,
): SpendPlan {
  const total = source.coins.reduce((s, c) => s + c.amountSats, 0);
  const payScript = outputScript(redeemer, source.net);
  const restScript = outputScript(vaultAddress, source.net);
  const unpayable = (why: string) =>
    new BitStableError('REDEMPTION_UNPAYABLE', why, {
      vaultId: source.vaultId,
      totalSats: total,
      owedSats,
    });
  if (total < owedSats)
    throw unpayable(`The vault holds ${total} sats; it owes the redeemer ${owedSats}.`);
  const coins = [...source.coins].sort(
    (a, b) => b.amountSats - a.amountSats || a.txid.localeCompare(b.txid) || a.vout - b.vout,
  );
  const restDust = dustThreshold(restScript);
  const twoOut = (n: number) => feeFor(vsize(n, [payScript, restScript]), source.feeRateSatPerKvB);
  let n = 0;
  let selected = 0;
  // Enough coins for what is owed, and a rest that is either nothing or more than dust.
  while (n < coins.length) {
    selected += coins[n]!.amountSats;
    n++;
    const rest = selected - owedSats;
    if (rest === 0 || rest >= restDust) break;
  }
  const rest = selected - owedSats;
  const withRest = rest >= restDust;
  const fee = withRest ? twoOut(n) : feeFor(vsize(n, [payScript]), source.feeRateSatPerKvB);
  const pay = owedSats - fee;
  if (pay < dustThreshold(payScript))
    throw unpayable(
      `Paying ${owedSats} sats costs a ${fee}-sat fee; what is left for the redeemer is dust.`,
    );
  return {
    kind: 'redemption',
    vaultId: source.vaultId,
    redemptionPayoutId: payoutId,
    inputs: coins
      .slice(0, n)
      .map((c) => ({ txid: c.txid, vout: c.vout, amountSats: c.amountSats })),
    outputs: withRest
      ? [
          { address: redeemer, amountSats: pay as Sats },
          { address: vaultAddress, amountSats: rest as Sats },
        ]
      : [{ address: redeemer, amountSats: pay as Sats }],
    feeSats: (withRest ? fee : fee + rest) as Sats,
    feeRateSatPerKvB: source.feeRateSatPerKvB,
  };
}

/** Builds the unsigned PSBT of a plan, with everything a standard signer needs on each input. */
export function buildPsbt(plan: SpendPlan, source: SpendSource): Psbt {
  const psbt = new Psbt({ network: source.net.bitcoinjs });
  psbt.setVersion(TX_VERSION);
  psbt.setLocktime(TX_LOCKTIME);
  const bip32Derivation = source.script.derivations.map((d) => ({
    masterFingerprint: hexToBytes(d.fingerprint),
    path: d.path,
    pubkey: d.pubkey,
  }));
  for (const input of plan.inputs) {
    const coin = source.coins.find((c) => c.txid === input.txid && c.vout === input.vout);
    if (!coin)
      throw new BitStableError('INTERNAL', 'A planned input is not one of the vault coins.', {
        ...input,
      });
    const prevTx = Transaction.fromHex(coin.prevTxHex);
    const prevOut = prevTx.outs[coin.vout];
    if (prevTx.getId() !== coin.txid || !prevOut) {
      throw new BitStableError(
        'PSBT_INVALID',
        'The node returned a previous transaction that does not match the coin.',
        {
          txid: coin.txid,
        },
      );
    }
    if (
      prevOut.value !== BigInt(coin.amountSats) ||
      Buffer.compare(prevOut.script, source.script.outputScript) !== 0
    ) {
      throw new BitStableError(
        'PSBT_INVALID',
        'A coin does not pay this vault the amount the node reported.',
        {
          txid: coin.txid,
          vout: coin.vout,
        },
      );
    }
    psbt.addInput({
      hash: coin.txid,
      index: coin.vout,
      sequence: TX_SEQUENCE,
      nonWitnessUtxo: hexToBytes(coin.prevTxHex),
      witnessUtxo: { script: source.script.outputScript, value: prevOut.value },
      witnessScript: source.script.witnessScript,
      bip32Derivation,
    });
  }
  for (const out of plan.outputs) {
    const script = outputScript(out.address, source.net);
    // Change back to the vault carries its script and keys, so a signer (a Ledger with the
    // policy registered, Core, Electrum) knows it as change rather than a second payment.
    const change = Buffer.compare(script, source.script.outputScript) === 0;
    psbt.addOutput({
      script,
      value: BigInt(out.amountSats),
      ...(change ? { witnessScript: source.script.witnessScript, bip32Derivation } : {}),
    });
  }
  if (source.keys) {
    psbt.updateGlobal({
      globalXpub: [source.keys.owner, source.keys.protocol, source.keys.guardian].map((k) => ({
        extendedPubkey: serializedXpub(k),
        masterFingerprint: hexToBytes(k.fingerprint),
        path: k.path,
      })),
    });
  }
  return psbt;
}

/**
 * An account key's 78-byte BIP32 serialization (the xpub without base58check), as a PSBT's
 * global xpub holds it. bip32 only gives the base58 text; the layout is BIP32's, checked in
 * tests against what Bitcoin Core decodes.
 */
function serializedXpub(k: ParsedKey): Uint8Array {
  const node = k.node;
  const out = Buffer.alloc(78);
  out.writeUInt32BE(node.network.bip32.public, 0);
  out.writeUInt8(node.depth, 4);
  out.writeUInt32BE(node.parentFingerprint, 5);
  out.writeUInt32BE(node.index, 9);
  Buffer.from(node.chainCode).copy(out, 13);
  Buffer.from(node.publicKey).copy(out, 45);
  return Uint8Array.from(out);
}

/** Combines partially signed copies of one PSBT, finalizes it, and returns the transaction. */
export function finalizePsbt(base64s: string[], net: NetworkInfo): { txHex: string; txid: string } {
  try {
    const [first, ...rest] = base64s.map((b) => Psbt.fromBase64(b, { network: net.bitcoinjs }));
    const psbt = rest.length ? first!.combine(...rest) : first!;
    // An input another wallet already finalized (Bitcoin Core does when it holds the second
    // signature) is kept as it is; the node's testmempoolaccept checks its witness.
    psbt.data.inputs.forEach((input, i) => {
      if (!input.finalScriptWitness && !input.finalScriptSig) psbt.finalizeInput(i);
    });
    const tx = psbt.extractTransaction();
    return { txHex: tx.toHex(), txid: tx.getId() };
  } catch (err) {
    throw new BitStableError(
      'PSBT_INVALID',
      `The transaction cannot be completed: ${(err as Error).message}. Two of the three keys must sign every input.`,
      {},
      { cause: err },
    );
  }
}
