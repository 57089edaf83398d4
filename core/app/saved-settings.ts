/**
 * Settings chosen in the app (SPEC §9 Settings, issue 15 item 5): the Bitcoin node (RPC URL,
 * cookie file or user and password, watch-only wallet), the guardian's xpub and the oracle's
 * sources and threshold, per network. They are a small file in the app's folder
 * (`<dataDir>/<network>/settings.json`), the RPC password apart in the key store; both hosts read
 * them at start, under the environment's variables (an operator's BITSTABLE_RPC_URL wins over a
 * choice made in the window, and Settings says so). A change takes effect at the next start.
 *
 * The saved settings are turned into the same variables the environment gives and checked by the
 * same code (env-config.ts): a value the app accepts in the window is one it accepts at start.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { BitcoinNodeSetting, OracleSetting, type Result } from '../api/contract';
import { network as networkInfo, type NetworkName } from '../config/networks';
import { BitStableError, isBitStableError } from '../errors';
import type { KeyStore } from '../keys/keystore';
import { RpcClient, type RpcConfig } from '../node/rpc';
import { EXCHANGES, resolveOracleConfig } from '../oracle/config';
import { FileGuardianSigner } from '../signers/guardian-file';
import { nodeOptionsFromEnv } from './env-config';
import {
  checkWebhookUrl,
  WebhookNotifier,
  type WebhookFormat,
  type WebhookTarget,
} from './webhook';
import type { BitStableNodeOptions } from './bitstable-node';
import { ratioAlertProblem } from '../vaults/ratio-alert';

const FILE = 'settings.json';
/** The RPC password's name in the key store (one per network: the store is per network). */
export const RPC_PASSWORD_KEY = 'bitcoin-rpc-password';

export type BitcoinNodeSetting = z.infer<typeof BitcoinNodeSetting>;

/** What the file holds: null or absent means the host's default. */
const Stored = z.strictObject({
  bitcoin: BitcoinNodeSetting.nullable().default(null),
  guardianKey: z.string().trim().min(1).max(300).nullable().default(null),
  oracle: OracleSetting.nullable().default(null),
  /** Alerts posted to a webhook (its URL, a secret for Slack, is in the key store). */
  webhook: z
    .strictObject({ format: z.enum(['ntfy', 'slack']) })
    .nullable()
    .default(null),
  /** The user's own ratio alert, in basis points: the window's toast and the webhook both use it. */
  ratioAlertBps: z.int().min(1).max(100_000).nullable().default(null),
});
export type SavedSettings = z.infer<typeof Stored>;
/** What a change to the settings gives: the webhook's URL with it (kept apart). */
export type SettingsChange = Partial<Omit<SavedSettings, 'webhook'>> & {
  webhook?: { url?: string | undefined; format: WebhookFormat } | null;
};

const EMPTY: SavedSettings = {
  bitcoin: null,
  guardianKey: null,
  oracle: null,
  webhook: null,
  ratioAlertBps: null,
};
/** The webhook URL's name in the key store. */
export const WEBHOOK_URL_KEY = 'notify-webhook-url';

/** The parts a host reads only at start (the webhook and the ratio alert apply at once). */
const atStart = (s: SavedSettings) =>
  JSON.stringify({ bitcoin: s.bitcoin, guardianKey: s.guardianKey, oracle: s.oracle });

/** The variables each setting stands for, in the environment's names. */
const VARIABLES = {
  bitcoin: [
    'BITSTABLE_RPC_URL',
    'BITSTABLE_RPC_COOKIE',
    'BITSTABLE_RPC_USER',
    'BITSTABLE_RPC_PASSWORD',
    'BITSTABLE_RPC_WALLET',
  ],
  guardianKey: ['BITSTABLE_GUARDIAN_KEY'],
  oracle: ['BITSTABLE_ORACLE'],
} as const;

