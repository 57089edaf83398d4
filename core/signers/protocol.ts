/**
 * The protocol co-signer. It holds the node's protocol key and signs only spends that keep
 * vaults healthy (withdraw, close) and liquidation settlements, each checked against facts the
 * caller read from the database — never against what the PSBT claims about itself.
 */
import type { NetworkInfo, VaultParams } from '../config/networks';
import { feeFor, outputScript, vsize } from '../psbt/fees';
import type { VaultState } from '../vaults/state';
import { BitStableError } from '../errors';
import type { Cents, Sats } from '../money';
import type { SpendPlan } from '../psbt/build';
import { checkPsbtMatchesPlan } from '../psbt/verify';
import { collateralRatioBps } from '../vaults/health';
import type { SignContext, Signer } from './types';

/** What the database and the node say about the vault being spent from, read at signing time. */
export interface SpendFacts {
  /** The vault's state now. */
  vaultState: VaultState;
  vaultAddress: string;
  vaultOutputScript: Uint8Array;
  /** The vault's spendable coins now. */
  coins: { txid: string; vout: number; amountSats: Sats }[];
  debtCents: Cents;
  /** A fresh oracle price; null when the oracle is not ok. */
  freshPriceCents: Cents | null;
  params: VaultParams;
  /** The node's own fee-rate estimate now (sat/kvB): the fee cap is measured against it. */
  nodeFeeRateSatPerKvB: number;
  network: NetworkInfo;
  /** For settlements: the payouts the auction decided, in order, before the rest. */
  settlementPayouts?: { address: string; amountSats: Sats }[];
  /** For settlements: where the rest may go (the owner, or the protocol's surplus address). */
  settlementRestAddress?: string;
  /** The redemption payouts the vault owes: a redemption spend pays exactly one of them. */
  redemptionOwed?: { id: number; address: string; sats: Sats }[];
}

/** The most fee the protocol key ever signs for, whatever the rate: 0.01 BTC. */
export const MAX_FEE_SATS = 1_000_000;
/** The highest fee rate signed, against the node's own estimate at signing time. */
const MAX_FEE_RATE_MULTIPLE = 2;
/** A dust rest dropped to the fee (settlements) may add up to this on top of the rate's fee. */
const DROPPED_DUST_ALLOWANCE_SATS = 546;

const refuse = (why: string, data: Record<string, unknown> = {}) =>
  new BitStableError('SIGNER_REFUSED', `The protocol key will not sign: ${why}`, data);

const OPEN_STATES: readonly VaultState[] = ['active', 'warning'];

/**
 * Checks that `plan` is a spend the protocol may co-sign, given the facts now. Pure. The caller
 * reads the facts inside the transaction that records the signature, so nothing can change
 * between this check and the signature taking effect.
 */
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
  checkFee(plan, facts);
  const rest = plan.outputs[plan.outputs.length - 1]!;
  const allCoins = () => {
    if (plan.inputs.length !== facts.coins.length) {
      throw refuse(
        `it spends ${plan.inputs.length} of the vault's ${facts.coins.length} coins, not all.`,
      );
    }
  };

  switch (plan.kind) {
    case 'withdraw': {
      requireState(facts, OPEN_STATES);
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
    case 'close':
    case 'sweep': {
      requireState(facts, plan.kind === 'close' ? OPEN_STATES : ['closed', 'liquidated']);
      if (facts.debtCents !== 0) throw refuse('the vault still has debt; repay it first.');
      if (plan.outputs.length !== 1)
        throw refuse('this pays every coin of the vault to one destination.');
      allCoins();
      return;
    }
    case 'settlement': {
      requireState(facts, ['liquidating']);
      const payouts = facts.settlementPayouts ?? [];
      const withRest = plan.outputs.length === payouts.length + 1;
      if (!withRest && plan.outputs.length !== payouts.length)
        throw refuse('the settlement does not pay exactly the auction takers and the rest.');
      for (const [i, p] of payouts.entries()) {
        const o = plan.outputs[i]!;
        if (o.address !== p.address || o.amountSats !== p.amountSats)
          throw refuse(`settlement output ${i} is not the taker's payout.`);
      }
      if (withRest && rest.address !== facts.settlementRestAddress)
        throw refuse('the rest does not go where the auction says it must.');
      allCoins();
      return;
    }
    case 'redemption': {
      requireState(facts, ['active', 'warning', 'liquidating']);
      const owed = (facts.redemptionOwed ?? []).find((o) => o.id === plan.redemptionPayoutId);
      if (!owed) throw refuse('the vault owes no such redemption payout.');
      const [pay, back] = plan.outputs;
      if (!pay || pay.address !== owed.address)
        throw refuse("the first output is not the redeemer's payout.");
      // The redeemer pays the fee out of what is owed; never more than is owed.
      if (pay.amountSats > owed.sats || pay.amountSats + plan.feeSats < owed.sats)
        throw refuse(
          `it pays the redeemer ${pay.amountSats} sats; ${owed.sats} less the fee are owed.`,
        );
      if (plan.outputs.length > 2)
        throw refuse('a redemption pays the redeemer and the vault only.');
      // The coins it spends (some of the vault's, checked above) less what is owed go back.
      const spent = plan.inputs.reduce((s, i) => s + i.amountSats, 0);
      if (back) {
        if (back.address !== facts.vaultAddress || back.amountSats !== spent - owed.sats)
          throw refuse('the rest does not go back to the vault.');
      } else if (spent - owed.sats >= 330) {
        // Only a rest under dust (330 sats for the vault's P2WSH) may go to the fee.
        throw refuse('the rest of the coins it spends does not go back to the vault.');
      }
      return;
    }
    case 'emergency-exit':
      throw refuse(
        'an emergency exit is signed by the owner and the guardian, never by the protocol.',
      );
  }
}

function requireState(facts: SpendFacts, allowed: readonly VaultState[]): void {
  if (!allowed.includes(facts.vaultState)) {
    throw refuse(`the vault is ${facts.vaultState} now.`, { state: facts.vaultState });
  }
}

/** The fee: at most MAX_FEE_SATS, and at most twice the node's own rate estimate for this size. */
function checkFee(plan: SpendPlan, facts: SpendFacts): void {
  if (plan.feeSats > MAX_FEE_SATS) {
    throw refuse(`its fee of ${plan.feeSats} sats is above the cap of ${MAX_FEE_SATS}.`, {
      feeSats: plan.feeSats,
    });
  }
  const scripts = plan.outputs.map((o) => outputScript(o.address, facts.network));
  const size = vsize(plan.inputs.length, scripts);
  const cap =
    feeFor(size, facts.nodeFeeRateSatPerKvB * MAX_FEE_RATE_MULTIPLE) +
    (plan.kind === 'settlement' || plan.kind === 'redemption' ? DROPPED_DUST_ALLOWANCE_SATS : 0);
  if (plan.feeSats > cap) {
    throw refuse(
      `its fee of ${plan.feeSats} sats is more than twice what the node estimates for it (${feeFor(size, facts.nodeFeeRateSatPerKvB)} sats).`,
      { feeSats: plan.feeSats, capSats: cap },
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
