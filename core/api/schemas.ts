/**
 * The shapes that cross the API boundary, as zod schemas. Plain data only: integers for money
 * (sats, cents, basis points — all below 2^53), strings for addresses and ids of transactions.
 *
 * This file is imported by the renderer too: it may import zod and types, nothing with Node.
 */
import { z } from 'zod';
import { VAULT_STATES } from '../vaults/state';

const MAX_MONEY_SATS = 21_000_000 * 100_000_000;

/** Satoshis: a whole number from 0 to 21 million BTC. */
export const Sats = z
  .int({ error: 'must be a whole number of satoshis' })
  .min(0)
  .max(MAX_MONEY_SATS);
/** Satoshis, more than zero. */
export const PositiveSats = Sats.min(1, { error: 'must be more than 0 sats' });
/** Cents of USD or bsUSD (prices are cents per BTC). */
export const Cents = z.int({ error: 'must be a whole number of cents' }).min(0);
/** Cents, more than zero. */
export const PositiveCents = Cents.min(1, { error: 'must be more than 0 cents' });
/** A row id. */
export const Id = z.int({ error: 'must be a whole number' }).min(1, { error: 'must be 1 or more' });
/** Milliseconds since the epoch. */
export const Millis = z.int().min(0);
/** A Bitcoin address as text; the core checks it against the network. */
export const Address = z
  .string({ error: 'must be a Bitcoin address' })
  .trim()
  .min(1, { error: 'must be a Bitcoin address' })
  .max(100, { error: 'is too long for a Bitcoin address' });

export const NETWORK_NAMES = ['regtest', 'signet', 'testnet', 'mainnet'] as const;
export const Network = z.enum(NETWORK_NAMES);

export { VAULT_STATES };
export const VaultState = z.enum(VAULT_STATES);

/** Where the oracle price stands (SPEC §7). */
export const PriceStatus = z.enum(['ok', 'stale', 'insufficient-sources', 'held']);

export const VaultParams = z.object({
  confirmations: z.int(),
  liquidationRatioBps: z.int(),
  warningRatioBps: z.int(),
  penaltyBps: z.int(),
  debtFloorCents: z.int(),
  auctionDurationSeconds: z.int(),
  auctionStartBps: z.int(),
  auctionFloorBps: z.int(),
  auctionMinLotSats: z.int(),
});

/** A vault as the UI shows it. `ratioBps` is at the last accepted price (null without debt or price). */
export const Vault = z.object({
  id: z.int(),
  keySetId: z.int(),
  index: z.int(),
  label: z.string().nullable(),
  state: VaultState,
  address: z.string(),
  descriptor: z.string(),
  collateralSats: Sats,
  incomingSats: Sats,
  /** The debt now: booked in the ledger, and the stability fee accrued since (SPEC §8.5). */
  debtCents: Cents,
  /** The stability fee this vault has accrued so far (booked and not yet booked). */
  feesCents: Cents,
  /** What the fee adds in a year at today's debt and rate. */
  feePerYearCents: Cents,
  ratioBps: z.int().nullable(),
  liquidationPriceCents: Cents.nullable(),
  warningPriceCents: Cents.nullable(),
  plannedDepositSats: Sats.nullable(),
  returnAddress: z.string().nullable(),
  /**
   * A wallet host's own Bitcoin node's view of the vault's coins (absent from a protocol node, or
   * a wallet without a node of its own): `agrees` when it matches what the protocol node says.
   */
  ownView: z
    .object({ collateralSats: Sats, incomingSats: Sats, agrees: z.boolean(), checkedAt: Millis })
    .optional(),
  /** What redemptions took from this vault, newest first (its owner is told, with the numbers). */
  redemptions: z.array(
    z.object({
      redemptionId: z.int(),
      at: Millis,
      debtCents: Cents,
      sats: Sats,
      priceCents: Cents,
      state: z.enum(['owed', 'paid']),
      txid: z.string().nullable(),
    }),
  ),
  /** A spend of the vault's coins that is signed or broadcast but not yet confirmed. */
  pendingSpend: z
    .object({ kind: z.string(), txid: z.string().nullable(), state: z.string() })
    .nullable(),
  createdAt: Millis,
  updatedAt: Millis,
});

