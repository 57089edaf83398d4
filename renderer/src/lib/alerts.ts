/**
 * What to tell the user when a vault changes state (issue 15 item 2): a toast in the app for
 * every change we can name, and a desktop notification for the ones that need them now — Warning,
 * an auction starting, an auction settled.
 */
import { ratioAlertProblem } from '../../../core/vaults/ratio-alert';
import { pct } from './format';

// The crossings are the host's too (its webhook): one rule for both.
export { ratioCrossings, RATIO_ALERT_LOOK } from '../../../core/vaults/ratio-alert';

export type AlertTone = 'ok' | 'info' | 'warn' | 'danger';

export interface VaultAlert {
  vaultId: number;
  tone: AlertTone;
  title: string;
  body: string;
  /** Worth a desktop notification (the user may be elsewhere). */
  notify: boolean;
}

export interface AlertRatios {
  liquidationRatioBps: number;
  warningRatioBps: number;
  penaltyBps: number;
}

/**
 * The alert for vault `vaultId` going from `from` (null: not known to this window) to `to`; null
 * when there is nothing to say. A vault not known before is told of only when it needs attention:
 * the first news of it may be that it entered Warning.
 */
export function vaultAlert(
  vaultId: number,
  from: string | null,
  to: string,
  ratios: AlertRatios,
): VaultAlert | null {
  if (from === to) return null;
  const warn = pct(ratios.warningRatioBps);
  const liq = pct(ratios.liquidationRatioBps);
  const name = `Vault #${vaultId}`;
  switch (to) {
    case 'warning':
      return {
        vaultId,
        tone: 'warn',
        title: `${name} is in Warning`,
        body: `Its ratio fell under ${warn}. Repay some debt or add collateral before it falls under ${liq}, where it is liquidated with a ${pct(ratios.penaltyBps)} penalty.`,
        notify: true,
      };
    case 'liquidating':
      return {
        vaultId,
        tone: 'danger',
        title: `${name} is being liquidated`,
        body: `Its ratio fell under ${liq} and its collateral is at auction. Bringing it back to ${warn} before anyone buys ends the auction without penalty.`,
        notify: true,
      };
    case 'liquidated':
      return {
        vaultId,
        tone: 'danger',
        title: `${name} was liquidated`,
        body: 'Its auction settled: the collateral sold covered the debt and the penalty, and the rest went to its return address.',
        notify: true,
      };
    case 'active':
      if (from === null) return null;
      return from === 'pending'
        ? {
            vaultId,
            tone: 'ok',
            title: `${name} is active`,
            body: 'Its deposit confirmed: you can mint bsUSD against it.',
            notify: false,
          }
        : {
            vaultId,
            tone: 'ok',
            title: `${name} is healthy again`,
            body:
              from === 'liquidating'
                ? `It is back above ${warn} and its auction ended without penalty.`
                : `It is back above ${warn}.`,
            notify: from === 'liquidating',
          };
    case 'closed':
      if (from === null) return null;
      return {
        vaultId,
        tone: 'info',
        title: `${name} is closed`,
        body: 'Its collateral was sent to your address.',
        notify: false,
      };
    default:
      return null;
  }
}

/** Where the user's choice of desktop notifications is kept (this window's origin). */
export const NOTIFY_SETTING = 'bitstable.notifications';

/** True when the user asked for desktop notifications and the system allows them. */
export function notificationsOn(): boolean {
  return (
    typeof Notification !== 'undefined' &&
    Notification.permission === 'granted' &&
    localStorage.getItem(NOTIFY_SETTING) === 'on'
  );
}

/** Where the user's own ratio alert is kept (basis points; absent: off). */
export const RATIO_ALERT_SETTING = 'bitstable.ratioAlertBps';
/** Fired in this window when the ratio alert is set ('storage' fires only in the others). */
export const RATIO_ALERT_EVENT = 'bitstable-ratio-alert';

/** Sets (or with null, turns off) the ratio alert. */
export function setRatioAlertBps(bps: number | null): void {
  if (bps === null) localStorage.removeItem(RATIO_ALERT_SETTING);
  else localStorage.setItem(RATIO_ALERT_SETTING, String(bps));
  window.dispatchEvent(new Event(RATIO_ALERT_EVENT));
}

/** The ratio the user asked to be alerted under, or null. */
export function ratioAlertBps(): number | null {
  const text = localStorage.getItem(RATIO_ALERT_SETTING);
  const n = text === null ? NaN : Number(text);
  return Number.isInteger(n) && n > 0 ? n : null;
}

/**
 * The reason a typed ratio alert (in %, e.g. "180" or "182.5") is refused, or null with its basis
 * points: above the liquidation ratio (under it the alert would come after the auction) and at
 * most 1,000 %.
 */
export function parseRatioAlert(
  text: string,
  liquidationRatioBps: number,
): { bps: number; problem: null } | { bps: null; problem: string } {
  const t = text.trim().replace(/\s*%$/, '');
  if (!/^\d{1,4}(\.\d{1,2})?$/.test(t))
    return { bps: null, problem: 'Give a ratio in %, e.g. 180 or 182.5, with at most 2 decimals.' };
  const [whole, frac = ''] = t.split('.');
  const bps = Number(whole) * 100 + Number(frac.padEnd(2, '0'));
  // The host's own check (it refuses the same when the alert is saved there).
  const problem = ratioAlertProblem(bps, liquidationRatioBps);
  return problem ? { bps: null, problem } : { bps, problem: null };
}

/** The alert for a vault under the user's own ratio. */
export function ratioAlert(vaultId: number, ratioBps: number, alertBps: number): VaultAlert {
  return {
    vaultId,
    tone: 'warn',
    title: `Vault #${vaultId} is under your ${pct(alertBps)} alert`,
    body: `Its ratio is ${pct(ratioBps)}. Repay some debt or add collateral to bring it back up.`,
    notify: true,
  };
}
