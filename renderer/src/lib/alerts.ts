/**
 * What to tell the user when a vault changes state (issue 15 item 2): a toast in the app for
 * every change we can name, and a desktop notification for the ones that need them now — Warning,
 * an auction starting, an auction settled.
 */
import { pct } from './format';

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
