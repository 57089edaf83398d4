/** Settings (SPEC §9): network, node, oracle, keys, recovery kit, PSBT files, updates, session. */
import { useState } from 'react';
import { useApi, useApiMutation, useClient } from '../api/context';
import { forgetToken } from '../api/client';
import { Card, ErrorNote, Field, Loading, Stat } from '../components/ui';
import { NOTIFY_SETTING, parseRatioAlert, ratioAlertBps, setRatioAlertBps } from '../lib/alerts';
import { PsbtCard } from '../components/PsbtInspector';
import { RecoveryKitCard } from '../components/RecoveryKit';
import { ThemeCard } from '../components/ThemeCard';
import {
  BitcoinNodeForm,
  GuardianKeyForm,
  OracleForm,
  RestartNote,
  useSavedSettings,
  WebhookForm,
} from '../components/EditableSettings';
import { duration, pct } from '../lib/format';

export function Settings() {
  const settings = useApi('settings.get', {});
  const saved = useSavedSettings();
  const client = useClient();
  if (settings.isPending) return <Loading what="Loading settings" />;
  if (settings.error) return <ErrorNote error={settings.error} />;
  const s = settings.data;
  return (
    <div className="page" data-testid="page-settings">
      <h1>Settings</h1>
      {saved.data && <RestartNote saved={saved.data} />}
      <div className="grid-2">
        <Card title="Network and node" testId="settings-node">
          <div className="stats">
            <Stat label="Network">
              {s.node.kind === 'local-regtest' ? 'Local regtest' : s.network}
            </Stat>
            <Stat label="Connection">
              {s.node.kind === 'local-regtest'
                ? 'BitStable runs its own bitcoind'
                : 'Bitcoin Core over JSON-RPC'}
            </Stat>
            <Stat label="RPC">
              <code>{s.node.rpcUrl}</code>
            </Stat>
            <Stat label="Watch-only wallet">
              <code>{s.node.watchWallet}</code>
            </Stat>
            {s.node.dataDir && (
              <Stat label="Data folder">
                <code>{s.node.dataDir}</code>
              </Stat>
            )}
          </div>
          {saved.data && (
            <BitcoinNodeForm
              saved={saved.data}
              fallback={
                saved.data.host === 'wallet'
                  ? 'None: collateral figures come from the protocol node, unverified'
                  : s.network === 'regtest'
                    ? 'BitStable’s own regtest node'
                    : null
              }
            />
          )}
        </Card>
        <ProtocolNodeCard />
        <Card title="Vault rules" testId="settings-params">
          <div className="stats">
            <Stat label="Liquidation under">{pct(s.params.liquidationRatioBps)}</Stat>
            <Stat label="Warning under">{pct(s.params.warningRatioBps)}</Stat>
            <Stat label="Liquidation penalty">{pct(s.params.penaltyBps)}</Stat>
            <Stat label="Debt floor">{(s.params.debtFloorCents / 100).toFixed(2)} bsUSD</Stat>
            <Stat label="Confirmations">{s.params.confirmations}</Stat>
            <Stat label="Auction cycle">{duration(s.params.auctionDurationSeconds * 1000)}</Stat>
          </div>
        </Card>
        <Card title="Oracle" testId="settings-oracle">
          <table className="table compact">
            <thead>
              <tr>
                <th scope="col">Source</th>
                <th scope="col">Enabled</th>
                <th scope="col">Endpoint</th>
              </tr>
            </thead>
            <tbody>
              {s.oracle.sources.map((src) => (
                <tr key={src.name}>
                  <td>{src.name}</td>
                  <td>{src.enabled ? 'Yes' : 'No'}</td>
                  <td className="muted small">{src.baseUrl ?? 'set by hand'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="muted small">
            {s.oracle.threshold} agreeing source(s) required; answers more than{' '}
            {pct(s.oracle.maxDeviationBps)} from the median are left out; a price older than{' '}
            {duration(s.oracle.maxAgeMs)} is stale; a move over {pct(s.oracle.circuitBreakerBps)}{' '}
            from any price accepted in the last {duration(s.oracle.breakerWindowMs)} is held{' '}
            {s.oracle.breakerConfirmMs === 0
              ? 'until the next round confirms it'
              : `until it has stood for ${duration(s.oracle.breakerConfirmMs)}`}
            . Liquidations use{' '}
            {s.oracle.priceDelayMs === 0
              ? 'the current price'
              : `the price of ${duration(s.oracle.priceDelayMs)} ago`}
            . A round every {duration(s.oracle.intervalMs)}.
          </p>
          {saved.data && (
            <OracleForm
              saved={saved.data}
              sources={s.oracle.sources}
              threshold={s.oracle.threshold}
              maxDeviationBps={s.oracle.maxDeviationBps}
            />
          )}
        </Card>
        <Card title="Keys" testId="settings-keys">
          <dl className="keys">
            {(['owner', 'protocol', 'guardian'] as const).map((role) => (
              <div key={role}>
                <dt>
                  {role === 'owner' ? 'Owner (you)' : role === 'protocol' ? 'Protocol' : 'Guardian'}{' '}
                  <span className="muted small">· {s.keys[role].label}</span>
                </dt>
                <dd>
                  <code>{s.keys[role].key}</code>
                </dd>
              </div>
            ))}
          </dl>
          {saved.data?.host === 'node' && (
            <GuardianKeyForm saved={saved.data} network={s.network} />
          )}
        </Card>
        <NotificationsCard />
        <ThemeCard />
        <RecoveryKitCard />
        <PsbtCard />
        <Card title="Updates">
          <p className="muted">{s.updates.note}</p>
        </Card>
        <Card title="This session">
          <p className="muted">
            Connected through{' '}
            {client.transport === 'ipc' ? 'the desktop app' : 'the headless gateway (WebSocket)'}.
          </p>
          {client.transport === 'websocket' && (
            <button
              type="button"
              className="button ghost"
              onClick={() => {
                forgetToken();
                window.location.reload();
              }}
            >
              Forget the token in this tab
            </button>
          )}
        </Card>
      </div>
    </div>
  );
}

/** Which protocol node this wallet uses, its id, and the keys pinned on first connection. */
function ProtocolNodeCard() {
  const status = useApi('status.get', {});
  const info = useApi('node.info', {});
  const url = status.data?.protocolNode.url ?? null;
  const fp = (key: string) => /^\[([0-9a-f]{8})/.exec(key)?.[1] ?? '—';
  return (
    <Card title="Protocol node" testId="settings-protocol-node">
      <ErrorNote error={status.error ?? info.error} />
      {status.data && info.data && (
        <div className="stats">
          <Stat label="Where">
            {url ? (
              <code data-testid="protocol-node-url">{url}</code>
            ) : (
              'This computer (local mode)'
            )}
          </Stat>
          <Stat label="Node id">
            <code data-testid="protocol-node-id">{info.data.nodeId}</code>
          </Stat>
          <Stat label="Protocol key" hint={url ? 'pinned on first connection' : undefined}>
            <code data-testid="protocol-key-fingerprint">{fp(info.data.protocolKey)}</code>
          </Stat>
          <Stat label="Guardian key" hint={url ? 'pinned on first connection' : undefined}>
            <code data-testid="guardian-key-fingerprint">{fp(info.data.guardianKey)}</code>
          </Stat>
          <Stat label="Registration">
            {info.data.registration === 'open' ? 'Open' : 'By invite'}
          </Stat>
        </div>
      )}
      <ChooseProtocolNode />
    </Card>
  );
}

/** "This computer" or a node at a URL: tested first, used from the next start. */
function ChooseProtocolNode() {
  const setting = useApi('settings.protocolNode', {}, { retry: false });
  const test = useApiMutation('settings.testProtocolNode');
  const choose = useApiMutation('settings.setProtocolNode');
  const [mode, setMode] = useState<'local' | 'remote' | null>(null);
  const [url, setUrl] = useState('');
  if (!setting.data) return <ErrorNote error={setting.error} />;
  const current = setting.data.chosen;
  const picked = mode ?? current.mode;
  const shown = setting.data;
  return (
    <div className="choose-node" data-testid="choose-protocol-node">
      <fieldset className="row gap wrap">
        <legend className="small">Use</legend>
        <label className="row gap">
          <input
            type="radio"
            name="protocol-node"
            checked={picked === 'local'}
            onChange={() => setMode('local')}
            data-testid="choose-local"
          />
          This computer (local mode)
        </label>
        <label className="row gap">
          <input
            type="radio"
            name="protocol-node"
            checked={picked === 'remote'}
            onChange={() => setMode('remote')}
            data-testid="choose-remote"
          />
          A protocol node at an address
        </label>
      </fieldset>
      {picked === 'remote' && (
        <form
          className="row gap wrap"
          onSubmit={(e) => {
            e.preventDefault();
            choose.reset();
            test.mutate({ url: url.trim() });
          }}
        >
          <Field label="Node address" htmlFor="protocol-node-url-input">
            <input
              id="protocol-node-url-input"
              className="input"
              value={url}
              placeholder={current.url ?? 'http://127.0.0.1:7430'}
              onChange={(e) => {
                setUrl(e.target.value);
                test.reset();
              }}
              spellCheck={false}
              data-testid="protocol-node-url-field"
            />
          </Field>
          <button
            type="submit"
            className="button"
            disabled={!url.trim() || test.isPending}
            data-testid="protocol-node-test"
          >
            {test.isPending ? 'Testing…' : 'Test connection'}
          </button>
        </form>
      )}
      <ErrorNote error={test.error ?? choose.error} />
      {picked === 'remote' && test.data && (
        <div className="stats" data-testid="protocol-node-tested">
          <Stat label="Answers as">
            <code>{test.data.nodeId}</code>
          </Stat>
          <Stat label="Network">{test.data.network}</Stat>
          <Stat label="Protocol key" hint="pinned when you first connect">
            <code>{test.data.protocolFingerprint}</code>
          </Stat>
          <Stat label="Guardian key" hint="pinned when you first connect">
            <code>{test.data.guardianFingerprint}</code>
          </Stat>
        </div>
      )}
      <div className="actions start">
        <button
          type="button"
          className="button primary"
          disabled={
            choose.isPending ||
            (picked === 'remote' ? !test.data : current.mode === 'local' && mode === null)
          }
          onClick={() => choose.mutate({ url: picked === 'remote' ? test.data!.url : null })}
          data-testid="protocol-node-use"
        >
          {picked === 'remote' ? 'Use this node' : 'Use this computer'}
        </button>
      </div>
      {shown.restartNeeded && (
        <p className="warn-text" data-testid="protocol-node-restart">
          Restart BitStable to{' '}
          {shown.chosen.url ? `connect to ${shown.chosen.url}` : 'run on this computer'}. Your
          vaults and keys stay where they are; a node you connect to for the first time has its keys
          pinned then.
        </p>
      )}
    </div>
  );
}

type Permission = NotificationPermission | 'unsupported';

/**
 * Desktop notifications of vault alerts (Warning, an auction starting, an auction settled): asked
 * of the system once, kept per app in this window's storage. In the app a toast tells of every
 * change either way.
 */
function NotificationsCard() {
  const supported = typeof Notification !== 'undefined';
  const [permission, setPermission] = useState<Permission>(
    supported ? Notification.permission : 'unsupported',
  );
  const [on, setOn] = useState(() => localStorage.getItem(NOTIFY_SETTING) === 'on');
  const turn = async (want: boolean) => {
    if (want && supported && Notification.permission === 'default')
      setPermission(await Notification.requestPermission());
    localStorage.setItem(NOTIFY_SETTING, want ? 'on' : 'off');
    setOn(want);
  };
  return (
    <Card title="Notifications" testId="settings-notifications">
      <label className="check">
        <input
          type="checkbox"
          checked={on}
          disabled={permission === 'unsupported'}
          onChange={(e) => void turn(e.target.checked)}
          data-testid="notify-toggle"
        />
        <span>
          Desktop notifications when a vault enters Warning or goes under your own ratio alert, when
          its auction starts or ends, and when it is healthy again after one
        </span>
      </label>
      <p
        className={on && permission === 'denied' ? 'warn-text' : 'muted small'}
        data-testid="notify-state"
      >
        {permission === 'unsupported'
          ? 'This window cannot show desktop notifications; alerts appear in the app.'
          : permission === 'denied'
            ? 'The system blocks notifications from BitStable: allow them in its settings. Alerts still appear in the app.'
            : on && permission === 'granted'
              ? 'On. They appear while BitStable is running, even when its window is hidden.'
              : 'Off. Alerts appear in the app while it is open.'}
      </p>
      <RatioAlertForm />
      <SavedWebhook />
    </Card>
  );
}

/** The webhook form, once the saved settings are read (hosts without them offer none). */
function SavedWebhook() {
  const saved = useSavedSettings();
  return saved.data ? <WebhookForm saved={saved.data} /> : null;
}

/**
 * The user's own ratio alert: a toast (and a notification when on) when a vault goes under it,
 * and a post to the webhook. Kept by the host where it keeps settings (its webhook reads it),
 * else in this window.
 */
function RatioAlertForm() {
  const saved = useSavedSettings();
  if (saved.isPending) return <Loading what="Loading the ratio alert" />;
  return <RatioAlertFields hostBps={saved.data ? saved.data.saved.ratioAlertBps : undefined} />;
}

function RatioAlertFields({ hostBps }: { hostBps: number | null | undefined }) {
  const status = useApi('status.get', {});
  const liquidationBps = status.data?.params.liquidationRatioBps ?? 15_000;
  const save = useApiMutation('settings.save');
  const [local, setLocal] = useState(ratioAlertBps);
  const hostKeeps = hostBps !== undefined;
  const current = hostKeeps ? hostBps : local;
  const [typed, setTyped] = useState(() =>
    current === null ? '' : (current / 100).toFixed(current % 100 ? 2 : 0),
  );
  const parsed = typed.trim() ? parseRatioAlert(typed, liquidationBps) : null;
  const problem = parsed?.problem ?? save.error?.message ?? null;
  return (
    <form
      className="settings-form"
      data-testid="ratio-alert-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (parsed?.problem) return;
        const bps = parsed?.bps ?? null;
        if (hostKeeps) save.mutate({ ratioAlertBps: bps });
        else {
          setRatioAlertBps(bps);
          setLocal(bps);
        }
      }}
    >
      <Field
        label="Alert me when a vault's ratio falls under (%)"
        htmlFor="ratio-alert"
        hint={`Above the ${pct(liquidationBps)} where a vault is liquidated; empty: no alert of your own.${hostKeeps ? ' Posted to the webhook too, when one is set.' : ''}`}
      >
        <input
          id="ratio-alert"
          className="input"
          inputMode="decimal"
          value={typed}
          placeholder="e.g. 180"
          aria-invalid={problem ? true : undefined}
          aria-describedby={problem ? 'ratio-alert-problem' : undefined}
          onChange={(e) => {
            setTyped(e.target.value);
            save.reset();
          }}
          data-testid="ratio-alert"
        />
      </Field>
      {problem && (
        <p
          className="error-text small"
          id="ratio-alert-problem"
          role="alert"
          data-testid="ratio-alert-problem"
        >
          {problem}
        </p>
      )}
      <p className="muted small" role="status" data-testid="ratio-alert-state">
        {current === null ? 'No ratio alert of your own.' : `Alerting under ${pct(current)}.`}
      </p>
      <div className="actions start">
        <button
          type="submit"
          className="button"
          disabled={problem !== null || save.isPending || (parsed?.bps ?? null) === current}
          data-testid="ratio-alert-save"
        >
          {typed.trim() ? 'Set alert' : 'Turn off'}
        </button>
      </div>
    </form>
  );
}