/** One row of the vault list. */
export const VaultSummary = Vault.pick({
  id: true,
  label: true,
  state: true,
  address: true,
  collateralSats: true,
  incomingSats: true,
  debtCents: true,
  ratioBps: true,
  liquidationPriceCents: true,
  createdAt: true,
});

export const VAULT_SORT_KEYS = ['id', 'state', 'collateral', 'debt', 'ratio'] as const;

export const VaultTotals = z.object({
  count: z.int(),
  collateralSats: Sats,
  debtCents: Cents,
  byState: z.record(VaultState, z.int()),
});

export const PriceAnswer = z.object({
  source: z.string(),
  priceCents: Cents.nullable(),
  error: z.string().nullable(),
  /** Why it was left out of the price; null when used. */
  dropped: z.string().nullable(),
});

export const Price = z.object({
  priceCents: Cents.nullable(),
  status: PriceStatus,
  /** Why the price cannot be used, in a sentence; null when it can. */
  message: z.string().nullable(),
  ageMs: z.int().nullable(),
  maxAgeMs: z.int(),
  sources: z.array(z.string()),
  threshold: z.int(),
  heldPriceCents: Cents.nullable(),
  /** Held: how long until the held price is accepted if it stands. */
  heldConfirmsInMs: z.int().nullable(),
  /** The delayed price liquidations use (SPEC §7), and the next one with when it takes effect. */
  delay: z.object({
    delayMs: z.int(),
    liquidationPriceCents: Cents.nullable(),
    next: z.object({ priceCents: Cents, effectiveAtMs: Millis }).nullable(),
  }),
  /** Our clock's offset from the timed sources in the last round (ms); null when unknown. */
  clockSkewMs: z.int().nullable(),
  /** Sources left out of the last round because their value froze while the others moved. */
  frozenSources: z.array(z.string()),
  /** Every configured source's answer in the most recent round. */
  lastRound: z
    .object({ id: z.int(), ts: Millis, status: PriceStatus, answers: z.array(PriceAnswer) })
    .nullable(),
  /** A wallet's own check of this price against the exchanges it asks itself (wallet API only). */
  ownCheck: z
    .object({
      state: z.enum(['agrees', 'differs', 'unavailable', 'not-checked']),
      priceCents: Cents.nullable(),
      nodePriceCents: Cents.nullable(),
      diffBps: z.int().nullable(),
      marginBps: z.int(),
      sources: z.array(z.string()),
      checkedAt: Millis.nullable(),
      message: z.string(),
    })
    .optional(),
});

export const PricePoint = z.object({
  ts: Millis,
  priceCents: Cents,
  lowCents: Cents,
  highCents: Cents,
});

export const VaultHistoryPoint = z.object({
  ts: Millis,
  priceCents: Cents,
  collateralSats: Sats,
  debtCents: Cents,
  ratioBps: z.int().nullable(),
});

export const SignerInfo = z.object({
  kind: z.enum(['ledger', 'software', 'file']),
  label: z.string(),
  /** `[fingerprint/48'/c'/0'/2']xpub` */
  key: z.string(),
});

export const Status = z.object({
  apiVersion: z.int(),
  network: Network,
  node: z.object({
    online: z.boolean(),
    height: z.int().nullable(),
    bestBlockHash: z.string().nullable(),
    blockTime: Millis.nullable(),
    initialBlockDownload: z.boolean(),
    message: z.string().nullable(),
  }),
  /** True when this is local regtest mode (mining, faucet, simulated price). */
  regtest: z.boolean(),
  owner: SignerInfo,
  /** The caller's account (null for an operator token bound to none). */
  accountId: z.string().nullable(),
  /** The protocol node: in this process (url null), or the one a wallet host is connected to. */
  protocolNode: z.object({ nodeId: z.string(), url: z.string().nullable() }),
  bsusdBalanceCents: Cents,
  params: VaultParams,
});

