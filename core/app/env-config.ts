/**
 * The node's connections from the environment, shared by both hosts (the desktop app and
 * `npm run headless`), so that off regtest BitStable can reach an existing Bitcoin Core, the
 * owner's Ledger and the guardian's xpub:
 *
 *   BITSTABLE_RPC_URL            Core's JSON-RPC, e.g. http://127.0.0.1:8332 (required off regtest)
 *   BITSTABLE_RPC_COOKIE         Core's cookie file, or
 *   BITSTABLE_RPC_USER / BITSTABLE_RPC_PASSWORD
 *   BITSTABLE_RPC_WALLET         the watch-only wallet's name (default bitstable-watch)
 *   BITSTABLE_RPC_FALLBACK_URL   a second node to fail over to (same credentials, or its own
 *                                BITSTABLE_RPC_FALLBACK_COOKIE / _USER / _PASSWORD)
 *   BITSTABLE_LEDGER             hid (default off regtest) | speculos:<api port>[@<base URL>] | off
 *                                (regtest only: the software owner key)
 *   BITSTABLE_GUARDIAN_KEY       the guardian's [fingerprint/48'/c'/0'/2']xpub (required off regtest)
 *   BITSTABLE_ORACLE             oracle settings as JSON laid over the network's defaults, e.g.
 *                                {"sources":{"kraken":{"enabled":false}}} (a node's oracle; a
 *                                wallet host's own price check)
 *   BITSTABLE_PRICE_MARGIN_BPS   a wallet's warning margin against the node's price (default 200)
 *   BITSTABLE_STABILITY_FEE_BPS  the stability fee a year in basis points (default 200: 2 %)
 *   BITSTABLE_AUCTION_SECONDS    regtest only: how long an auction takes to fall to its floor
 *                                (default 120), for trying the stability pool without waiting
 *   BITSTABLE_EXIT_ALONE_AFTER_S how long a wallet host waits, its protocol node unreachable,
 *                                before it offers an exit without it (default 30 on regtest, 3600)
 *
 * Bad values are INVALID_CONFIG with a sentence naming the variable; nothing is started.
 */
import type { NetworkName } from '../config/networks';
import type { Bps } from '../money';
import { BitStableError } from '../errors';
import type { RpcAuth, RpcConfig } from '../node/rpc';
import type { BitStableNodeOptions } from './bitstable-node';

type Env = Record<string, string | undefined>;

const bad = (variable: string, message: string) =>
  new BitStableError('INVALID_CONFIG', `${variable}: ${message}`, { variable });

function url(env: Env, variable: string): string | undefined {
  const value = env[variable]?.trim();
  if (!value) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw bad(variable, `"${value.slice(0, 100)}" is not a URL; write it as http://host:port.`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw bad(variable, 'Bitcoin Core serves JSON-RPC over http:// (or https:// behind a proxy).');
  }
  if (parsed.username || parsed.password) {
    throw bad(
      variable,
      'put the credentials in BITSTABLE_RPC_USER and BITSTABLE_RPC_PASSWORD, not in the URL.',
    );
  }
  return value;
}

function auth(env: Env, prefix: string): RpcAuth | undefined {
  const cookie = env[`${prefix}_COOKIE`]?.trim();
  const user = env[`${prefix}_USER`];
  const password = env[`${prefix}_PASSWORD`];
  if (cookie && (user || password)) {
    throw bad(
      `${prefix}_COOKIE`,
      `give either the cookie file or ${prefix}_USER and ${prefix}_PASSWORD, not both.`,
    );
  }
  if (cookie) return { kind: 'cookie', cookieFile: cookie };
  if (user || password) {
    if (!user || !password) {
      throw bad(`${prefix}_USER`, `${prefix}_USER and ${prefix}_PASSWORD go together.`);
    }
    return { kind: 'userpass', user, password };
  }
  return undefined;
}

/** The oracle settings in BITSTABLE_ORACLE (JSON), checked against the network's later. */
function oracleOverrides(env: Env): unknown {
  const text = env.BITSTABLE_ORACLE?.trim();
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw bad(
      'BITSTABLE_ORACLE',
      'is not JSON; write it as {"sources":{"kraken":{"enabled":false}}}.',
    );
  }
}

/** BITSTABLE_PRICE_MARGIN_BPS: how far a node's price may be from the wallet's own. */
export function priceMarginFromEnv(env: Env): number | undefined {
  const text = env.BITSTABLE_PRICE_MARGIN_BPS?.trim();
  if (!text) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 5_000)
    throw bad(
      'BITSTABLE_PRICE_MARGIN_BPS',
      `must be whole basis points from 1 to 5000; got "${text.slice(0, 20)}".`,
    );
  return n;
}

/** BITSTABLE_EXIT_ALONE_AFTER_S, in milliseconds. */
export function exitAloneAfterFromEnv(env: Env): number | undefined {
  const text = env.BITSTABLE_EXIT_ALONE_AFTER_S?.trim();
  if (!text) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 30 * 86_400)
    throw bad(
      'BITSTABLE_EXIT_ALONE_AFTER_S',
      `must be whole seconds from 0 to 2592000 (30 days); got "${text.slice(0, 20)}".`,
    );
  return n * 1000;
}

