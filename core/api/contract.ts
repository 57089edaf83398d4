/**
 * The API contract (SPEC §2, §9, §10): every method the UI, the desktop shell and scripts may
 * call, with one schema for its arguments and one for its result, and the permission it needs.
 * The dispatcher serves it; the WebSocket gateway, the Electron IPC binding and the renderer's
 * clients are thin adapters over it. Bump API_VERSION when a shape changes incompatibly.
 *
 * Imported by the renderer too: zod and plain data only, no Node.
 */
import { z } from 'zod';
import {
  Account,
  AccountId,
  Address,
  Auction,
  Books,
  Cents,
  GuardianRequest,
  Id,
  Millis,
  PositiveCents,
  PositiveSats,
  Price,
  PricePoint,
  PoolPosition,
  PsbtSummary,
  RecoveryKit,
  Redemption,
  RedemptionQuote,
  Settings,
  SpendPreview,
  SpendResult,
  StatementLine,
  Status,
  TakeResult,
  Vault,
  VAULT_SORT_KEYS,
  VaultHistoryPoint,
  VaultState,
  VaultSummary,
  VaultTotals,
} from './schemas';

export const API_VERSION = 3;

/**
 * The seed's permissions (SPEC §10) plus reading, moving one's own bsUSD, and the regtest
 * playground. Roles on tokens grant permissions. `Public` needs no token at all (sign-in).
 */