/** Which field of the form a variable's error belongs under. */
const FIELD_OF: Record<string, string> = {
  BITSTABLE_RPC_URL: 'bitcoin.url',
  BITSTABLE_RPC_COOKIE: 'bitcoin.cookieFile',
  BITSTABLE_RPC_USER: 'bitcoin.user',
  BITSTABLE_RPC_PASSWORD: 'bitcoin.password',
  BITSTABLE_RPC_WALLET: 'bitcoin.wallet',
  BITSTABLE_GUARDIAN_KEY: 'guardianKey',
  BITSTABLE_ORACLE: 'oracle',
};

const pathOf = (dataDir: string, network: NetworkName) => join(dataDir, network, FILE);

/** The settings saved for `network` (none saved: every one null). */
export function readSavedSettings(dataDir: string, network: NetworkName): SavedSettings {
  const path = pathOf(dataDir, network);
  if (!existsSync(path)) return EMPTY;
  try {
    return Stored.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch {
    throw new BitStableError(
      'INVALID_CONFIG',
      `${path} does not hold BitStable's settings; delete it to start with the defaults, then set them again in Settings.`,
      { path },
    );
  }
}

function writeSavedSettings(dataDir: string, network: NetworkName, s: SavedSettings): void {
  const path = pathOf(dataDir, network);
  mkdirSync(join(dataDir, network), { recursive: true, mode: 0o700 });
  // Written beside and renamed: a crash leaves the old file or the new one, never half of one.
  const tmp = `${path}.tmp`;
  const { bitcoin } = s;
  const stored: SavedSettings = {
    ...s,
    bitcoin:
      bitcoin && bitcoin.auth.kind === 'password'
        ? { ...bitcoin, auth: { kind: 'password', user: bitcoin.auth.user } }
        : bitcoin,
  };
  writeFileSync(tmp, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

/** The saved settings as the environment's variables (the password from the key store). */
function asEnv(s: SavedSettings, password: string | null): Record<string, string> {
  const env: Record<string, string> = {};
  const b = s.bitcoin;
  if (b) {
    env.BITSTABLE_RPC_URL = b.url;
    if (b.auth.kind === 'cookie') env.BITSTABLE_RPC_COOKIE = b.auth.cookieFile;
    else {
      env.BITSTABLE_RPC_USER = b.auth.user;
      env.BITSTABLE_RPC_PASSWORD = b.auth.password ?? password ?? '';
    }
    if (b.wallet) env.BITSTABLE_RPC_WALLET = b.wallet;
  }
  if (s.guardianKey) env.BITSTABLE_GUARDIAN_KEY = s.guardianKey;
  if (s.oracle) env.BITSTABLE_ORACLE = JSON.stringify(oracleOverridesOf(s.oracle));
  return env;
}

function oracleOverridesOf(o: NonNullable<SavedSettings['oracle']>): Record<string, unknown> {
  return {
    // Every source named: the ones left on are turned on (regtest's exchanges start off).
    sources: Object.fromEntries(
      [...EXCHANGES, 'simulated'].map((name) => [name, { enabled: !o.disabled.includes(name) }]),
    ),
    ...(o.threshold !== null ? { threshold: o.threshold } : {}),
    ...(o.maxDeviationBps !== null ? { maxDeviationBps: o.maxDeviationBps } : {}),
  };
}

async function storedPassword(keyStore: KeyStore): Promise<string | null> {
  if (!(await keyStore.has(RPC_PASSWORD_KEY))) return null;
  return new TextDecoder().decode(await keyStore.get(RPC_PASSWORD_KEY));
}

type Connections = Pick<BitStableNodeOptions, 'bitcoin' | 'guardian' | 'oracleOverrides'>;

/** What a setting saved in the app turned into for the host (env-config's parsed form). */
export interface Applied {
  /** The file as read at start: compared with it later, a change says a restart is needed. */
  startedWith: SavedSettings;
  /** The environment's variables that stood above a saved setting. */
  fromEnvironment: string[];
}

/**
 * The saved settings laid under what the host was given (`connections`, parsed from `env`):
 * each part it left unset takes the saved one; the oracle's are merged, the given over the saved. Bad saved values stop the start with
 * the same sentence the environment's would.
 */
export async function withSavedSettings<C extends Connections>(
  dataDir: string,
  network: NetworkName,
  keyStore: KeyStore,
  connections: C,
  env: Record<string, string | undefined>,
): Promise<{ connections: C & Connections; applied: Applied }> {
  const saved = readSavedSettings(dataDir, network);
  const set = (names: readonly string[]) => names.some((n) => env[n]?.trim());
  const fromEnvironment = Object.values(VARIABLES)
    .flat()
    .filter((n) => env[n]?.trim());
  const usable: SavedSettings = {
    bitcoin: set(VARIABLES.bitcoin) || connections.bitcoin ? null : saved.bitcoin,
    guardianKey: set(VARIABLES.guardianKey) || connections.guardian ? null : saved.guardianKey,
    oracle: saved.oracle,
    webhook: null,
    ratioAlertBps: null,
  };
  const parsed = nodeOptionsFromEnv(
    asEnv(usable, usable.bitcoin ? await storedPassword(keyStore) : null),
    // Parsed as regtest would be: off regtest, the rest of what is required comes from the host.
    'regtest',
  );
  const out: C & Connections = { ...connections };
  if (usable.bitcoin && parsed.bitcoin) out.bitcoin = parsed.bitcoin;
  if (usable.guardianKey) out.guardian = usable.guardianKey;
  if (usable.oracle) {
    // The environment's oracle settings are laid over the saved ones.
    const base = oracleOverridesOf(usable.oracle);
    const over = (connections.oracleOverrides ?? {}) as Record<string, unknown>;
    out.oracleOverrides = {
      ...base,
      ...over,
      sources: { ...(base.sources as object), ...((over.sources as object) ?? {}) },
    };
  }
  return { connections: out, applied: { startedWith: saved, fromEnvironment } };
}

/** Bad input in one field: INVALID_ARGUMENT with the field it belongs under. */
function fieldError(field: string, message: string): BitStableError {
  return new BitStableError('INVALID_ARGUMENT', message, { field });
}

export type SavedSettingsView = Result<'settings.saved'>;

export type BitcoinNodeTest = Result<'settings.testBitcoinNode'>;

/** The settings a host keeps for one network, as the API's settings.* methods use them. */
export class SavedSettingsService {
  constructor(
    private readonly dataDir: string,
    private readonly network: NetworkName,
    private readonly keyStore: KeyStore,
    private readonly applied: Applied,
    /** A wallet host has no guardian of its own and names its watch-only wallet itself. */
    private readonly host: 'node' | 'wallet' = 'node',
  ) {}

  /** Sends the alerts; set by the host once it subscribed it to its events. */
  notifier: WebhookNotifier | null = null;

  /** Where alerts go now (read at each alert: a change applies at once). */
  async webhookTarget(): Promise<WebhookTarget | null> {
    const w = readSavedSettings(this.dataDir, this.network).webhook;
    if (!w || !(await this.keyStore.has(WEBHOOK_URL_KEY))) return null;
    return {
      url: new TextDecoder().decode(await this.keyStore.get(WEBHOOK_URL_KEY)),
      format: w.format,
    };
  }

  /** The ratio the user asked to be alerted under, or null (read at each look: applies at once). */
  ratioAlertBps(): number | null {
    return readSavedSettings(this.dataDir, this.network).ratioAlertBps;
  }

  /** Sends a test alert to the webhook given (its URL, or the saved one), now. */
  async testWebhook(w: { url?: string | undefined; format: WebhookFormat }) {
    const url = w.url ? checkWebhookUrl(w.url) : (await this.webhookTarget())?.url;
    if (!url) throw fieldError('webhook.url', 'Give the webhook’s address.');
    const notifier =
      this.notifier ??
      new WebhookNotifier({ target: async () => null, mine: async () => false, logger: console });
    await notifier.send(
      { url, format: w.format },
      {
        title: 'BitStable test alert',
        message:
          'Alerts of your vaults will arrive here: Warning, an auction, a settlement, your own ratio alert.',
        priority: 3,
        tags: ['bell'],
      },
    );
    return this.view();
  }

  async view(): Promise<SavedSettingsView> {
    const s = readSavedSettings(this.dataDir, this.network);
    const b = s.bitcoin;
    return {
      saved: {
        bitcoin: b
          ? {
              url: b.url,
              ...(b.wallet ? { wallet: b.wallet } : {}),
              auth:
                b.auth.kind === 'cookie'
                  ? b.auth
                  : { kind: 'password' as const, user: b.auth.user },
              passwordSaved:
                b.auth.kind === 'password' && (await this.keyStore.has(RPC_PASSWORD_KEY)),
            }
          : null,
        guardianKey: s.guardianKey,
        oracle: s.oracle,
        webhook:
          s.webhook && (await this.keyStore.has(WEBHOOK_URL_KEY))
            ? { format: s.webhook.format, ...webhookShown(await this.webhookTarget()) }
            : null,
        ratioAlertBps: s.ratioAlertBps,
      },
      webhookStatus: this.notifier?.report() ?? { sent: 0, failed: 0, last: null },
      fromEnvironment: this.applied.fromEnvironment,
      host: this.host,
      restartNeeded: atStart(s) !== atStart(this.applied.startedWith),
    };
  }

  /** The RPC settings as the client would use them, the saved password standing in for none. */
  private async rpcConfig(b: BitcoinNodeSetting): Promise<RpcConfig> {
    // The address first, so its problem shows while the rest is still being typed.
    this.parse({ BITSTABLE_RPC_URL: b.url, BITSTABLE_RPC_COOKIE: 'checked below' });
    if (b.auth.kind === 'cookie' && !b.auth.cookieFile)
      throw fieldError('bitcoin.cookieFile', 'Give the path of Core’s cookie file.');
    if (b.auth.kind === 'password' && !b.auth.user)
      throw fieldError('bitcoin.user', 'Give the RPC user name.');
    const password =
      b.auth.kind === 'password'
        ? (b.auth.password ?? (await storedPassword(this.keyStore)))
        : null;
    if (b.auth.kind === 'password' && !password)
      throw fieldError('bitcoin.password', 'Give the RPC password (none is saved yet).');
    const env = asEnv({ ...EMPTY, bitcoin: b }, password);
    const parsed = this.parse(env);
    const bitcoin = parsed.bitcoin;
    if (bitcoin?.kind !== 'rpc') throw fieldError('bitcoin.url', 'Give the node’s RPC URL.');
    return { ...bitcoin.rpc, timeoutMs: 5_000 };
  }

  private parse(env: Record<string, string>) {
    try {
      return nodeOptionsFromEnv(env, 'regtest');
    } catch (err) {
      if (isBitStableError(err) && err.code === 'INVALID_CONFIG') {
        const variable = String(err.data.variable ?? '');
        // The sentence without the variable's name: it is shown under its own field.
        // and in the form's words, not the environment's.
        const message = err.message
          .replace(/^[A-Z_]+: /, '')
          .replace(
            /BITSTABLE_RPC_USER and BITSTABLE_RPC_PASSWORD/g,
            'the user name and password fields',
          )
          .replace(/BITSTABLE_RPC_COOKIE/g, 'the cookie file field');
        throw fieldError(FIELD_OF[variable] ?? 'bitcoin.url', sentence(message));
      }
      throw err;
    }
  }

  /** Asks the node at the given settings who it is: its chain, height and version. */
  async testBitcoinNode(b: BitcoinNodeSetting): Promise<BitcoinNodeTest> {
    const config = await this.rpcConfig(b);
    const rpc = new RpcClient(config);
    const info = await rpc.call<{ chain: string; blocks: number }>('getblockchaininfo');
    const net = networkInfo(this.network);
    if (info.chain !== net.coreChain) {
      throw new BitStableError(
        'WRONG_NETWORK',
        `The node at ${config.url} is on ${info.chain}; BitStable is set to ${net.name} here.`,
        { field: 'bitcoin.url', nodeChain: info.chain },
      );
    }
    const version = await rpc.call<{ subversion: string }>('getnetworkinfo');
    let walletLoaded: boolean | null = null;
    if (b.wallet) {
      const loaded = await rpc.call<string[]>('listwallets');
      walletLoaded = loaded.includes(b.wallet);
    }
    return {
      url: config.url,
      chain: info.chain,
      blocks: info.blocks,
      version: version.subversion.replace(/^\/|\/$/g, ''),
      walletLoaded,
    };
  }

  /**
   * Checks and saves: a Bitcoin node is tested first (one that does not answer is not saved), the
   * guardian's key and the oracle's settings checked as the next start will. `dryRun` checks
   * only (the form's inline check). Absent parts are left as they are; null goes back to the
   * host's default.
   */
  async save(
    change: SettingsChange,
    options: { dryRun?: boolean } = {},
  ): Promise<SavedSettingsView> {
    const current = readSavedSettings(this.dataDir, this.network);
    const { webhook, ...rest } = change;
    const next: SavedSettings = {
      ...current,
      ...rest,
      ...(webhook !== undefined ? { webhook: webhook && { format: webhook.format } } : {}),
    };
    const webhookUrl = webhook?.url ? checkWebhookUrl(webhook.url) : null;
    if (webhook && !webhookUrl && !(await this.keyStore.has(WEBHOOK_URL_KEY)))
      throw fieldError('webhook.url', 'Give the webhook’s address.');
    if (next.ratioAlertBps !== null) {
      const liquidation = networkInfo(this.network).defaults.liquidationRatioBps;
      const problem = ratioAlertProblem(next.ratioAlertBps, liquidation);
      if (problem) throw fieldError('ratioAlertBps', problem);
    }
    if (next.guardianKey !== null) {
      if (this.host === 'wallet')
        throw fieldError('guardianKey', 'The guardian is the protocol node’s; set it there.');
      try {
        new FileGuardianSigner(next.guardianKey, networkInfo(this.network));
      } catch (err) {
        throw fieldError(
          'guardianKey',
          isBitStableError(err) ? err.message : 'This is not an extended public key.',
        );
      }
    }
    if (next.oracle) {
      try {
        resolveOracleConfig(this.network, oracleOverridesOf(next.oracle));
      } catch (err) {
        throw fieldError('oracle', isBitStableError(err) ? err.message : String(err));
      }
    }
    if (change.bitcoin) {
      if (options.dryRun) await this.rpcConfig(change.bitcoin);
      else await this.testBitcoinNode(change.bitcoin);
    }
    if (options.dryRun) return this.view();
    const b = change.bitcoin;
    if (b && b.auth.kind === 'password' && b.auth.password)
      await this.keyStore.put(RPC_PASSWORD_KEY, new TextEncoder().encode(b.auth.password));
    // A password is kept only while the settings use one.
    if (
      change.bitcoin !== undefined &&
      change.bitcoin?.auth.kind !== 'password' &&
      (await this.keyStore.has(RPC_PASSWORD_KEY))
    )
      await this.keyStore.delete(RPC_PASSWORD_KEY);
    if (webhookUrl) await this.keyStore.put(WEBHOOK_URL_KEY, new TextEncoder().encode(webhookUrl));
    if (webhook === null && (await this.keyStore.has(WEBHOOK_URL_KEY)))
      await this.keyStore.delete(WEBHOOK_URL_KEY);
    writeSavedSettings(this.dataDir, this.network, next);
    return this.view();
  }
}

/** A webhook's address as Settings shows it: the host and the start of the path, no secret. */
function webhookShown(t: WebhookTarget | null): { shown: string } {
  if (!t) return { shown: '' };
  const u = new URL(t.url);
  const path = u.pathname.length > 12 ? `${u.pathname.slice(0, 12)}…` : u.pathname;
  return { shown: `${u.origin}${path}` };
}

/** A message as a sentence: capitalised, with its full stop. */
function sentence(text: string): string {
  const t = text.trim();
  return `${t.charAt(0).toUpperCase()}${t.slice(1)}${/[.!?]$/.test(t) ? '' : '.'}`;
}
