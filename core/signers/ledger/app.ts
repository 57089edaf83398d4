/**
 * Which Ledger app we accept: the Bitcoin app 2.1 or later (the wallet-policy protocol), the
 * mainnet one on mainnet and "Bitcoin Test" on every test network (regtest included).
 */
import { BitStableError } from '../../errors';
import type { NetworkInfo } from '../../config/networks';

/** What `getAppAndVersion` reports about the running app. */
export interface LedgerAppInfo {
  name: string;
  version: string;
}

/** First app version that speaks the wallet-policy protocol (ledger-bitcoin's AppClient). */
export const MIN_APP_VERSION = [2, 1, 0] as const;

/** The app name the Ledger must be running for `net`. */
export function expectedAppName(net: NetworkInfo): 'Bitcoin' | 'Bitcoin Test' {
  return net.name === 'mainnet' ? 'Bitcoin' : 'Bitcoin Test';
}

/** Parses "2.4.6" (or "2.1.0-rc") into numbers; undefined if it is not a version. */
function parseVersion(version: string): number[] | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

function olderThan(v: number[], min: readonly number[]): boolean {
  for (let i = 0; i < min.length; i++) if (v[i] !== min[i]) return v[i]! < min[i]!;
  return false;
}

/**
 * Refuses a device that is not running the right Bitcoin app for `net`:
 * the dashboard or another app (DEVICE_WRONG_APP), the mainnet app on a test network or the
 * reverse (DEVICE_WRONG_APP), or a Bitcoin app older than 2.1 (DEVICE_APP_TOO_OLD).
 */
export function checkApp(app: LedgerAppInfo, net: NetworkInfo): void {
  const expected = expectedAppName(net);
  const data = { found: app.name, version: app.version, expected, network: net.name };
  const isBitcoin = app.name === 'Bitcoin' || app.name === 'Bitcoin Test';
  if (!isBitcoin) {
    const where =
      app.name === 'BOLOS'
        ? 'The Ledger is on its dashboard.'
        : app.name.includes('Legacy')
          ? `The Ledger is running ${app.name}, which does not support multisig wallet policies.`
          : `The Ledger is running the ${app.name} app.`;
    throw new BitStableError(
      'DEVICE_WRONG_APP',
      `${where} Open the ${expected} app, then try again.`,
      data,
    );
  }
  if (app.name !== expected) {
    throw new BitStableError(
      'DEVICE_WRONG_APP',
      `The Ledger is running ${app.name}, but this vault is on ${net.name}, which needs ${expected}. ` +
        `Quit ${app.name} and open ${expected}${expected === 'Bitcoin Test' ? ' (install it from Ledger Live with developer mode on)' : ''}.`,
      { ...data, reason: 'network-mismatch' },
    );
  }
  const v = parseVersion(app.version);
  if (!v || olderThan(v, MIN_APP_VERSION)) {
    throw new BitStableError(
      'DEVICE_APP_TOO_OLD',
      `The ${app.name} app on the Ledger is version ${app.version}; BitStable needs 2.1 or later for multisig vaults. Update it in Ledger Live, then try again.`,
      data,
    );
  }
}