export const PERMISSIONS = [
  'Public',
  'Read',
  'Transfer',
  'CreateVault',
  'ModifyVault',
  'Liquidate',
  'Playground',
  'AdminAccess',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const ROLES = ['viewer', 'owner', 'liquidator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/**
 * What each role may do. `admin` is everything, including the regtest controls; it acts for its
 * own account only (it never moves another account's bsUSD). On regtest the playground (mining,
 * faucet, simulated price) is every account's: the coins are worthless (SPEC §3).
 */
export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  viewer: ['Read'],
  owner: ['Read', 'Transfer', 'CreateVault', 'ModifyVault', 'Playground'],
  liquidator: ['Read', 'Transfer', 'Liquidate', 'Playground'],
  admin: PERMISSIONS,
};

/** The roles a signed-in account's session holds. */
export const SESSION_ROLES: readonly Role[] = ['owner', 'liquidator'];

/** True when any of `roles` grants `permission` (everyone may call a Public method). */
export function allows(roles: readonly Role[], permission: Permission): boolean {
  return permission === 'Public' || roles.some((r) => ROLE_PERMISSIONS[r]?.includes(permission));
}

/**
 * Whose data a method touches, checked by the dispatcher before the handler runs:
 * - `vault`: the vault named by `vaultId` must be the caller's (admin may read any);
 * - `spend`: the vault of the spend named by `spendId` must be the caller's;
 * - `account`: the method acts for the caller's account, so there must be one.
 */
export type Scope = 'vault' | 'spend' | 'account';

const None = z.strictObject({});
const VaultRef = z.strictObject({ vaultId: Id });
const Destination = z.strictObject({ vaultId: Id, destination: Address });
const Withdraw = z.strictObject({ vaultId: Id, amountSats: PositiveSats, destination: Address });
/** Signing names the reviewed draft: what you review is what you sign. */
const SignDraft = z.strictObject({ vaultId: Id, spendId: Id });
const NodeChoice = z.object({ mode: z.enum(['local', 'remote']), url: z.string().nullable() });
const ProtocolNodeSetting = z.object({
  /** What this app runs now. */
  running: NodeChoice,
  /** What it runs at the next start. */
  chosen: NodeChoice,
  restartNeeded: z.boolean(),
});
/** A Bitcoin node as Settings saves it (the password goes to the key store, never back out). */
const SettingText = z.string().trim().min(1).max(500);
export const BitcoinNodeSetting = z.strictObject({
  url: SettingText,
  auth: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('cookie'), cookieFile: z.string().trim().max(500) }),
    // Given only when it changes; otherwise the saved one is used.
    z.strictObject({
      kind: z.literal('password'),
      user: z.string().trim().max(500),
      password: z.string().min(1).max(500).optional(),
    }),
  ]),
  wallet: z.string().trim().max(100).optional(),
});
export const OracleSetting = z.strictObject({
  /** Sources turned off (kraken, coinbase, …, simulated). */
  disabled: z.array(z.string().min(1).max(40)).max(20),
  threshold: z.int().min(1).max(20).nullable(),
  /** Answers further than this from the median are left out (basis points; null: default). */
  maxDeviationBps: z.int().min(1).max(10_000).nullable().default(null),
});
const GuardianKeySetting = z.string().trim().min(1).max(300);
const WebhookFormat = z.enum(['ntfy', 'slack']);
/** A webhook for alerts: its URL given only when it changes (it is kept in the key store). */
const WebhookSetting = z.strictObject({
  url: z.string().trim().min(1).max(500).optional(),
  format: WebhookFormat,
});
const SavedSettingsView = z.object({
  saved: z.object({
    bitcoin: z
      .object({
        url: z.string(),
        wallet: z.string().optional(),
        auth: z.discriminatedUnion('kind', [
          z.object({ kind: z.literal('cookie'), cookieFile: z.string() }),
          z.object({ kind: z.literal('password'), user: z.string() }),
        ]),
        passwordSaved: z.boolean(),
      })
      .nullable(),
    guardianKey: z.string().nullable(),
    oracle: OracleSetting.nullable(),
    /** Where alerts are posted: the format and the address cut short (a Slack URL is a secret). */
    webhook: z.object({ format: WebhookFormat, shown: z.string() }).nullable(),
    /** The user's own ratio alert (basis points), for the window's toasts and the webhook. */
    ratioAlertBps: z.int().nullable(),
  }),
  /** What the webhook did since this start. */
  webhookStatus: z.object({
    sent: z.int(),
    failed: z.int(),
    last: z
      .object({ at: Millis, ok: z.boolean(), title: z.string(), error: z.string().nullable() })
      .nullable(),
  }),
  /** The environment's variables that stand above a saved setting. */
  fromEnvironment: z.array(z.string()),
  /** The saved settings differ from those this start used. */
  restartNeeded: z.boolean(),
  /** A protocol node in local mode, or a wallet host (its guardian is the node's; it names its own watch-only wallet). */
  host: z.enum(['node', 'wallet']),
});
const PlaygroundAccount = z.object({
  accountId: z.string(),
  label: z.string(),
  /** The node's own account ("you"), not one added to play another party. */
  own: z.boolean(),
  active: z.boolean(),
  balanceCents: z.int(),
});
/** An exit a wallet built alone while its protocol node was unreachable (owner + guardian). */
const AloneExit = z.object({
  exitId: z.int(),
  vaultId: z.int(),
  destination: z.string(),
  amountSats: z.int(),
  feeSats: z.int(),
  /** Signed by the owner, for the guardian. */
  psbtBase64: z.string(),
  unsignedTxid: z.string(),
  state: z.enum(['awaiting-guardian', 'broadcast', 'abandoned']),
  txid: z.string().nullable(),
  createdAt: Millis,
});

interface MethodSpec<P extends z.ZodType, R extends z.ZodType> {
  params: P;
  result: R;
  permission: Permission;
  scope?: Scope;
  /** One line for docs and the UI's error messages. */
  summary: string;
}

const method = <P extends z.ZodType, R extends z.ZodType>(spec: MethodSpec<P, R>) => spec;