/** An account id: `bsa1…` (bech32m of a BIP340 x-only key). Checked fully by the core. */
export const AccountId = z
  .string({ error: 'must be an account id (bsa1…)' })
  .min(8, { error: 'must be an account id (bsa1…)' })
  .max(90, { error: 'must be an account id (bsa1…)' });

export const Account = z.object({
  id: z.string(),
  label: z.string().nullable(),
  balanceCents: Cents,
  createdAt: Millis,
});

export const LedgerEntryKind = z.enum([
  'mint',
  'repay',
  'transfer',
  'auction_payment',
  'penalty',
  'bad_debt',
  'stability_fee',
  'netting',
  'redemption',
  'pool_deposit',
  'pool_withdraw',
  'pool_take',
]);

/** What redeeming an amount would do now (SPEC §8.5). */
export const RedemptionQuote = z.object({
  priceCents: Cents,
  feeBps: z.int(),
  /** What the vaults' debts fall by. */
  redeemedCents: Cents,
  feeCents: Cents,
  /** What leaves your account: redeemed + fee. */
  paidCents: Cents,
  /** Bitcoin the vaults pay, before each payout's transaction fee (paid out of it). */
  sats: Sats,
  networkFeeSats: Sats,
  /** How many vaults pay, lowest ratio first. */
  vaults: z.int(),
  /** What no vault can take now (it stays in your account). */
  unfilledCents: Cents,
});

/** A redemption and what each vault pays for it. */
export const Redemption = z.object({
  id: z.int(),
  accountId: z.string(),
  btcAddress: z.string(),
  redeemedCents: Cents,
  feeCents: Cents,
  priceCents: Cents,
  sats: Sats,
  createdAt: Millis,
  payouts: z.array(
    z.object({
      payoutId: z.int(),
      vaultId: z.int(),
      debtCents: Cents,
      sats: Sats,
      state: z.enum(['owed', 'paid']),
      txid: z.string().nullable(),
    }),
  ),
});

/** The stability pool, and your place in it (SPEC §8.5). */
export const PoolPosition = z.object({
  totalCents: Cents,
  depositors: z.int(),
  depositCents: Cents,
  btcAddress: z.string().nullable(),
  /** What the pool's takes cost you so far, and the bitcoin they bought you. */
  spentCents: Cents,
  gainedSats: Sats,
  auctions: z.array(
    z.object({
      auctionId: z.int(),
      vaultId: z.int(),
      poolSats: Sats,
      poolCents: Cents,
      yourSats: Sats,
      yourCents: Cents,
    }),
  ),
});

/** An entry that moved surplus or deficit (SPEC §8.5): what it did to each. */
export const BooksEntry = z.object({
  entryId: z.int(),
  ts: Millis,
  kind: LedgerEntryKind,
  /** + into surplus, − out of it. */
  surplusChangeCents: z.int(),
  /** + more bad debt, − bad debt covered. */
  deficitChangeCents: z.int(),
  vaultId: z.int().nullable(),
  memo: z.string().nullable(),
});

/** The protocol's books: the stability fee, surplus and deficit, ceilings and the system ratio. */
export const Books = z.object({
  stabilityFeeBps: z.int(),
  /** The fee's accumulator (1.0 when the fee started), as a decimal. */
  rate: z.string(),
  surplusCents: Cents,
  deficitCents: Cents,
  /** Stability fee booked into surplus so far, and accrued on vaults since their last booking. */
  feesBookedCents: Cents,
  feesAccruedCents: Cents,
  totalDebtCents: Cents,
  /** Collateral of the vaults that have debt. */
  totalCollateralSats: Sats,
  /** Total collateral × current price / total debt; null with no debt or no fresh price. */
  systemRatioBps: z.int().nullable(),
  systemRatioFloorBps: z.int(),
  debtCeilingCents: Cents,
  vaultDebtCeilingCents: Cents,
  /** How much more all vaults together may mint under the global ceiling. */
  debtRoomCents: Cents,
  /** Entries that moved surplus or deficit, newest first. */
  history: z.array(BooksEntry),
});

