/**
 * The protocol co-signer. It holds the node's protocol key and signs only spends that keep
 * vaults healthy (withdraw, close) and liquidation settlements, each checked against facts the
 * caller read from the database — never against what the PSBT claims about itself.
 */
import type { NetworkInfo, VaultParams } from '../config/networks';
import { BitStableError } from '../errors';
import type { Cents, Sats } from '../money';
import type { SpendPlan } from '../psbt/build';
import { checkPsbtMatchesPlan } from '../psbt/verify';
import { collateralRatioBps } from '../vaults/health';
import type { SignContext, Signer } from './types';

/** What the database says about the vault being spent from. */
export interface SpendFacts {
  vaultAddress: string;
  vaultOutputScript: Uint8Array;
  /** The vault's spendable coins now. */
  coins: { txid: string; vout: number; amountSats: Sats }[];
  debtCents: Cents;
  /** A fresh oracle price; null when the oracle is not ok. */
  freshPriceCents: Cents | null;
  params: VaultParams;
  /** For settlements: the payouts the auction decided, in order, before the owner's rest. */
  settlementPayouts?: { address: string; amountSats: Sats }[];
  ownerReturnAddress?: string;
}

/** Highest fee rate the protocol key signs for (sat/kvB): 1,000 sat/vB guards against fee theft. */
const MAX_FEE_RATE_SAT_PER_KVB = 1_000_000;

const refuse = (why: string, data: Record<string, unknown> = {}) =>
  new BitStableError('SIGNER_REFUSED', `The protocol key will not sign: ${why}`, data);

/** Checks that `plan` is a spend the protocol may co-sign, given the facts. Pure. */
export function checkPlanPolicy(plan: SpendPlan, facts: SpendFacts): void {
  const key = (c: { txid: string; vout: number }) => `${c.txid}:${c.vout}`;
  const coins = new Map(facts.coins.map((c) => [key(c), c]));
  for (const input of plan.inputs) {
    const coin = coins.get(key(input));
    if (!coin || coin.amountSats !== input.amountSats)
      throw refuse(`${key(input)} is not a coin of this vault.`);
  }
  const inSum = plan.inputs.reduce((s, i) => s + i.amountSats, 0);
  const outSum = plan.outputs.reduce((s, o) => s + o.amountSats, 0);
  if (inSum - outSum !== plan.feeSats || plan.feeSats < 0) throw refuse('the fee does not add up.');
  if (plan.feeRateSatPerKvB > MAX_FEE_RATE_SAT_PER_KVB)
    throw refuse('the fee rate is far above any sane rate.');
  const rest = plan.outputs[plan.outputs.length - 1]!;

  switch (plan.kind) {
    case 'withdraw': {
      if (plan.outputs.length !== 2 || rest.address !== facts.vaultAddress) {
        throw refuse('a withdrawal pays one destination and returns the change to the vault.');
      }
      if (facts.debtCents > 0) {
        if (facts.freshPriceCents === null) throw refuse('the oracle price is not fresh.');
        const ratio = collateralRatioBps(rest.amountSats, facts.debtCents, facts.freshPriceCents)!;
        if (ratio < facts.params.liquidationRatioBps) {
          throw refuse(
            `the vault would be left at ${(ratio / 100).toFixed(2)} %, under the minimum.`,
            { ratioBps: ratio },
          );
        }
      }
      return;
    }
    case 'close': {
      if (facts.debtCents !== 0) throw refuse('the vault still has debt; repay it first.');
      if (plan.outputs.length !== 1 || plan.inputs.length !== facts.coins.length) {
        throw refuse('closing pays every coin of the vault to one destination.');
      }
      return;
    }
    case 'settlement': {
      const payouts = facts.settlementPayouts ?? [];
      const expected = [...payouts.map((p) => ({ ...p })), { address: facts.ownerReturnAddress }];
      if (plan.outputs.length !== expected.length)
        throw refuse('the settlement does not pay exactly the auction takers and the owner.');
      for (const [i, p] of payouts.entries()) {
        const o = plan.outputs[i]!;
        if (o.address !== p.address || o.amountSats !== p.amountSats)
          throw refuse(`settlement output ${i} is not the taker's payout.`);
      }
      if (rest.address !== facts.ownerReturnAddress)
        throw refuse("the rest does not go to the owner's return address.");
      if (plan.inputs.length !== facts.coins.length)
        throw refuse('a settlement spends every coin of the vault.');
      return;
    }
    case 'emergency-exit':
      throw refuse(
        'an emergency exit is signed by the owner and the guardian, never by the protocol.',
      );
  }
}

/** The protocol key: signs a PSBT only after checking it matches a permitted plan. */
export class ProtocolSigner {
  constructor(
    private readonly key: Signer,
    private readonly net: NetworkInfo,
  ) {}

  /** The underlying key's account, for descriptors. */
  accountKey() {
    return this.key.accountKey();
  }

  /**
   * Checks the PSBT against the plan and the plan against the facts, then adds the protocol's
   * signatures. Throws SIGNER_REFUSED (with the reason) otherwise.
   */
  async approveAndSign(
    psbtBase64: string,
    plan: SpendPlan,
    facts: SpendFacts,
    context: SignContext,
  ): Promise<string> {
    checkPsbtMatchesPlan(psbtBase64, plan, facts.vaultOutputScript, this.net);
    checkPlanPolicy(plan, facts);
    return this.key.signPsbt(psbtBase64, context);
  }
}
