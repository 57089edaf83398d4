/**
 * What each contract method does, in terms of the core. Arguments arrive already validated
 * against the method's schema; results are checked against the result schema by the dispatcher.
 * Domain rules (ratios, states, addresses) stay in the core: these only translate.
 */
import { address as bjsAddress, type Network as BjsNetwork, type Psbt } from 'bitcoinjs-lib';
import { decodePsbt } from '../keys/psbt-keys';
import { psbtSigners, type InputSigners } from '../psbt/signers';
import type { BitStableNode } from '../app/bitstable-node';
import { keyExpression } from '../bitcoin/keys';
import { BitStableError } from '../errors';
import { usdText, type Cents, type Sats } from '../money';
import { priceUnavailableMessage } from '../oracle/feed';
import { enabledSourceNames, EXCHANGES } from '../oracle/config';
import { outputScript } from '../psbt/fees';
import { isDeviceSigner, type SignerPrompt } from '../signers/types';
import { collateralRatioBps, liquidationPrice, thresholdPrice } from '../vaults/health';
import type { VaultListFilter, VaultListRow } from '../store/vaults';
import type { EntryKind } from '../store/ledger';
import { debtAtRate, debtNow, rateAt } from '../vaults/fee-book';
import { feePerYear } from '../vaults/fee';
import { books } from '../ledger/books';
import {
  recoveryKit,
  type SpendPreview as CoreSpendPreview,
  type SpendResult as CoreSpendResult,
} from '../vaults/operations';
import type { Vault as CoreVault } from '../vaults/vault-store';
import type { SpendKind } from '../spends/state';
import { API_VERSION, METHOD_NAMES, type API, type MethodName, type Result } from './contract';
import type { z } from 'zod';
import { ApiBoundaryError } from './errors';
import type { Caller } from './dispatcher';
import { chooseProtocolNode, protocolNodeSetting } from '../wallet/node-setting';
import type { SavedSettingsService } from '../app/saved-settings';
import { testProtocolNode } from '../wallet/choice';
import type { ApiEvent } from './events';
import { VAULT_STATES } from './schemas';

/** The parts of a running BitStable node the API serves. */
export type ApiCore = Pick<
  BitStableNode,
  | 'network'
  | 'params'
  | 'db'
  | 'store'
  | 'bus'
  | 'chain'
  | 'regtest'
  | 'oracle'
  | 'simulated'
  | 'vaults'
  | 'operations'
  | 'spends'
  | 'liquidation'
  | 'keySetId'
  | 'signers'
  | 'sync'
  | 'background'
  | 'tracker'
  | 'accounts'
  | 'localAccountId'
  | 'activeAccountId'
  | 'isHere'
  | 'playground'
  | 'clock'
  | 'redemptions'
  | 'pool'
  | 'cluster'
>;

/** What the host (headless gateway, Electron main) tells the API about itself. */
export interface ApiHostInfo {
  /** The app's data folder, shown in settings. */
  dataDir?: string;
  /** Whether the host updates itself (the desktop app does; the headless host does not). */
  updates?: { automatic: boolean; note: string };
  /** The settings chosen in the app, read at this start (core/app/saved-settings.ts). */
  settings?: SavedSettingsService;
}

/** Handler arguments: the parsed params of method M. */
type ParsedParams<M extends MethodName> = z.output<(typeof API)[M]['params']>;
export type Handlers = {
  [M in MethodName]: (params: ParsedParams<M>, caller: Caller) => Promise<Result<M>> | Result<M>;
};

interface Deps {
  core: ApiCore;
  host: ApiHostInfo;
  emit: (event: ApiEvent) => void;
}

type WithLabel = { label?: string };
type ActivityKind = Result<'vaults.activity'>['items'][number]['kind'];

/** What a posting to a vault's ledger account was, by its entry's kind (the rest: liquidation). */
const DEBT_STEP_KINDS: Partial<Record<EntryKind, ActivityKind>> = {
  mint: 'mint',
  repay: 'repay',
  stability_fee: 'stability-fee',
  redemption: 'redemption',
};

