/**
 * A toast for every vault state change this window hears of, and a desktop notification (the
 * Notification API: native in Electron, the browser's in the headless UI) for those that need the
 * user now, when they asked for them in Settings.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { useQueryClient, type QueryClient } from '@tanstack/react-query';
import type { Result } from '../../../core/api/contract';
import { key, useApi, useApiMutation, useEvents } from '../api/context';
import {
  notificationsOn,
  RATIO_ALERT_EVENT,
  RATIO_ALERT_SETTING,
  ratioAlert,
  ratioAlertBps,
  ratioCrossings,
  RATIO_ALERT_LOOK,
  setRatioAlertBps,
  vaultAlert,
  type VaultAlert,
} from '../lib/alerts';
import { href, navigate, useRoute } from '../lib/route';
import { useSavedSettings } from './EditableSettings';

interface Toast extends VaultAlert {
  id: number;
}

/** The state this window last saw of a vault, from the queries it has loaded; null if none. */
function cachedState(qc: QueryClient, vaultId: number): string | null {
  const one = qc.getQueryData<Result<'vaults.get'>>(key('vaults.get', { vaultId }));
  if (one) return one.state;
  for (const [, page] of qc.getQueriesData<Result<'vaults.list'>>({ queryKey: ['vaults.list'] })) {
    const row = page?.items.find((v) => v.id === vaultId);
    if (row) return row.state;
  }
  return null;
}

const TOAST_MS = 8_000;

export function VaultAlerts() {
  const qc = useQueryClient();
  const status = useApi('status.get', {});
  const params = status.data?.params;
  const known = useRef(new Map<number, string>());
  const [toasts, setToasts] = useState<Toast[]>([]);
  const dismiss = useCallback((id: number) => setToasts((ts) => ts.filter((t) => t.id !== id)), []);

  const raise = useCallback(
    (alert: VaultAlert) => {
      const { vaultId } = alert;
      const toast = { ...alert, id: Date.now() + Math.random() };
      setToasts((ts) => [...ts.filter((t) => t.vaultId !== vaultId).slice(-3), toast]);
      // Warnings and auctions stay until dismissed; the rest fade.
      if (alert.tone === 'ok' || alert.tone === 'info')
        setTimeout(() => dismiss(toast.id), TOAST_MS);
      if (alert.notify && notificationsOn()) {
        const n = new Notification(alert.title, { body: alert.body, tag: `vault-${vaultId}` });
        n.onclick = () => {
          window.focus();
          navigate(href.vault(vaultId));
        };
      }
    },
    [dismiss],
  );

  const onChange = useCallback(
    (e: { payload: { vaultId: number; state: string } }) => {
      const { vaultId, state } = e.payload;
      const from = known.current.get(vaultId) ?? cachedState(qc, vaultId);
      known.current.set(vaultId, state);
      if (!params) return;
      const alert = vaultAlert(vaultId, from, state, params);
      if (alert) raise(alert);
    },
    [qc, params, raise],
  );
  useEvents('vault.changed', onChange);

  // The user's own ratio alert: the lowest ratios, read again as each price is accepted.
  const alertBps = useRatioAlertSetting();
  const lowest = useApi('vaults.list', RATIO_ALERT_LOOK, { enabled: alertBps !== null });
  const under = useRef(new Map<number, boolean>());
  useEffect(() => {
    under.current.clear();
  }, [alertBps]);
  useEffect(() => {
    if (alertBps === null || !lowest.data) return;
    for (const c of ratioCrossings(under.current, lowest.data.items, alertBps))
      raise(ratioAlert(c.vaultId, c.ratioBps, alertBps));
  }, [lowest.data, alertBps, raise]);

  // A toast about the vault on screen needs no link to it.
  const route = useRoute();
  const onScreen = (vaultId: number) => route.page === 'vault' && route.id === vaultId;

  if (!toasts.length) return null;
  return (
    <div className="toasts" role="region" aria-label="Vault alerts" data-testid="vault-toasts">
      {toasts.map((t) => (
        <div
          key={t.id}
          className={`toast tone-${t.tone}`}
          role={t.tone === 'danger' || t.tone === 'warn' ? 'alert' : 'status'}
          data-testid={`vault-toast-${t.vaultId}`}
          data-tone={t.tone}
        >
          <div className="toast-text">
            <strong>{t.title}</strong>
            <span>{t.body}</span>
            {!onScreen(t.vaultId) && (
              <a href={href.vault(t.vaultId)} onClick={() => dismiss(t.id)}>
                Open vault #{t.vaultId}
              </a>
            )}
          </div>
          <button
            type="button"
            className="icon-button"
            aria-label={`Dismiss: ${t.title}`}
            onClick={() => dismiss(t.id)}
          >
            ×
          </button>
        </div>
      ))}
    </div>
  );
}

/**
 * The ratio alert set in Settings: the host's saved setting where the host keeps settings (its
 * webhook uses the same), else this window's storage, followed as it changes in another window.
 */
function useRatioAlertSetting(): number | null {
  const saved = useSavedSettings();
  const local = useLocalRatioAlert();
  const save = useApiMutation('settings.save');
  const hostBps = saved.data ? saved.data.saved.ratioAlertBps : undefined;
  // An alert set before the host kept it (in this window's storage) moves to the host, once;
  // nothing is lost on the update. One the host refuses stays where it was.
  useEffect(() => {
    if (hostBps !== null || local === null || !save.isIdle) return;
    save.mutate({ ratioAlertBps: local }, { onSuccess: () => setRatioAlertBps(null) });
  }, [hostBps, local, save]);
  if (saved.data) return hostBps ?? (save.isPending ? local : null);
  return saved.isError ? local : null;
}

function useLocalRatioAlert(): number | null {
  const [bps, setBps] = useState(ratioAlertBps);
  useEffect(() => {
    const read = () => setBps(ratioAlertBps());
    const onStorage = (e: StorageEvent) => {
      if (e.key === RATIO_ALERT_SETTING) read();
    };
    window.addEventListener('storage', onStorage);
    window.addEventListener(RATIO_ALERT_EVENT, read);
    return () => {
      window.removeEventListener('storage', onStorage);
      window.removeEventListener(RATIO_ALERT_EVENT, read);
    };
  }, []);
  return bps;
}
