/**
 * The wallet API (SPEC §2): what the renderer calls on its wallet core when the protocol node is
 * elsewhere. It has the protocol API's shape, so the same UI runs on both: reads pass through to
 * the node; what touches the owner's key happens here — creating a vault (the wallet's own
 * owner key, the address checked), reviews (remembered, to check the PSBT against), and signing
 * (checked, signed on this machine, handed back to the node).
 */
import type { z } from 'zod';
import {
  API,
  allows,
  isMethodName,
  type MethodName,
  type Params,
  type Result,
} from '../api/contract';
import type { BitcoinNodeSetting, SavedSettingsService } from '../app/saved-settings';
import { invalidArguments, type ApiService, type CallContext } from '../api/dispatcher';
import { ApiBoundaryError, toApiError, type ApiError } from '../api/errors';
import type { ApiEvent } from '../api/events';
import type { Signer } from '../signers/types';
import { keyExpression } from '../bitcoin/keys';
import { ProtocolError, type ProtocolClient } from './protocol-client';
import { testProtocolNode } from './choice';
import { chooseProtocolNode, protocolNodeSetting } from './node-setting';
import type { OwnPriceCheck } from './price-check';
import type { WalletCore } from './wallet';

export interface WalletApiOptions {
  /** The protocol node's gateway URL, shown to the person. */
  nodeUrl: string;
  /** The wallet's own Bitcoin node, for the settings page (null: none). */
  ownNode?: { kind: 'rpc'; rpcUrl: string | null; watchWallet: string; dataDir: string | null };
  wallet: WalletCore;
  client: ProtocolClient;
  owner: Signer;
  /** The app's folder (its choice of protocol node is kept there). */
  dataDir?: string;
  /** The wallet's own price check, laid beside the node's price. */
  priceCheck?: OwnPriceCheck;
  /** The settings chosen in this app (its own Bitcoin node, its price check's sources). */
  settings?: SavedSettingsService;
  logger?: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

type Handler = (params: never) => Promise<unknown>;

/** A wallet connected to a node is one account: the playground's switch is the node's window's. */
const playgroundHere: Handler = async () => {
  throw new ApiBoundaryError(
    'NOT_SUPPORTED',
    'This wallet is one account on its protocol node. To play another party, start another wallet (npm run headless -- --connect … --data-dir another-folder).',
  );
};

/** The wallet API over a wallet core and its connection to a protocol node. */
export function createWalletApiService(o: WalletApiOptions): ApiService {
  const { wallet, client } = o;
  const needDir = () => {
    if (!o.dataDir)
      throw new ApiBoundaryError('NOT_SUPPORTED', 'This wallet keeps no settings of its own.');
    return o.dataDir;
  };
  const needSettings = () => {
    needDir();
    if (!o.settings)
      throw new ApiBoundaryError('NOT_SUPPORTED', 'This wallet keeps no settings of its own.');
    return o.settings;
  };
  const listeners = new Set<(event: ApiEvent) => void>();
  const emit = (event: ApiEvent) => {
    for (const l of listeners) {
      try {
        l(event);
      } catch (err) {
        o.logger?.warn({ err }, 'event listener failed');
      }
    }
  };
  const unsubscribe = client.onEvent(emit);
  const prompt = (operation: string, text: string, state: 'active' | 'done' | 'failed') =>
    emit({
      type: 'signer.prompt',
      payload: {
        state,
        level: state === 'failed' ? 'error' : state === 'done' ? 'success' : 'info',
        code: `wallet.${state}`,
        text,
        operation,
      },
    });
  const signing = (operation: string) => async (p: { vaultId: number; spendId: number }) => {
    prompt(
      operation,
      `Your ${o.owner.kind} owner key signs the ${operation} of vault #${p.vaultId}.`,
      'active',
    );
    try {
      const r = await wallet.sign(p.vaultId, p.spendId);
      prompt(operation, `Signed here and handed to the protocol node: ${r.txid}.`, 'done');
      return r;
    } catch (err) {
      prompt(
        operation,
        err instanceof Error ? err.message : 'Signing failed; nothing was sent.',
        'failed',
      );
      throw err;
    }
  };

  /** This wallet's owner key as status and settings show it. */
  const ownerInfo = async () => ({
    kind: o.owner.kind,
    label: (o.owner as { label?: string }).label ?? `owner key (${o.owner.kind})`,
    key: keyExpression(await o.owner.accountKey()),
  });

  const handlers: Partial<Record<MethodName, Handler>> = {
    'vaults.create': ((p: {
      label?: string;
      plannedDepositSats?: number;
      returnAddress?: string;
    }) => wallet.createVault(p)) as Handler,
    'vaults.previewWithdraw': ((p: { vaultId: number; amountSats: number; destination: string }) =>
      wallet.preview('withdraw', p.vaultId, p.destination, p.amountSats)) as Handler,
    'vaults.previewClose': ((p: { vaultId: number; destination: string }) =>
      wallet.preview('close', p.vaultId, p.destination)) as Handler,
    'vaults.previewEmergencyExit': ((p: { vaultId: number; destination: string }) =>
      wallet.preview('emergency-exit', p.vaultId, p.destination)) as Handler,
    'vaults.previewSweep': ((p: { vaultId: number; destination: string }) =>
      wallet.preview('sweep', p.vaultId, p.destination)) as Handler,
    'vaults.withdraw': signing('withdraw') as Handler,
    'vaults.close': signing('close') as Handler,
    'vaults.emergencyExit': signing('emergency exit') as Handler,
    'vaults.sweep': signing('sweep') as Handler,
    'wallet.signed': (async () => wallet.signed()) as Handler,
    // The owner's device is on this machine: the node cannot show an address on it.
    'vaults.showAddress': ((p: { vaultId: number }) => wallet.showAddress(p.vaultId)) as Handler,
    'settings.protocolNode': (async () => {
      return protocolNodeSetting(needDir(), wallet.network.name, o.nodeUrl);
    }) as Handler,
    'settings.testProtocolNode': (async (p: { url: string }) => {
      needDir();
      return testProtocolNode(p.url, wallet.network.name);
    }) as Handler,
    'settings.setProtocolNode': ((p: { url: string | null }) =>
      chooseProtocolNode(needDir(), wallet.network.name, p.url, o.nodeUrl)) as Handler,
    'settings.saved': (async () => needSettings().view()) as Handler,
    'settings.testBitcoinNode': ((p: { bitcoin: BitcoinNodeSetting }) =>
      needSettings().testBitcoinNode(p.bitcoin)) as Handler,
    'settings.save': (({ dryRun, ...change }: z.output<(typeof API)['settings.save']['params']>) =>
      needSettings().save(change, { dryRun })) as Handler,
    'settings.testWebhook': ((p: Params<'settings.testWebhook'>) =>
      needSettings().testWebhook(p.webhook)) as Handler,
    'playground.accounts': playgroundHere,
    'playground.addAccount': playgroundHere,
    'playground.switch': playgroundHere,
    // Without the protocol node: the wallet's own records, its own Bitcoin node, the guardian.
    'wallet.alone': (async () => wallet.alone()) as Handler,
    'wallet.exitAlone': ((p: { vaultId: number; destination: string }) =>
      wallet.exitAlone(p.vaultId, p.destination)) as Handler,
    'wallet.completeExitAlone': ((p: { exitId: number; psbtBase64: string }) =>
      wallet.completeExitAlone(p.exitId, p.psbtBase64)) as Handler,
    'wallet.abandonExitAlone': ((p: { exitId: number }) =>
      wallet.abandonExitAlone(p.exitId)) as Handler,
    'recoveryKit.get': (async () => wallet.recoveryKit()) as Handler,
    // The node's settings, with this wallet's own owner key and Bitcoin node in them.
    'settings.get': (async () => {
      const s = await client.call('settings.get', {});
      return {
        ...s,
        node: o.ownNode ?? { kind: 'rpc' as const, rpcUrl: null, watchWallet: '', dataDir: null },
        keys: { ...s.keys, owner: await ownerInfo() },
      };
    }) as Handler,
    // The node's vault, beside the coins as this wallet's own Bitcoin node sees them.
    'vaults.get': (async (p: { vaultId: number }) => {
      const vault = await client.call('vaults.get', p);
      const own = await wallet.ownView(vault);
      return own ? { ...vault, ownView: own } : vault;
    }) as Handler,
    // The node's price, with what the wallet's own sources say of it.
    'price.get': (async () => {
      const price = await client.call('price.get', {});
      return o.priceCheck ? { ...price, ownCheck: o.priceCheck.compare(price) } : price;
    }) as Handler,
    // The owner key is this wallet's, whatever the node's own is.
    'status.get': (async () => {
      const status = await client.call('status.get', {});
      return {
        ...status,
        protocolNode: { nodeId: wallet.node.nodeId, url: o.nodeUrl },
        owner: await ownerInfo(),
      };
    }) as Handler,
  };

  async function dispatch(method: string, params: unknown, ctx: CallContext) {
    try {
      if (!isMethodName(method)) {
        throw new ApiBoundaryError(
          'METHOD_NOT_FOUND',
          `There is no API method "${String(method).slice(0, 60)}".`,
        );
      }
      const spec = API[method];
      if (!allows(ctx.roles, spec.permission)) {
        throw new ApiBoundaryError(
          'FORBIDDEN',
          `This token may not call ${method}: it needs the ${spec.permission} permission.`,
          { method, permission: spec.permission },
        );
      }
      const parsed = (spec.params as z.ZodType).safeParse(params === undefined ? {} : params);
      if (!parsed.success)
        return { ok: false as const, error: invalidArguments(method, parsed.error.issues) };
      const own = handlers[method];
      const result = own
        ? await own(parsed.data as never)
        : await client.call(method, parsed.data as never);
      return { ok: true as const, result: result as Result<MethodName> };
    } catch (err) {
      const error: ApiError =
        err instanceof ProtocolError
          ? ({ code: err.code, message: err.message, data: err.data } as ApiError)
          : toApiError(err);
      if (error.code === 'INTERNAL') o.logger?.error({ err, method }, 'wallet API call failed');
      return { ok: false as const, error };
    }
  }

  return {
    dispatch,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit,
    close() {
      unsubscribe();
      listeners.clear();
    },
  };
}