/** The contract's methods over one running node. */
export function createHandlers({ core, host, emit }: Deps): Handlers {
  const net = core.network;
  const price = () => core.oracle.current();
  const now = () => (core.clock ? core.clock() : Date.now());
  const priceForRatio = (): Cents | null => price().priceCents;

  /**
   * What a search of the vault list matches: a number (or "#n") is a vault id, or a part of a
   * label; a whole txid is a coin the vault holds or one of its spends; anything else is a part of
   * the label or the address, in any case.
   */
  const vaultSearch = async (
    search: string | undefined,
  ): Promise<{ search?: VaultListFilter['search'] }> => {
    const q = (search ?? '').trim().toLowerCase();
    if (!q) return {};
    const id = /^#?(\d{1,15})$/.exec(q);
    if (id) return { search: { kind: 'id', id: Number(id[1]), text: q } };
    if (/^[0-9a-f]{64}$/.test(q))
      return { search: { kind: 'ids', ids: await core.store.vaults.vaultsWithTransaction(q) } };
    return { search: { kind: 'text', text: q } };
  };

  /** A vault as the list shows it, at its debt now and the price ratios are read at. */
  const summaryOf = (v: VaultListRow, debt: Cents, p: Cents | null) => ({
    id: v.id,
    label: v.label,
    state: v.state,
    address: v.address,
    collateralSats: v.collateralSats,
    incomingSats: v.incomingSats,
    debtCents: debt,
    ratioBps: p === null ? null : collateralRatioBps(v.collateralSats, debt, p),
    liquidationPriceCents: liquidationPrice(
      v.collateralSats,
      debt,
      core.params.liquidationRatioBps,
    ),
    createdAt: v.createdAt,
  });

  const toVault = async (v: CoreVault): Promise<Result<'vaults.get'>> => {
    const spend = await core.store.spends.latestInFlight(v.id);
    // The debt now: what the ledger booked and the stability fee accrued since.
    const debt = await debtNow(core.store, v, now());
    return {
      ...summaryOf(v, debt, priceForRatio()),
      keySetId: v.keySetId,
      index: v.index,
      descriptor: v.descriptor,
      feesCents: (v.feesCents + debt - v.debtCents) as Cents,
      feePerYearCents: feePerYear(debt, core.params.stabilityFeeBps),
      warningPriceCents: thresholdPrice(v.collateralSats, debt, core.params.warningRatioBps),
      plannedDepositSats: v.plannedDepositSats,
      returnAddress: v.returnAddress,
      redemptions: core.redemptions ? await core.redemptions.forVault(v.id) : [],
      pendingSpend: spend ?? null,
      updatedAt: v.updatedAt,
    };
  };

  const keys = async () => await core.vaults.keySet(core.keySetId);
  const signerInfo = async (role: 'owner' | 'protocol' | 'guardian') => {
    const k = (await keys())[role];
    if (role === 'protocol')
      return {
        kind: 'software' as const,
        label: 'Protocol key (held by this node)',
        key: keyExpression(k),
      };
    const s = core.signers[role];
    return {
      kind: s.kind,
      label: (s as WithLabel).label ?? `${role} key (${s.kind})`,
      key: keyExpression(k),
    };
  };

  /**
   * The owner key as a caller may see it: the node's own owner key is its own account's (and the
   * operator's); to anyone else it would give away every vault address of that account.
   */
  const ownerInfoFor = async (caller: Caller) =>
    core.isHere(caller.account) || caller.admin
      ? await signerInfo('owner')
      : {
          kind: 'software' as const,
          label: 'Your owner key is in your own wallet, not on this node',
          key: '',
        };

  const priceResult = async (): Promise<Result<'price.get'>> => {
    const s = price();
    const last = s.lastRoundId === null ? null : await core.oracle.round(s.lastRoundId);
    return {
      priceCents: s.priceCents,
      status: s.status,
      message: priceUnavailableMessage(s),
      ageMs: s.ageMs,
      maxAgeMs: s.maxAgeMs,
      sources: s.sources,
      threshold: s.threshold,
      heldPriceCents: s.heldPriceCents,
      heldConfirmsInMs: s.heldConfirmsInMs,
      delay: {
        delayMs: s.delayMs,
        liquidationPriceCents: s.liquidationPriceCents,
        next: s.nextLiquidationPrice,
      },
      clockSkewMs: s.clockSkewMs,
      frozenSources: s.frozenSources,
      lastRound: last
        ? {
            id: last.id,
            ts: last.ts,
            status: last.status,
            answers: last.answers.map((a) => ({
              source: a.source,
              priceCents: a.priceCents,
              error: a.error,
              dropped: a.dropped,
            })),
          }
        : null,
    };
  };

  const requireRegtest = () => {
    if (!core.regtest)
      throw new ApiBoundaryError(
        'NOT_SUPPORTED',
        'Mining, the faucet and the simulated price exist only in local regtest mode.',
      );
    return core.regtest;
  };

  const toPreview = (
    p: CoreSpendPreview,
    signers: ('owner' | 'protocol' | 'guardian')[],
  ): Result<'vaults.previewWithdraw'> => ({
    spendId: p.spendId,
    expiresAt: p.expiresAt,
    kind: p.plan.kind,
    vaultId: p.vault.id,
    destination: p.destination,
    inputs: p.plan.inputs.map((i) => ({ txid: i.txid, vout: i.vout, amountSats: i.amountSats })),
    outputs: p.plan.outputs.map((o) => ({
      address: o.address,
      amountSats: o.amountSats,
      change: o.address === p.vault.address,
    })),
    feeSats: p.plan.feeSats,
    feeRateSatPerKvB: p.plan.feeRateSatPerKvB,
    ratioAfterBps: p.ratioAfterBps,
    signers,
    psbtBase64: p.psbtBase64,
  });

  const toSpendResult = (r: CoreSpendResult): Result<'vaults.withdraw'> => ({
    spendId: r.spendId,
    txid: r.txid,
    kind: r.plan.kind,
    state: r.state,
    feeSats: r.plan.feeSats,
    outputs: r.plan.outputs.map((o) => ({ address: o.address, amountSats: o.amountSats })),
  });

  /** Runs a spend with the owner's signing shown as prompts (a Ledger adds its own through the host). */
  const signed = async (
    operation: string,
    vaultId: number,
    run: () => Promise<CoreSpendResult>,
  ): Promise<Result<'vaults.withdraw'>> => {
    const owner = core.signers.owner;
    const prompt = (p: SignerPrompt) =>
      emit({ type: 'signer.prompt', payload: { ...p, operation } });
    prompt(
      owner.kind === 'ledger'
        ? {
            state: 'pending',
            level: 'info',
            code: 'ledger.connect',
            text: 'Connect and unlock your Ledger, open the Bitcoin app, and review the transaction on it.',
          }
        : {
            state: 'active',
            level: 'info',
            code: 'software.sign',
            text: `The ${(owner as WithLabel).label ?? 'owner key'} signs the ${operation} of vault #${vaultId}.`,
          },
    );
    try {
      const r = await run();
      prompt(
        r.state === 'awaiting-guardian'
          ? {
              state: 'done',
              level: 'info',
              code: `${operation}.awaiting-guardian`,
              text: "Signed with your key and kept. Save its PSBT for the guardian; it is sent when the guardian's signed file is imported.",
            }
          : {
              state: 'done',
              level: 'success',
              code: `${operation}.broadcast`,
              text: `Signed and broadcast: ${r.txid}.`,
            },
      );
      return toSpendResult(r);
    } catch (err) {
      const message =
        err instanceof BitStableError ? err.message : 'Signing failed; nothing was sent.';
      prompt({
        state: 'failed',
        level: 'error',
        code: err instanceof BitStableError ? err.code : 'INTERNAL',
        text: message,
      });
      throw err;
    }
  };

  const auctions = () => core.liquidation;

  /** The draft, checked to belong to the vault the caller names. */
  const draftOf = async (vaultId: number, spendId: number) => {
    const draft = await core.spends.store.require(spendId);
    if (draft.vault_id !== vaultId) {
      throw new BitStableError(
        'INVALID_ARGUMENT',
        `Transaction #${spendId} is not from vault #${vaultId}.`,
        { spendId, vaultId },
      );
    }
    return draft;
  };

  /** Signs a reviewed draft here: only for a vault of this node's own owner key. */
  const signDraft = async (vaultId: number, spendId: number, kind: SpendKind) => {
    await draftOf(vaultId, spendId);
    const vault = await core.vaults.getVault(vaultId);
    if (vault.keySetId !== core.keySetId || !core.isHere(vault.accountId)) {
      throw new BitStableError(
        'SIGNER_REFUSED',
        `Vault #${vaultId}'s owner key is in the owner's wallet, not on this node: sign the reviewed PSBT there and hand it back with vaults.submitSigned.`,
        { vaultId, spendId },
      );
    }
    return core.spends.sign(spendId, kind);
  };

  /** The app's folder, for this machine's own window only: its settings are the person's. */
  const dataDirFor = (caller: Caller): string => {
    if (!caller.here || !host.dataDir) {
      throw new ApiBoundaryError(
        'FORBIDDEN',
        "Which protocol node an app uses is chosen in that app's own window.",
      );
    }
    return host.dataDir;
  };

  /** The settings this host keeps (this machine's own window only, as the folder). */
  const savedSettingsFor = (caller: Caller): SavedSettingsService => {
    dataDirFor(caller);
    if (!host.settings)
      throw new ApiBoundaryError('NOT_SUPPORTED', 'This host keeps no settings of its own.');
    return host.settings;
  };

  /** Playground accounts with their bsUSD balances. */
  const withBalances = async <A extends { accountId: string }>(accounts: A[]) => {
    const out: (A & { balanceCents: Cents })[] = [];
    for (const a of accounts)
      out.push({ ...a, balanceCents: await core.operations.balanceCents(a.accountId) });
    return out;
  };

  /** The playground, for this machine's own window only (a remote session plays one account). */
  const playgroundFor = (caller: Caller) => {
    if (!core.playground) {
      throw new ApiBoundaryError(
        'NOT_SUPPORTED',
        'Playground accounts exist on regtest only: elsewhere every account is a wallet of its own.',
      );
    }
    if (!caller.here) {
      throw new ApiBoundaryError(
        'FORBIDDEN',
        "Playground accounts are switched from the protocol node's own window; a wallet connected to the node plays its own account (start another wallet for another party).",
      );
    }
    return core.playground;
  };

  return {
    'api.version': () => ({ version: API_VERSION, methods: [...METHOD_NAMES] }),

    'status.get': async (_, caller) => {
      let node: Result<'status.get'>['node'];
      try {
        const info = await core.chain.chainInfo();
        let blockTime: number | null = null;
        try {
          const header = await core.chain.rpc.call<{ time: number }>('getblockheader', [
            info.bestBlockHash,
          ]);
          blockTime = header.time * 1000;
        } catch {
          blockTime = null;
        }
        node = {
          online: true,
          height: info.blocks,
          bestBlockHash: info.bestBlockHash,
          blockTime,
          initialBlockDownload: info.initialBlockDownload,
          message: null,
        };
      } catch (err) {
        node = {
          online: false,
          height: null,
          bestBlockHash: null,
          blockTime: null,
          initialBlockDownload: false,
          message:
            err instanceof BitStableError ? err.message : 'The Bitcoin node does not answer.',
        };
      }
      return {
        apiVersion: API_VERSION,
        network: net.name,
        node,
        regtest: core.regtest !== null,
        owner: await ownerInfoFor(caller),
        accountId: caller.account,
        protocolNode: { nodeId: core.accounts.nodeId, url: null },
        bsusdBalanceCents:
          caller.account === null ? 0 : await core.operations.balanceCents(caller.account),
        params: core.params,
      };
    },

    'price.get': async () => await priceResult(),
    'books.get': async ({ limit }) =>
      await books(core.store, net.name, core.params, now(), priceForRatio(), limit),

    'price.history': async ({ fromMs, toMs, maxPoints }) =>
      (await core.oracle.history(fromMs, toMs, maxPoints)).map((h) => ({
        ts: h.ts,
        priceCents: h.priceCents,
        lowCents: h.lowCents,
        highCents: h.highCents,
      })),

    'vaults.list': async (
      { offset, limit, sort, order, state, search, hideEmptyPending },
      caller,
    ) => {
      const p = priceForRatio();
      // Your own vaults; an operator token bound to no account sees every vault.
      const accountId =
        caller.account === null && caller.admin ? undefined : (caller.account ?? '');
      // One read of the fee rate for all of them; the debts after it are arithmetic.
      const { rate } = await rateAt(core.store, net.name, now());
      const summary = (v: VaultListRow) => summaryOf(v, debtAtRate(v, rate), p);
      const sums = await core.store.vaults.listTotals(net.name, accountId);
      const byState = Object.fromEntries(VAULT_STATES.map((s) => [s, 0])) as Record<
        (typeof VAULT_STATES)[number],
        number
      >;
      let count = 0;
      let collateralSats = 0;
      for (const r of sums.byState) {
        byState[r.state as (typeof VAULT_STATES)[number]] = r.count;
        count += r.count;
        collateralSats += r.collateralSats;
      }
      const debtCents = sums.debts.reduce((t, d) => t + debtAtRate(d, rate), 0);
      const totals = { count, collateralSats, debtCents, byState };
      const filter = {
        hideEmptyPending,
        ...(state ? { state } : {}),
        ...(await vaultSearch(search)),
      };
      // By id, the database pages; any other order needs every match's debt and ratio first.
      if (sort === 'id') {
        const page = await core.store.vaults.listPage(net.name, accountId, filter, {
          offset,
          limit,
          order,
        });
        return {
          total: page.total,
          offset,
          items: page.rows.map(summary),
          totals,
          hiddenEmptyPending: page.hiddenEmptyPending,
        };
      }
      const all = await core.store.vaults.listPage(net.name, accountId, filter);
      const rows = all.rows.map(summary);
      const stateRank = (s: string) => VAULT_STATES.indexOf(s as (typeof VAULT_STATES)[number]);
      // No debt: no ratio, safest of all; sorts after every ratio ascending.
      const ratioKey = (r: number | null) => (r === null ? Number.MAX_SAFE_INTEGER : r);
      const key: Record<Exclude<typeof sort, 'id'>, (v: (typeof rows)[number]) => number> = {
        state: (v) => stateRank(v.state),
        collateral: (v) => v.collateralSats,
        debt: (v) => v.debtCents,
        ratio: (v) => ratioKey(v.ratioBps),
      };
      const sign = order === 'asc' ? 1 : -1;
      const k = key[sort];
      rows.sort((a, b) => sign * (k(a) - k(b)) || b.id - a.id);
      return {
        total: all.total,
        offset,
        items: rows.slice(offset, offset + limit),
        totals,
        hiddenEmptyPending: all.hiddenEmptyPending,
      };
    },

    'vaults.get': async ({ vaultId }) => await toVault(await core.vaults.getVault(vaultId)),

    'vaults.history': async ({ vaultId, fromMs, toMs, maxPoints }) => {
      const vault = await core.vaults.getVault(vaultId);
      // Debt over time from the vault's ledger account; collateral from the journal's deposit records.
      const debtSteps = await core.store.vaults.debtSteps(vault.id);
      const collSteps = await core.store.vaults.collateralSteps(vault.id);
      const debtAt: { ts: number; debt: number }[] = [];
      let owed = 0;
      for (const s of debtSteps) {
        owed -= s.amount;
        debtAt.push({ ts: s.ts, debt: owed });
      }
      const collAt = collSteps.map((s) => ({
        ts: s.ts,
        coll: Number((JSON.parse(s.data) as { to?: number }).to ?? 0),
      }));
      const points = await core.oracle.history(Math.max(fromMs, vault.createdAt), toMs, maxPoints);
      let di = -1;
      let ci = -1;
      return points.map((pt) => {
        while (di + 1 < debtAt.length && debtAt[di + 1]!.ts <= pt.ts) di++;
        while (ci + 1 < collAt.length && collAt[ci + 1]!.ts <= pt.ts) ci++;
        const debt = di >= 0 ? debtAt[di]!.debt : 0;
        const coll = ci >= 0 ? collAt[ci]!.coll : 0;
        return {
          ts: pt.ts,
          priceCents: pt.priceCents,
          collateralSats: coll,
          debtCents: debt,
          ratioBps: collateralRatioBps(coll as Sats, debt as Cents, pt.priceCents),
        };
      });
    },

    'vaults.activity': async ({ vaultId, offset, limit }) => {
      // The amounts are the store's own records, exact: the journal's collateral changes and the
      // vault's ledger postings. What each was is read beside them: a posting's entry names its
      // kind, the vault's transactions and redemptions name the rest.
      type Item = Result<'vaults.activity'>['items'][number];
      type Step = Omit<Item, 'collateralAfterSats' | 'debtAfterCents'>;
      const vault = await core.vaults.getVault(vaultId);
      const steps: Step[] = [];
      const sum = (xs: { amountSats: number }[]) => xs.reduce((a, x) => a + x.amountSats, 0);
      const spends = (
        await core.store.spends.ofVault(vault.id, ['signed', 'broadcast', 'confirmed'])
      ).map((s) => {
        const plan = JSON.parse(s.plan) as {
          inputs: { txid: string; vout: number; amountSats: number }[];
          outputs: { address: string; amountSats: number }[];
          feeSats: number;
        };
        const change = plan.outputs.filter((o) => o.address === vault.address);
        return {
          kind: s.kind === 'redemption' ? ('redemption-payout' as const) : s.kind,
          txid: s.txid,
          feeSats: plan.feeSats,
          // What it takes from the collateral (change counts at once): a redemption's bitcoin
          // left the collateral when it was redeemed, so its payout takes only the fee.
          out: s.kind === 'redemption' ? plan.feeSats : sum(plan.inputs) - sum(change),
          inputs: plan.inputs,
          used: false,
        };
      });
      // The coins the vault was paid, to name its deposits: those it holds and those its
      // transactions spent (not its own change).
      const own = new Set(spends.map((s) => s.txid));
      const seen = new Set<string>();
      const coins: { txid: string; sats: number; used: boolean }[] = [];
      const coin = (txid: string, vout: number, sats: number) => {
        if (own.has(txid) || seen.has(`${txid}:${vout}`)) return;
        seen.add(`${txid}:${vout}`);
        coins.push({ txid, sats, used: false });
      };
      for (const c of await core.store.auctions.vaultCoins(vault.id))
        if (c.confirmations >= core.params.confirmations) coin(c.txid, c.vout, c.amount_sats);
      for (const s of spends) for (const i of s.inputs) coin(i.txid, i.vout, i.amountSats);
      // The coins counted before each step (journalled with it; unknown before a step without).
      let before: Set<string> | null = new Set();
      for (const c of await core.store.vaults.collateralSteps(vault.id)) {
        const d = JSON.parse(c.data) as { from?: number; to?: number; coins?: string[] };
        const change = Number(d.to ?? 0) - Number(d.from ?? 0);
        const counted = d.coins ? new Set(d.coins) : null;
        // The transactions of the coins this step counted that the vault did not make itself.
        const paidBy = new Set(
          counted && before
            ? [...counted]
                .filter((k) => !before!.has(k))
                .map((k) => k.slice(0, k.lastIndexOf(':')))
                .filter((txid) => !own.has(txid))
            : [],
        );
        before = counted;
        if (change > 0) {
          // From the coins it counted; for a step journalled without them, named only when one
          // coin fits (two of one amount could be told apart only by block).
          const exact = paidBy.size === 1 ? [...paidBy][0]! : null;
          const fits = exact
            ? coins.filter((k) => !k.used && k.txid === exact)
            : coins.filter((k) => !k.used && k.sats === change);
          const txid = exact ?? (fits.length === 1 ? fits[0]!.txid : null);
          if (txid) for (const k of fits) k.used = true;
          steps.push({
            ts: c.ts,
            kind: 'deposit',
            collateralChangeSats: change,
            debtChangeCents: 0,
            feeSats: null,
            txid,
          });
        } else if (change < 0) {
          // A vault has one transaction open at a time: they take its coins in their order.
          const s = spends.find((x) => !x.used && x.out === -change);
          if (s) s.used = true;
          steps.push({
            ts: c.ts,
            kind: s?.kind ?? 'collateral-out',
            collateralChangeSats: change,
            debtChangeCents: 0,
            feeSats: s?.feeSats ?? null,
            txid: s?.txid ?? null,
          });
        }
      }
      const redeemed = (
        core.redemptions ? await core.redemptions.forVault(vault.id, 100_000) : []
      ).map((r) => ({ ...r, used: false }));
      for (const p of await core.store.vaults.debtSteps(vault.id)) {
        // The vault's ledger account is debited as its debt grows; the entry says what it was.
        const change = -p.amount;
        const r =
          p.kind === 'redemption'
            ? redeemed.find((x) => !x.used && x.at === p.ts && x.debtCents === -change)
            : undefined;
        if (r) r.used = true;
        steps.push({
          ts: p.ts,
          // The rest (an auction's payment, a taking by the pool, debt written off) is liquidation.
          kind: DEBT_STEP_KINDS[p.kind] ?? 'liquidation',
          collateralChangeSats: r ? -r.sats : 0,
          debtChangeCents: change,
          feeSats: null,
          txid: r?.txid ?? null,
        });
      }
      // Oldest first to add up what the vault held and owed after each; newest first out.
      steps.sort((a, b) => a.ts - b.ts);
      let held = 0;
      let owed = 0;
      const items: Item[] = steps.map((s) => ({
        ...s,
        collateralAfterSats: (held += s.collateralChangeSats),
        debtAfterCents: (owed += s.debtChangeCents),
      }));
      items.reverse();
      return { total: items.length, items: items.slice(offset, offset + limit) };
    },

    'vaults.create': async ({ label, plannedDepositSats, returnAddress, ownerKey }, caller) => {
      // Checked before anything is created, so a bad address changes nothing.
      if (returnAddress !== undefined) outputScript(returnAddress, net);
      // The owner's key from their wallet: a key set of theirs with this node's two keys. Only
      // the node's own account (local mode) may use the node's own owner key.
      const local = core.isHere(caller.account);
      if (!local && (ownerKey === undefined || ownerKey === keyExpression((await keys()).owner))) {
        throw new BitStableError(
          'INVALID_ARGUMENT',
          "Give your own owner key (ownerKey, from your wallet): this node's owner key is not yours, and a vault on it would have the node hold two of its three keys.",
          {},
        );
      }
      const keySetId =
        ownerKey === undefined
          ? core.keySetId
          : await core.vaults.registerKeySet({
              owner: ownerKey,
              protocol: keyExpression((await keys()).protocol),
              guardian: keyExpression((await keys()).guardian),
            });
      let vault = await core.vaults.createVault({
        keySetId,
        accountId: caller.account!,
        ...(label !== undefined ? { label } : {}),
        ...(plannedDepositSats !== undefined ? { plannedDepositSats } : {}),
      });
      if (returnAddress !== undefined)
        vault = await core.vaults.setReturnAddress(vault.id, returnAddress);
      // The first vault of the node's own key set registers its policy on the owner's Ledger
      // (the device lists all three keys); later ones find it registered. The vault stands
      // whatever the device says: the signer shows its failure as a prompt, and "Show on
      // Ledger" or the first signature asks again.
      const owner = core.signers.owner;
      const setKeys = await core.vaults.keySet(keySetId);
      if (
        keySetId === core.keySetId &&
        isDeviceSigner(owner) &&
        !(await owner.isRegistered(setKeys))
      ) {
        await owner.registerVault(setKeys).catch(() => undefined);
      }
      return await toVault(vault);
    },

    'vaults.depositAddress': async ({ vaultId, amountSats }) =>
      await core.operations.depositAddress(vaultId, amountSats),

    'vaults.showAddress': async ({ vaultId }) => {
      const vault = await core.vaults.getVault(vaultId);
      const owner = core.signers.owner as unknown as {
        kind: string;
        vaultAddress?: (
          k: unknown,
          index: number,
          o: { display: boolean },
        ) => Promise<{ address: string; deviceAddress: string }>;
      };
      if (owner.kind !== 'ledger' || typeof owner.vaultAddress !== 'function') {
        return {
          shown: false,
          address: vault.address,
          deviceAddress: null,
          message:
            'The owner key is a software key with no screen of its own. Compare the address with the one in your recovery kit.',
        };
      }
      // The signer says what to compare on the device, and then that it was shown, or why not
      // (a prompt of this handler's own would never be replaced by those and stay on screen).
      const check = await owner.vaultAddress(
        await core.vaults.keySet(vault.keySetId),
        vault.index,
        {
          display: true,
        },
      );
      return {
        shown: true,
        address: vault.address,
        deviceAddress: check.deviceAddress,
        message: 'The Ledger derived the same address.',
      };
    },

    'vaults.setReturnAddress': async ({ vaultId, address }) =>
      await toVault(await core.vaults.setReturnAddress(vaultId, address)),

    'vaults.mint': async ({ vaultId, amountCents }) =>
      await toVault(await core.operations.mint(vaultId, amountCents)),

    'vaults.repay': async ({ vaultId, amountCents, all }) =>
      await toVault(await core.operations.repay(vaultId, all ? 'all' : amountCents)),

    'vaults.previewWithdraw': async ({ vaultId, amountSats, destination }) =>
      toPreview(await core.operations.previewWithdraw(vaultId, amountSats, destination), [
        'owner',
        'protocol',
      ]),

    'vaults.withdraw': ({ vaultId, spendId }) =>
      signed('withdrawal', vaultId, async () => await signDraft(vaultId, spendId, 'withdraw')),

    'vaults.previewClose': async ({ vaultId, destination }) =>
      toPreview(await core.operations.previewClose(vaultId, destination), ['owner', 'protocol']),

    'vaults.close': ({ vaultId, spendId }) =>
      signed('close', vaultId, async () => await signDraft(vaultId, spendId, 'close')),

    'vaults.previewEmergencyExit': async ({ vaultId, destination }) =>
      toPreview(await core.operations.previewEmergencyExit(vaultId, destination), [
        'owner',
        'guardian',
      ]),

    'vaults.emergencyExit': ({ vaultId, spendId }) =>
      signed(
        'emergency exit',
        vaultId,
        async () => await signDraft(vaultId, spendId, 'emergency-exit'),
      ),

    'vaults.previewSweep': async ({ vaultId, destination }) =>
      toPreview(await core.spends.previewSweep(vaultId, destination), ['owner', 'protocol']),

    'vaults.sweep': ({ vaultId, spendId }) =>
      signed('sweep', vaultId, async () => await signDraft(vaultId, spendId, 'sweep')),

    'psbt.decode': async ({ psbtBase64 }, caller) => {
      const psbt = decodePsbt(psbtBase64, net.bitcoinjs);
      // Signatures are named by the keys of the caller's own vault the input spends; for a coin
      // the node does not know, by the PSBT's derivations checked against the node's key set
      // (its owner key only for the node's own account, as settings.get shows it).
      const mayRead = (v: CoreVault) =>
        caller.admin || (v.accountId !== null && v.accountId === caller.account);
      const signers = await psbtSigners(psbt, net, {
        vaultAt: async (address) => {
          const id = await core.store.vaults.idByAddress(address, net.name);
          const vault = id === undefined ? undefined : await core.vaults.getVault(id);
          if (!vault || !mayRead(vault)) return undefined;
          return { keys: await core.vaults.keySet(vault.keySetId), index: vault.index };
        },
        fallback: {
          keys: await keys(),
          roles:
            core.isHere(caller.account) || caller.admin
              ? ['owner', 'protocol', 'guardian']
              : ['protocol', 'guardian'],
        },
      });
      return describePsbt(psbt, net.bitcoinjs, signers);
    },

    'spends.awaitingGuardian': async (_, caller) => {
      const all = await core.operations.guardianRequests();
      if (caller.admin) return all; // the operator also handles settlements' guardian files
      const mine = new Set((await core.vaults.listVaults(caller.account ?? '')).map((v) => v.id));
      return all.filter((r) => mine.has(r.vaultId));
    },

    'spends.get': async ({ spendId }) => {
      const s = await core.spends.store.require(spendId);
      return { spendId: s.id, vaultId: s.vault_id, kind: s.kind, state: s.state, txid: s.txid };
    },

    'wallet.signed': () => {
      throw new ApiBoundaryError(
        'NOT_SUPPORTED',
        'A protocol node keeps no owner signatures: ask the wallet that signed (npm run headless -- --connect).',
      );
    },

    'wallet.alone': walletOnly,
    'wallet.exitAlone': walletOnly,
    'wallet.completeExitAlone': walletOnly,
    'wallet.abandonExitAlone': walletOnly,

    'spends.completeWithGuardian': async ({ spendId, psbtBase64 }) =>
      toSpendResult(await core.operations.completeWithGuardian(spendId, psbtBase64)),

    'spends.cancelGuardianRequest': async ({ spendId }) => {
      await core.operations.cancelGuardianRequest(spendId);
      return { spendId, state: 'cancelled' as const };
    },

    'admin.cancelSettlement': async ({ spendId }) => {
      await core.spends.cancelGuardianRequest(spendId, { admin: true });
      return { spendId, state: 'cancelled' as const };
    },

    'balance.get': async (_, caller) => ({
      bsusdCents: await core.operations.balanceCents(caller.account!),
    }),

    'node.info': async () => ({
      nodeId: core.accounts.nodeId,
      network: net.name,
      apiVersion: API_VERSION,
      registration: core.accounts.registration,
      protocolKey: keyExpression((await keys()).protocol),
      guardianKey: keyExpression((await keys()).guardian),
    }),

    'vaults.submitSigned': async ({ vaultId, spendId, psbtBase64 }) => {
      const draft = await draftOf(vaultId, spendId);
      return toSpendResult(await core.spends.submitOwnerSigned(spendId, draft.kind, psbtBase64));
    },

    'auth.challenge': () => core.accounts.challenge(),

    'auth.signIn': async (input) => await core.accounts.signIn(input),

    'auth.signOut': async (_, caller) => {
      if (!caller.session) {
        throw new BitStableError(
          'SESSION_REQUIRED',
          'auth.signOut ends a signed-in session, and this call was made with a gateway token: the operator revokes tokens (--revoke-token).',
          {},
        );
      }
      await core.accounts.signOut(caller.session);
      return { signedOut: true as const };
    },

    'account.get': async (_, caller) => {
      const a = await core.accounts.require(caller.account);
      return { ...a, balanceCents: await core.operations.balanceCents(a.id) };
    },

    'bsusd.transfer': async ({ to, amountCents, memo }, caller) => {
      const r = await core.operations.transfer(caller.account!, to, amountCents, memo ?? null);
      return { entryId: r.entryId, to, amountCents, balanceCents: r.balanceCents };
    },

    'bsusd.statement': async ({ offset, limit }, caller) =>
      await core.operations.statement(caller.account!, offset, limit),

    'bsusd.quoteRedemption': async ({ amountCents }) => await core.redemptions.quote(amountCents),
    'bsusd.redeem': ({ amountCents, btcAddress, minSats }, caller) =>
      core.redemptions.redeem(caller.account!, amountCents, btcAddress, minSats),
    'bsusd.redemptions': async ({ limit }, caller) =>
      await core.redemptions.list(caller.account!, limit),

    'pool.get': async (_, caller) => await core.pool.position(caller.account!),
    'pool.deposit': async ({ amountCents, btcAddress }, caller) =>
      await core.pool.deposit(caller.account!, amountCents, btcAddress),
    'pool.withdraw': async ({ amountCents, all }, caller) =>
      await core.pool.withdraw(caller.account!, all ? 'all' : amountCents),

    'admin.createInvite': async () => ({ code: await core.accounts.createInvite() }),

    'recoveryKit.get': async (_, caller) => {
      if (!core.isHere(caller.account)) {
        throw new ApiBoundaryError(
          'FORBIDDEN',
          'Your recovery kit is made by your own wallet from its records; this node keeps only its own account’s.',
        );
      }
      return await recoveryKit(core.vaults, core.keySetId, net, caller.account!);
    },

    'settings.get': async (_, caller) => {
      const c = core.oracle.config;
      const enabled = new Set(enabledSourceNames(c));
      return {
        network: net.name,
        params: core.params,
        // The operator's Bitcoin node and folders are the operator's business.
        node:
          core.isHere(caller.account) || caller.admin
            ? {
                kind: core.regtest ? ('local-regtest' as const) : ('rpc' as const),
                rpcUrl: core.chain.rpc.url,
                watchWallet: core.chain.walletName,
                dataDir: host.dataDir ?? null,
              }
            : { kind: 'rpc' as const, rpcUrl: null, watchWallet: '', dataDir: null },
        oracle: {
          sources: [
            ...EXCHANGES.map((name) => ({
              name,
              enabled: enabled.has(name),
              baseUrl: c.sources[name].baseUrl,
            })),
            { name: 'simulated', enabled: enabled.has('simulated'), baseUrl: null },
          ],
          threshold: c.threshold,
          maxAgeMs: c.maxAgeMs,
          intervalMs: c.intervalMs,
          maxDeviationBps: c.maxDeviationBps,
          circuitBreakerBps: c.circuitBreakerBps,
          breakerWindowMs: c.breakerWindowMs,
          breakerConfirmMs: c.breakerConfirmMs,
          priceDelayMs: c.priceDelayMs,
        },
        keys: {
          owner: await ownerInfoFor(caller),
          protocol: await signerInfo('protocol'),
          guardian: await signerInfo('guardian'),
        },
        updates: host.updates ?? { automatic: false, note: 'This host does not update itself.' },
      };
    },

    'auctions.list': async ({ live, vaultId }) => ({
      asOf: Date.now(),
      auctions: await auctions().listAuctions({ live, ...(vaultId ? { vaultId } : {}) }),
    }),

    'auctions.get': async ({ auctionId }) => ({
      asOf: Date.now(),
      auction: await auctions().getAuction(auctionId),
    }),

    'auctions.take': async ({ auctionId, maxSats, maxPriceCents, btcAddress }, caller) => {
      // Paid from the caller's own bsUSD.
      const r = await auctions().take({
        auctionId,
        maxSats,
        maxPriceCents,
        btcAddress,
        taker: caller.account!,
      });
      // An auction the take ended is settled at once rather than at the next block.
      if (r.auction.state !== 'running') {
        await core.sync().catch(() => undefined);
        return { ...r, auction: await auctions().getAuction(r.auction.id) };
      }
      return r;
    },

    'settings.protocolNode': (_, caller) => protocolNodeSetting(dataDirFor(caller), net.name, null),

    'settings.testProtocolNode': ({ url }, caller) => {
      dataDirFor(caller);
      return testProtocolNode(url, net.name);
    },

    'settings.setProtocolNode': ({ url }, caller) =>
      chooseProtocolNode(dataDirFor(caller), net.name, url, null),

    'settings.saved': (_, caller) => savedSettingsFor(caller).view(),

    'settings.testBitcoinNode': ({ bitcoin }, caller) =>
      savedSettingsFor(caller).testBitcoinNode(bitcoin),

    'settings.save': ({ dryRun, ...change }, caller) =>
      savedSettingsFor(caller).save(change, { dryRun }),

    'settings.testWebhook': ({ webhook }, caller) => savedSettingsFor(caller).testWebhook(webhook),

    'playground.accounts': async (_, caller) =>
      await withBalances(await playgroundFor(caller).list()),

    'playground.addAccount': async ({ label }, caller) => {
      const a = await playgroundFor(caller).add(label);
      return { ...a, balanceCents: 0 };
    },

    'playground.switch': async ({ accountId }, caller) =>
      await withBalances(await playgroundFor(caller).switchTo(accountId)),

    'regtest.mine': async ({ blocks }) => {
      const regtest = requireRegtest();
      await regtest.miner.mine(blocks);
      await core.sync();
      return { height: (await core.chain.chainInfo()).blocks };
    },

    'regtest.faucet': async ({ address, amountSats }) => {
      const regtest = requireRegtest();
      outputScript(address, net);
      const txid = await regtest.miner.send(address, amountSats as Sats);
      await regtest.miner.settle();
      await core.sync();
      return { txid };
    },

    'regtest.newAddress': async () => ({ address: await requireRegtest().miner.newAddress() }),

    'regtest.setPrice': async ({ priceCents }) => {
      // The simulated price needs regtest, not a bitcoind of this node's own (several instances
      // of one node share one).
      if (core.network.name !== 'regtest') requireRegtest();
      const sim = core.simulated;
      if (!sim)
        throw new ApiBoundaryError(
          'NOT_SUPPORTED',
          'The simulated price source is off in this configuration.',
        );
      // A price the oracle would throw out as implausible is refused here, with its range,
      // rather than set and then reported as sources that do not agree.
      const { minPriceCents, maxPriceCents } = core.oracle.config;
      if (priceCents < minPriceCents || priceCents > maxPriceCents)
        throw new BitStableError(
          'INVALID_AMOUNT',
          `A BTC price must be between ${usdText(minPriceCents)} and ${usdText(maxPriceCents)}, the range the oracle takes as plausible. Nothing was changed.`,
          { priceCents, minPriceCents, maxPriceCents },
        );
      sim.setPrice(priceCents as Cents);
      // An instance that does not lead runs no rounds: the leader's next rounds take the price
      // (each instance's simulated source is its own; set it on each, as the failover soak does).
      if (core.cluster && !core.cluster.leading) return await priceResult();
      // A large move is held by the circuit breaker for one round and confirmed by the next.
      for (let i = 0; i < 3; i++) {
        const s = price();
        if (s.status === 'ok' && s.priceCents === priceCents) break;
        await core.oracle.runRound();
      }
      return await priceResult();
    },
  };
}