/** Every method, by its wire name. */
export const API = {
  'api.version': method({
    params: None,
    result: z.object({ version: z.int(), methods: z.array(z.string()) }),
    permission: 'Read',
    summary: 'The contract version and method names.',
  }),
  'status.get': method({
    params: None,
    result: Status,
    permission: 'Read',
    summary: 'Network, node and balance at a glance.',
  }),
  'price.get': method({
    params: None,
    result: Price,
    permission: 'Read',
    summary: 'The oracle price, its sources and freshness.',
  }),
  'books.get': method({
    params: z.strictObject({ limit: z.int().min(1).max(500).default(50) }),
    result: Books,
    permission: 'Read',
    summary:
      'The protocol books: stability fee, surplus and deficit with their history, debt ceilings and the system collateral ratio.',
  }),
  'price.history': method({
    params: z.strictObject({ fromMs: Millis, toMs: Millis, maxPoints: z.int().min(1).max(2_000) }),
    result: z.array(PricePoint),
    permission: 'Read',
    summary: 'Accepted prices over a time range, downsampled for charts.',
  }),
  'vaults.list': method({
    params: z.strictObject({
      offset: z.int().min(0).default(0),
      limit: z.int().min(1).max(500).default(50),
      sort: z.enum(VAULT_SORT_KEYS).default('id'),
      order: z.enum(['asc', 'desc']).default('desc'),
      state: VaultState.optional(),
      /**
       * Finds vaults by id ("537" or "#537"), by a part of the label or address, or by the
       * whole txid of a coin it holds or of one of its spends.
       */
      search: z.string().max(100).optional(),
      /** Leaves out Pending vaults nothing was sent to (counted in `hiddenEmptyPending`). */
      hideEmptyPending: z.boolean().default(false),
    }),
    result: z.object({
      /** The vaults that match, over all pages. */
      total: z.int(),
      offset: z.int(),
      items: z.array(VaultSummary),
      totals: VaultTotals,
      /** Matching Pending vaults left out because nothing was sent to them. */
      hiddenEmptyPending: z.int(),
    }),
    permission: 'Read',
    summary:
      'One page of vaults, sorted, filtered by state or a search, with totals over all vaults.',
  }),
  'vaults.get': method({
    params: VaultRef,
    result: Vault,
    permission: 'Read',
    scope: 'vault',
    summary: 'One vault.',
  }),
  'vaults.history': method({
    params: z.strictObject({
      vaultId: Id,
      fromMs: Millis,
      toMs: Millis,
      maxPoints: z.int().min(1).max(2_000),
    }),
    result: z.array(VaultHistoryPoint),
    permission: 'Read',
    scope: 'vault',
    summary: "A vault's collateral ratio against the price over time.",
  }),
  'vaults.activity': method({
    params: z.strictObject({
      vaultId: Id,
      offset: z.int().min(0).default(0),
      limit: z.int().min(1).max(500).default(100),
    }),
    result: z.object({
      /** The entries over all pages. */
      total: z.int(),
      items: z.array(
        z.object({
          ts: Millis,
          /**
           * deposit; a transaction of the vault's (withdraw, close, emergency-exit, sweep,
           * settlement, redemption-payout); collateral-out (coins that left otherwise); mint,
           * repay, stability-fee; redemption (debt and bitcoin taken by a redeemer); liquidation
           * (debt covered at auction or written off).
           */
          kind: z.enum([
            'deposit',
            'withdraw',
            'close',
            'emergency-exit',
            'sweep',
            'settlement',
            'redemption-payout',
            'collateral-out',
            'mint',
            'repay',
            'stability-fee',
            'redemption',
            'liquidation',
          ]),
          /** What the vault's collateral changed by: + in, − out. */
          collateralChangeSats: z.int(),
          collateralAfterSats: z.int(),
          /** What its debt changed by: + owed more, − owed less. */
          debtChangeCents: z.int(),
          debtAfterCents: z.int(),
          /** The network fee of the vault's own transaction. */
          feeSats: z.int().nullable(),
          /** The transaction, where known. */
          txid: z.string().nullable(),
        }),
      ),
    }),
    permission: 'Read',
    scope: 'vault',
    summary:
      "Everything that changed a vault's collateral or debt, newest first, with the amounts and transactions (for a CSV export).",
  }),
  'vaults.create': method({
    params: z.strictObject({
      label: z.string().max(80, { error: 'must be at most 80 characters' }).optional(),
      plannedDepositSats: PositiveSats.optional(),
      returnAddress: Address.optional(),
      /**
       * The owner's BIP48 account key with origin, `[fingerprint/48'/c'/0'/2']xpub`, from the
       * owner's wallet (SPEC §4). Left out: the node's own owner key (local mode).
       */
      ownerKey: z.string().min(20).max(300).optional(),
    }),
    result: Vault,
    permission: 'CreateVault',
    scope: 'account',
    summary: 'Creates a vault with the owner key; it waits for a deposit.',
  }),
  'vaults.depositAddress': method({
    params: z.strictObject({ vaultId: Id, amountSats: PositiveSats.optional() }),
    result: z.object({ address: z.string(), uri: z.string() }),
    permission: 'Read',
    scope: 'vault',
    summary: "The vault's deposit address and a BIP21 URI for a QR code.",
  }),
  'vaults.showAddress': method({
    params: VaultRef,
    result: z.object({
      shown: z.boolean(),
      address: z.string(),
      deviceAddress: z.string().nullable(),
      message: z.string(),
    }),
    permission: 'ModifyVault',
    scope: 'vault',
    summary: "Shows the vault's address on the Ledger for the owner to compare.",
  }),
  'vaults.setReturnAddress': method({
    params: z.strictObject({ vaultId: Id, address: Address }),
    result: Vault,
    permission: 'ModifyVault',
    scope: 'vault',
    summary: 'Where the rest of the collateral goes if the vault is liquidated.',
  }),
  'vaults.mint': method({
    params: z.strictObject({ vaultId: Id, amountCents: PositiveCents }),
    result: Vault,
    permission: 'ModifyVault',
    scope: 'vault',
    summary: 'Mints bsUSD against the vault (ratio stays at or above 150 %).',
  }),
  'vaults.repay': method({
    params: z.strictObject({
      vaultId: Id,
      amountCents: PositiveCents,
      /** Repay the whole debt as it stands when the repay runs (the fee accrued until then). */
      all: z.boolean().optional(),
    }),
    result: Vault,
    permission: 'ModifyVault',
    scope: 'vault',
    summary: "Repays the vault's debt from your bsUSD.",
  }),
  'vaults.previewWithdraw': method({
    params: Withdraw,
    result: SpendPreview,
    permission: 'ModifyVault',
    scope: 'vault',
    summary: 'The review step of a withdrawal: outputs, fee, ratio after, unsigned PSBT.',
  }),
  'vaults.withdraw': method({
    params: SignDraft,
    result: SpendResult,
    permission: 'ModifyVault',
    scope: 'vault',
    summary: 'Signs the reviewed withdrawal (its spendId) and sends it (owner + protocol sign).',
  }),
  'vaults.submitSigned': method({
    params: z.strictObject({
      vaultId: Id,
      spendId: Id,
      psbtBase64: z.string().min(1).max(2_000_000),
    }),
    result: SpendResult,
    permission: 'ModifyVault',
    scope: 'vault',
    summary:
      "Hands back a reviewed draft signed in the owner's wallet; the protocol decides and co-signs (or the guardian is asked).",
  }),
  'vaults.previewClose': method({
    params: Destination,
    result: SpendPreview,
    permission: 'ModifyVault',
    scope: 'vault',
    summary: 'The review step of closing a vault with no debt.',
  }),
  'vaults.close': method({
    params: SignDraft,
    result: SpendResult,
    permission: 'ModifyVault',
    scope: 'vault',
    summary:
      'Signs the reviewed close (its spendId): all collateral, less the fee, to your address.',
  }),
  'vaults.previewEmergencyExit': method({
    params: Destination,
    result: SpendPreview,
    permission: 'ModifyVault',
    scope: 'vault',
    summary: 'The review step of an emergency exit (owner + guardian).',
  }),
  'vaults.emergencyExit': method({
    params: SignDraft,
    result: SpendResult,
    permission: 'ModifyVault',
    scope: 'vault',
    summary: 'Signs the reviewed emergency exit (its spendId) with the owner and guardian keys.',
  }),
  'vaults.previewSweep': method({
    params: Destination,
    result: SpendPreview,
    permission: 'ModifyVault',
    scope: 'vault',
    summary:
      'The review step of sweeping coins that arrived at a Closed or Liquidated vault back to you.',
  }),
  'vaults.sweep': method({
    params: SignDraft,
    result: SpendResult,
    permission: 'ModifyVault',
    scope: 'vault',
    summary: 'Signs the reviewed sweep (its spendId) and sends it (owner + protocol sign).',
  }),
  'psbt.decode': method({
    params: z.strictObject({ psbtBase64: z.string().min(1).max(2_000_000) }),
    // Each input also says whose signatures it holds: the keys of the caller's vault it spends
    // (owner, protocol, guardian) or "unknown", only signatures that verify; `signatures` stays.
    result: PsbtSummary.extend({
      inputs: z.array(
        PsbtSummary.shape.inputs.element.extend({
          signedBy: z.array(z.enum(['owner', 'protocol', 'guardian', 'unknown'])),
          invalidSignatures: z.int(),
          multisig: z.object({ required: z.int(), keys: z.int() }).nullable(),
        }),
      ),
    }),
    permission: 'Read',
    summary: 'Reads a PSBT file: inputs, outputs, fee and whose signatures it holds so far.',
  }),
  'spends.awaitingGuardian': method({
    params: None,
    result: z.array(GuardianRequest),
    permission: 'Read',
    summary: "Transactions waiting for the guardian's signed PSBT file.",
  }),
  'spends.get': method({
    params: z.strictObject({ spendId: Id }),
    result: z.object({
      spendId: z.int(),
      vaultId: z.int(),
      kind: z.string(),
      state: z.string(),
      txid: z.string().nullable(),
    }),
    permission: 'Read',
    scope: 'spend',
    summary: 'Where one transaction of your vault stands (a wallet asks after a lost connection).',
  }),
  'wallet.signed': method({
    params: None,
    result: z.array(
      z.object({
        spendId: z.int(),
        vaultId: z.int(),
        kind: z.string(),
        outcome: z.enum(['submitted', 'accepted', 'refused']),
        txid: z.string().nullable(),
        message: z.string().nullable(),
        signedAt: Millis,
      }),
    ),
    permission: 'Read',
    summary:
      'Every PSBT this wallet signed and what became of it (a wallet host only: a protocol node keeps no owner signatures).',
  }),
  'wallet.alone': method({
    params: None,
    result: z.object({
      nodeReachable: z.boolean(),
      unreachableSinceMs: Millis.nullable(),
      exitAloneAfterMs: z.int(),
      /** An exit without the protocol node may be built now. */
      ready: z.boolean(),
      reason: z.string(),
      /** This wallet's vaults from its own records, coins as its own Bitcoin node sees them. */
      vaults: z.array(
        z.object({
          vaultId: z.int(),
          index: z.int(),
          address: z.string(),
          collateralSats: z.int().nullable(),
          incomingSats: z.int().nullable(),
        }),
      ),
      exits: z.array(AloneExit),
    }),
    permission: 'Read',
    summary:
      'What the wallet can do without its protocol node: its own vault records and coins, and the exits it built alone (a wallet host only).',
  }),
  'wallet.exitAlone': method({
    params: Destination,
    result: AloneExit,
    permission: 'ModifyVault',
    summary:
      "Builds and owner-signs an emergency exit from the wallet's own records and Bitcoin node, for the guardian, once the protocol node has been unreachable for a set time (a wallet host only).",
  }),
  'wallet.completeExitAlone': method({
    params: z.strictObject({ exitId: Id, psbtBase64: z.string().min(1).max(2_000_000) }),
    result: AloneExit,
    permission: 'ModifyVault',
    summary:
      "Sends an exit built alone with the guardian's signed PSBT, through the wallet's own Bitcoin node (a wallet host only).",
  }),
  'wallet.abandonExitAlone': method({
    params: z.strictObject({ exitId: Id }),
    result: AloneExit,
    permission: 'ModifyVault',
    summary:
      'Gives up an exit built alone that waits for the guardian (a guardian who signs it anyway can still send it).',
  }),
  'spends.completeWithGuardian': method({
    params: z.strictObject({ spendId: Id, psbtBase64: z.string().min(1).max(2_000_000) }),
    result: SpendResult,
    permission: 'ModifyVault',
    scope: 'spend',
    summary:
      'Completes and sends a transaction with what the guardian signed: the PSBT (base64 or hex, partial or finalized) or the signed transaction (hex).',
  }),
  'spends.cancelGuardianRequest': method({
    params: z.strictObject({ spendId: Id }),
    result: z.object({ spendId: z.int(), state: z.literal('cancelled') }),
    permission: 'ModifyVault',
    scope: 'spend',
    summary:
      'Gives up a transaction waiting for the guardian (BitStable sent nothing; it is still watched in case the guardian sends it).',
  }),
  'admin.cancelSettlement': method({
    params: z.strictObject({ spendId: Id }),
    result: z.object({ spendId: z.int(), state: z.literal('cancelled') }),
    permission: 'AdminAccess',
    summary:
      "Gives up an auction settlement waiting for the guardian; the auction plans a new one (the operator's call).",
  }),
  'balance.get': method({
    params: None,
    result: z.object({ bsusdCents: Cents }),
    permission: 'Read',
    scope: 'account',
    summary: 'Your bsUSD balance.',
  }),
  'recoveryKit.get': method({
    params: None,
    result: RecoveryKit,
    permission: 'ModifyVault',
    scope: 'account',
    summary: 'Everything needed to rebuild every vault in Sparrow, Electrum or Bitcoin Core.',
  }),
  'settings.get': method({
    params: None,
    result: Settings,
    permission: 'Read',
    summary: 'Network, node connection, oracle, keys.',
  }),
  'auctions.list': method({
    params: z.strictObject({ live: z.boolean().default(false), vaultId: Id.optional() }),
    result: z.object({ asOf: Millis, auctions: z.array(Auction) }),
    permission: 'Read',
    summary: "Auctions, newest first (only live ones, or one vault's), with their price at `asOf`.",
  }),
  'auctions.get': method({
    params: z.strictObject({ auctionId: Id }),
    result: z.object({ asOf: Millis, auction: Auction }),
    permission: 'Read',
    summary: 'One auction.',
  }),
  'auctions.take': method({
    params: z.strictObject({
      auctionId: Id,
      maxSats: PositiveSats,
      maxPriceCents: PositiveCents,
      btcAddress: Address,
    }),
    result: TakeResult,
    permission: 'Liquidate',
    scope: 'account',
    summary: 'Buys collateral at the current auction price, paying bsUSD.',
  }),
  'node.info': method({
    params: None,
    result: z.object({
      nodeId: z.string(),
      network: z.string(),
      apiVersion: z.int(),
      registration: z.enum(['open', 'invite']),
      /** The keys a wallet pins on first connection (SPEC §4), with origin. */
      protocolKey: z.string(),
      guardianKey: z.string(),
    }),
    permission: 'Public',
    summary: 'Who this node is: its id, network, and the protocol and guardian keys to pin.',
  }),
  'auth.challenge': method({
    params: None,
    result: z.object({ challenge: z.string(), nodeId: z.string(), expiresAt: Millis }),
    permission: 'Public',
    summary: 'A fresh challenge to sign in with (SPEC §3); answer it within five minutes.',
  }),
  'auth.signIn': method({
    params: z.strictObject({
      accountId: AccountId,
      challenge: z.string().regex(/^[0-9a-f]{64}$/, { error: 'must be the challenge as given' }),
      signature: z.string().regex(/^[0-9a-f]{128}$/, { error: 'must be a 64-byte hex signature' }),
      /** The origin the wallet connected to (scheme://host:port), as it signed it. */
      origin: z.string().min(8).max(200),
      inviteCode: z.string().min(1).max(64).optional(),
      label: z.string().max(80, { error: 'must be at most 80 characters' }).optional(),
    }),
    result: z.object({ token: z.string(), accountId: z.string(), expiresAt: Millis }),
    permission: 'Public',
    summary:
      "Signs in with the account key's BIP340 signature of the challenge; registers a new account where registration is open.",
  }),
  'auth.signOut': method({
    params: None,
    result: z.object({ signedOut: z.literal(true) }),
    permission: 'Read',
    summary:
      'Ends the session this call is made with: the token stops working at once and its sockets close. A gateway token is revoked by the operator instead.',
  }),
  'account.get': method({
    params: None,
    result: Account,
    permission: 'Read',
    scope: 'account',
    summary: 'Your account: its id (where others send bsUSD) and balance.',
  }),
  'bsusd.transfer': method({
    params: z.strictObject({
      to: AccountId,
      amountCents: PositiveCents,
      memo: z.string().max(140, { error: 'must be at most 140 characters' }).optional(),
    }),
    result: z.object({ entryId: z.int(), to: z.string(), amountCents: Cents, balanceCents: Cents }),
    permission: 'Transfer',
    scope: 'account',
    summary: 'Sends bsUSD from your account to another (one ledger entry).',
  }),
  'bsusd.statement': method({
    params: z.strictObject({
      offset: z.int().min(0).default(0),
      limit: z.int().min(1).max(500).default(50),
    }),
    result: z.object({ total: z.int(), items: z.array(StatementLine) }),
    permission: 'Read',
    scope: 'account',
    summary: 'Every entry that touched your bsUSD, newest first, with the balance after each.',
  }),
  'bsusd.quoteRedemption': method({
    params: z.strictObject({ amountCents: PositiveCents }),
    result: RedemptionQuote,
    permission: 'Read',
    scope: 'account',
    summary: 'What redeeming that much bsUSD for bitcoin would do now (changes nothing).',
  }),
  'bsusd.redeem': method({
    params: z.strictObject({
      amountCents: PositiveCents,
      btcAddress: Address,
      /** Refused, with nothing changed, if the vaults would pay less than this (the price moved). */
      minSats: z.int().min(1).optional(),
    }),
    result: Redemption,
    permission: 'Transfer',
    scope: 'account',
    summary:
      'Redeems bsUSD for bitcoin at the oracle price less the fee, from the lowest-ratio vaults first.',
  }),
  'bsusd.redemptions': method({
    params: z.strictObject({ limit: z.int().min(1).max(200).default(50) }),
    result: z.array(Redemption),
    permission: 'Read',
    scope: 'account',
    summary: 'Your redemptions, newest first, with each payout and its transaction.',
  }),
  'pool.get': method({
    params: None,
    result: PoolPosition,
    permission: 'Read',
    scope: 'account',
    summary: 'The stability pool: its bsUSD, yours, and what its takes bought you.',
  }),
  'pool.deposit': method({
    params: z.strictObject({ amountCents: PositiveCents, btcAddress: Address.optional() }),
    result: PoolPosition,
    permission: 'Transfer',
    scope: 'account',
    summary:
      'Moves bsUSD into the stability pool; your share of the auctions it takes is paid to your address.',
  }),
  'pool.withdraw': method({
    params: z.strictObject({ amountCents: PositiveCents, all: z.boolean().optional() }),
    result: PoolPosition,
    permission: 'Transfer',
    scope: 'account',
    summary: 'Takes bsUSD back out of the stability pool (all of it with `all`).',
  }),
  'admin.createInvite': method({
    params: None,
    result: z.object({ code: z.string() }),
    permission: 'AdminAccess',
    summary:
      'A one-time code with which a new account may register (networks with invite-only registration).',
  }),
  'regtest.mine': method({
    params: z.strictObject({
      blocks: z
        .int()
        .min(1, { error: 'must be at least 1' })
        .max(1_000, { error: 'must be at most 1,000' }),
    }),
    result: z.object({ height: z.int() }),
    permission: 'Playground',
    summary: 'Mines blocks on local regtest.',
  }),
  'regtest.faucet': method({
    params: z.strictObject({ address: Address, amountSats: PositiveSats }),
    result: z.object({ txid: z.string() }),
    permission: 'Playground',
    summary: 'Sends regtest coins from the miner wallet.',
  }),
  'regtest.newAddress': method({
    params: None,
    result: z.object({ address: z.string() }),
    permission: 'Playground',
    summary: 'A fresh address of the regtest miner wallet (your stand-in everyday wallet).',
  }),
  'settings.protocolNode': method({
    params: None,
    result: ProtocolNodeSetting,
    permission: 'AdminAccess',
    summary: 'Which protocol node this app uses: this computer, or a node at a URL.',
  }),
  'settings.testProtocolNode': method({
    params: z.strictObject({ url: z.string().min(1).max(300) }),
    result: z.object({
      url: z.string(),
      nodeId: z.string(),
      network: z.string(),
      apiVersion: z.int(),
      registration: z.enum(['open', 'invite']),
      protocolKey: z.string(),
      guardianKey: z.string(),
      protocolFingerprint: z.string(),
      guardianFingerprint: z.string(),
    }),
    permission: 'AdminAccess',
    summary: 'Tests a protocol node: who answers at the URL, its network and the keys to pin.',
  }),
  'settings.setProtocolNode': method({
    params: z.strictObject({ url: z.string().min(1).max(300).nullable() }),
    result: ProtocolNodeSetting,
    permission: 'AdminAccess',
    summary:
      'Chooses this computer (null) or the node at a URL (tested first); takes effect at the next start.',
  }),
  'settings.saved': method({
    params: None,
    result: SavedSettingsView,
    permission: 'AdminAccess',
    summary:
      'The settings chosen in this app (Bitcoin node, guardian key, oracle) and whether a restart is due.',
  }),
  'settings.testBitcoinNode': method({
    params: z.strictObject({ bitcoin: BitcoinNodeSetting }),
    result: z.object({
      url: z.string(),
      chain: z.string(),
      blocks: z.int(),
      version: z.string(),
      walletLoaded: z.boolean().nullable(),
    }),
    permission: 'AdminAccess',
    summary: 'Asks a Bitcoin node who it is (chain, height, version) with the settings given.',
  }),
  'settings.testWebhook': method({
    params: z.strictObject({ webhook: WebhookSetting }),
    result: SavedSettingsView,
    permission: 'AdminAccess',
    summary:
      'Posts a test alert to a webhook (the URL given, or the saved one) and says how it went.',
  }),
  'settings.save': method({
    params: z.strictObject({
      bitcoin: BitcoinNodeSetting.nullable().optional(),
      guardianKey: GuardianKeySetting.nullable().optional(),
      oracle: OracleSetting.nullable().optional(),
      webhook: WebhookSetting.nullable().optional(),
      ratioAlertBps: z.int().min(1).max(100_000).nullable().optional(),
      dryRun: z.boolean().default(false),
    }),
    result: SavedSettingsView,
    permission: 'AdminAccess',
    summary:
      'Checks and saves settings (a Bitcoin node is tested first; null restores the default); used from the next start. dryRun: check only.',
  }),
  'playground.accounts': method({
    params: None,
    result: z.array(PlaygroundAccount),
    permission: 'Playground',
    summary:
      "The playground's accounts (local mode on regtest): yours and those added to play other parties, and which one this window acts as.",
  }),
  'playground.addAccount': method({
    params: z.strictObject({ label: z.string().trim().min(1).max(60) }),
    result: PlaygroundAccount,
    permission: 'Playground',
    summary: 'Adds a playground account with its own key, kept by this node (regtest, local mode).',
  }),
  'playground.switch': method({
    params: z.strictObject({ accountId: AccountId }),
    result: z.array(PlaygroundAccount),
    permission: 'Playground',
    summary: 'Makes this window act as another playground account (regtest, local mode).',
  }),
  'regtest.setPrice': method({
    params: z.strictObject({ priceCents: PositiveCents }),
    result: Price,
    permission: 'Playground',
    summary: 'Sets the simulated BTC price and runs oracle rounds until it is accepted.',
  }),
} as const;

export type Api = typeof API;
export type MethodName = keyof Api;
/** What a caller passes (defaults may be left out). */
export type Params<M extends MethodName> = z.input<Api[M]['params']>;
/** What a caller gets back. */
export type Result<M extends MethodName> = z.output<Api[M]['result']>;

/** Method names, as constants. */
export const METHOD_NAMES = Object.keys(API) as MethodName[];

/** True when `name` is a method of the contract. */
export function isMethodName(name: unknown): name is MethodName {
  return typeof name === 'string' && Object.hasOwn(API, name);
}