/** One line of an account's statement: what an entry did to its balance. */
export const StatementLine = z.object({
  entryId: z.int(),
  ts: Millis,
  kind: LedgerEntryKind,
  /** + received, − paid. */
  amountCents: z.int(),
  balanceAfterCents: Cents,
  vaultId: z.int().nullable(),
  memo: z.string().nullable(),
  counterparty: z.string().nullable(),
});

export const SpendKind = z.enum([
  'withdraw',
  'close',
  'emergency-exit',
  'settlement',
  'sweep',
  'redemption',
]);

export const SpendPreview = z.object({
  /** The stored draft: sign it by this id (what you review is what you sign). */
  spendId: z.int(),
  /** When the draft expires unsigned and frees the vault. */
  expiresAt: Millis.nullable(),
  kind: SpendKind,
  vaultId: z.int(),
  destination: z.string(),
  inputs: z.array(z.object({ txid: z.string(), vout: z.int(), amountSats: Sats })),
  /** In order; `change` marks collateral that stays in (returns to) the vault. */
  outputs: z.array(z.object({ address: z.string(), amountSats: Sats, change: z.boolean() })),
  feeSats: Sats,
  feeRateSatPerKvB: z.int(),
  ratioAfterBps: z.int().nullable(),
  /** Which two keys sign, in order. */
  signers: z.array(z.enum(['owner', 'protocol', 'guardian'])),
  /** The unsigned PSBT (BIP174, base64) for export to any standard signer. */
  psbtBase64: z.string(),
});

export const SpendResult = z.object({
  spendId: z.int(),
  /** For a spend awaiting the guardian, the id the transaction will have once signed. */
  txid: z.string(),
  kind: SpendKind,
  /** `awaiting-guardian`: signed by the first key and kept until the guardian's file is imported. */
  state: z.enum(['broadcast', 'awaiting-guardian']),
  feeSats: Sats,
  outputs: z.array(z.object({ address: z.string(), amountSats: Sats })),
});

/** A spend waiting for the guardian's signed PSBT file. */
export const GuardianRequest = z.object({
  spendId: z.int(),
  vaultId: z.int(),
  kind: SpendKind,
  /** The PSBT (BIP174, base64) to give the guardian, with the first key's signatures. */
  psbtBase64: z.string(),
  txid: z.string(),
  feeSats: Sats,
  outputs: z.array(z.object({ address: z.string(), amountSats: Sats })),
  /** The vault's debt now: the guardian sees what is owed before signing. */
  debtCents: Cents,
  createdAt: Millis,
});

export const Auction = z.object({
  id: z.int(),
  vaultId: z.int(),
  state: z.enum(['running', 'settling', 'settled']),
  startedAt: Millis,
  tabCents: Cents,
  coveredCents: Cents,
  lotSats: Sats,
  soldSats: Sats,
  priceCents: Cents,
  topPriceCents: Cents,
  floorPriceCents: Cents,
  cycleStartedAt: Millis,
  timeLeftMs: z.int(),
  resets: z.int(),
  deficitCents: Cents,
  settlementTxid: z.string().nullable(),
  settlementState: z
    .enum(['draft', 'signing', 'awaiting-guardian', 'signed', 'broadcast', 'confirmed'])
    .nullable(),
  /** Why the settlement could not be made last time, in words; retried at every tick. */
  settlementError: z
    .object({ code: z.string(), message: z.string(), at: Millis, count: z.int() })
    .nullable(),
  /** Takes wait while a spend of the vault holds its coins. */
  coinsHeld: z.boolean(),
  /** When the vault came back to 160 % before any take, ending the auction without penalty. */
  curedAt: Millis.nullable(),
  /** The accepted BTC price that started the auction, and the vault's debt then. */
  startPriceCents: Cents,
  debtCents: Cents,
  /** When selling ended (tab covered, lot sold, nothing left to sell); null while running. */
  endedAt: Millis.nullable(),
  /** When the settlement reached its confirmations; null before. */
  settledAt: Millis.nullable(),
  /**
   * What the settlement sends back once the takers are paid: to the owner's return address, or
   * to the protocol while a bad debt stands; null before a settlement is made or when the rest
   * was too small to send.
   */
  rest: z.object({ sats: Sats, address: z.string(), to: z.enum(['owner', 'protocol']) }).nullable(),
  /** The settlement's network fee, once it is made. */
  settlementFeeSats: Sats.nullable(),
});