/** Methods of the wallet API only: an exit without the protocol node is not the node's to make. */
function walletOnly(): never {
  throw new ApiBoundaryError(
    'NOT_SUPPORTED',
    "An exit without the protocol node is built by the owner's wallet from its own records (npm run headless -- --connect), not by a protocol node.",
  );
}

/** A decoded PSBT for display, with who signed each input. */
function describePsbt(
  psbt: Psbt,
  network: BjsNetwork,
  signers: InputSigners[],
): Result<'psbt.decode'> {
  const tx = psbt.txInputs;
  const inputs = psbt.data.inputs.map((input, i) => ({
    txid: Buffer.from(tx[i]!.hash).reverse().toString('hex'),
    vout: tx[i]!.index,
    amountSats: input.witnessUtxo ? Number(input.witnessUtxo.value) : null,
    signatures: input.partialSig?.length ?? (input.finalScriptWitness ? 2 : 0),
    ...signers[i]!,
  }));
  const outputs = psbt.txOutputs.map((o) => {
    let addr: string | null;
    try {
      addr = bjsAddress.fromOutputScript(o.script, network);
    } catch {
      addr = null; // a script with no address form
    }
    return { address: addr, amountSats: Number(o.value) };
  });
  const inSum = inputs.every((i) => i.amountSats !== null)
    ? inputs.reduce((s, i) => s + (i.amountSats ?? 0), 0)
    : null;
  const outSum = outputs.reduce((s, o) => s + o.amountSats, 0);
  return {
    inputs,
    outputs,
    feeSats: inSum === null ? null : inSum - outSum,
    complete: psbt.data.inputs.every(
      (i) => i.finalScriptWitness !== undefined || i.finalScriptSig !== undefined,
    ),
  };
}