type EnvOptions = Pick<
  BitStableNodeOptions,
  'bitcoin' | 'owner' | 'guardian' | 'oracleOverrides' | 'params'
>;

/**
 * The parts of BitStableNodeOptions the environment sets for `network`. `saved`: a Bitcoin node
 * was chosen in Settings (core/app/saved-settings.ts), so off regtest the environment need not
 * name one.
 */
export function nodeOptionsFromEnv(
  env: Env,
  network: NetworkName,
  saved: { bitcoin: boolean } = { bitcoin: false },
): EnvOptions {
  const out: EnvOptions = {};
  const oracle = oracleOverrides(env);
  if (oracle !== undefined) out.oracleOverrides = oracle;
  const fee = env.BITSTABLE_STABILITY_FEE_BPS?.trim();
  if (fee) {
    if (!/^\d{1,5}$/.test(fee) || Number(fee) > 10_000) {
      throw bad(
        'BITSTABLE_STABILITY_FEE_BPS',
        `"${fee.slice(0, 20)}" is not a whole number of basis points from 0 to 10000 (200 is 2 % a year).`,
      );
    }
    out.params = { stabilityFeeBps: Number(fee) as Bps };
  }
  const auction = env.BITSTABLE_AUCTION_SECONDS?.trim();
  if (auction) {
    if (network !== 'regtest')
      throw bad('BITSTABLE_AUCTION_SECONDS', 'only the regtest playground shortens its auctions.');
    if (!/^\d{1,4}$/.test(auction) || Number(auction) < 5)
      throw bad(
        'BITSTABLE_AUCTION_SECONDS',
        `"${auction.slice(0, 20)}" is not a whole number of seconds from 5 to 9999.`,
      );
    out.params = { ...out.params, auctionDurationSeconds: Number(auction) };
  }
  const regtest = network === 'regtest';

  const rpcUrl = url(env, 'BITSTABLE_RPC_URL');
  if (rpcUrl) {
    const rpcAuth = auth(env, 'BITSTABLE_RPC');
    if (!rpcAuth) {
      throw bad(
        'BITSTABLE_RPC_URL',
        "give Core's cookie file in BITSTABLE_RPC_COOKIE (usually <datadir>/.cookie), or BITSTABLE_RPC_USER and BITSTABLE_RPC_PASSWORD.",
      );
    }
    const rpc: RpcConfig = { url: rpcUrl, auth: rpcAuth };
    const fallbackUrl = url(env, 'BITSTABLE_RPC_FALLBACK_URL');
    const wallet = env.BITSTABLE_RPC_WALLET?.trim();
    out.bitcoin = {
      kind: 'rpc',
      rpc,
      ...(wallet ? { walletName: wallet } : {}),
      ...(fallbackUrl
        ? { fallback: { url: fallbackUrl, auth: auth(env, 'BITSTABLE_RPC_FALLBACK') ?? rpcAuth } }
        : {}),
    };
  } else if (env.BITSTABLE_RPC_FALLBACK_URL?.trim()) {
    throw bad('BITSTABLE_RPC_FALLBACK_URL', 'a fallback node needs BITSTABLE_RPC_URL too.');
  } else if (!regtest && !saved.bitcoin) {
    throw bad(
      'BITSTABLE_RPC_URL',
      `on ${network} BitStable uses your Bitcoin Core: set its JSON-RPC URL (and BITSTABLE_RPC_COOKIE or BITSTABLE_RPC_USER/BITSTABLE_RPC_PASSWORD).`,
    );
  }

  const ledger = env.BITSTABLE_LEDGER?.trim().toLowerCase();
  if (ledger === 'off' || (regtest && !ledger)) {
    if (!regtest) {
      throw bad(
        'BITSTABLE_LEDGER',
        `on ${network} the owner's key is a Ledger; use hid or speculos:<port>.`,
      );
    }
  } else if (!ledger || ledger === 'hid') {
    out.owner = { kind: 'ledger', transport: { kind: 'hid' } };
  } else {
    const m = /^speculos:(\d{1,5})(?:@(https?:\/\/[^\s]+))?$/.exec(ledger);
    const port = m ? Number(m[1]) : NaN;
    if (!m || port < 1 || port > 65535) {
      throw bad(
        'BITSTABLE_LEDGER',
        `"${ledger.slice(0, 100)}" is not hid, off, or speculos:<API port>[@<base URL>] (e.g. speculos:5000).`,
      );
    }
    out.owner = {
      kind: 'ledger',
      transport: { kind: 'speculos', apiPort: port, ...(m[2] ? { baseURL: m[2] } : {}) },
    };
  }

  const guardian = env.BITSTABLE_GUARDIAN_KEY?.trim();
  if (guardian) out.guardian = guardian;
  return out;
}