export const TakeResult = z.object({
  auction: Auction,
  sats: Sats,
  costCents: Cents,
  priceCents: Cents,
});

const Role = z.enum(['owner', 'protocol', 'guardian']);
export const RecoveryKit = z.object({
  format: z.string(),
  network: Network,
  policy: z.string(),
  keySets: z.array(
    z.object({
      keys: z.object({ owner: z.string(), protocol: z.string(), guardian: z.string() }),
      descriptor: z.string(),
      changeDescriptor: z.string(),
      birthday: z.int().nullable(),
      scanTo: z.int(),
      vaults: z.array(
        z.object({ index: z.int(), address: z.string(), label: z.string().nullable() }),
      ),
      sparrow: z.string(),
      core: z.array(
        z.object({
          desc: z.string(),
          timestamp: z.union([z.int(), z.literal('now')]),
          range: z.tuple([z.int(), z.int()]),
          active: z.boolean(),
          internal: z.boolean(),
        }),
      ),
      electrum: z.object({
        type: z.literal('multisig'),
        scriptType: z.literal('p2wsh'),
        signaturesRequired: z.int(),
        cosigners: z.array(
          z.object({
            role: Role,
            key: z.string(),
            fingerprint: z.string(),
            derivation: z.string(),
          }),
        ),
        gapLimit: z.int(),
      }),
      bsms: z.string(),
    }),
  ),
  instructions: z.array(z.string()),
});

export const Settings = z.object({
  network: Network,
  params: VaultParams,
  node: z.object({
    kind: z.enum(['local-regtest', 'rpc']),
    rpcUrl: z.string().nullable(),
    watchWallet: z.string(),
    dataDir: z.string().nullable(),
  }),
  oracle: z.object({
    sources: z.array(
      z.object({ name: z.string(), enabled: z.boolean(), baseUrl: z.string().nullable() }),
    ),
    threshold: z.int(),
    maxAgeMs: z.int(),
    intervalMs: z.int(),
    maxDeviationBps: z.int(),
    circuitBreakerBps: z.int(),
    breakerWindowMs: z.int(),
    breakerConfirmMs: z.int(),
    priceDelayMs: z.int(),
  }),
  keys: z.object({ owner: SignerInfo, protocol: SignerInfo, guardian: SignerInfo }),
  updates: z.object({ automatic: z.boolean(), note: z.string() }),
});

export const PsbtSummary = z.object({
  inputs: z.array(
    z.object({ txid: z.string(), vout: z.int(), amountSats: Sats.nullable(), signatures: z.int() }),
  ),
  outputs: z.array(z.object({ address: z.string().nullable(), amountSats: Sats })),
  feeSats: Sats.nullable(),
  complete: z.boolean(),
});

/** One instruction for the person holding a signing device (Caravan-style interaction message). */
export const SignerPrompt = z.object({
  state: z.enum(['pending', 'active', 'done', 'failed']),
  level: z.enum(['info', 'warning', 'error', 'success']),
  code: z.string(),
  text: z.string(),
});
