/** The frame: navigation, the price and node at a glance, the connection, device prompts. */
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { useApi, useConnection, useEvents } from '../api/context';
import { bsusd, clockTime, duration, usd } from '../lib/format';
import { href, type Route } from '../lib/route';
import { VaultAlerts } from './VaultAlerts';

const NAV: { page: Route['page']; label: string; to: string; regtestOnly?: boolean }[] = [
  { page: 'dashboard', label: 'Dashboard', to: href.dashboard },
  { page: 'create', label: 'New vault', to: href.create },
  { page: 'money', label: 'Send & receive', to: href.money },
  { page: 'redeem', label: 'Redeem', to: href.redeem },
  { page: 'pool', label: 'Stability pool', to: href.pool },
  { page: 'auctions', label: 'Auctions', to: href.auctions },
  { page: 'regtest', label: 'Regtest', to: href.regtest, regtestOnly: true },
  { page: 'settings', label: 'Settings', to: href.settings },
];

/** The wallet is up but its protocol node does not answer. */
function nodeUnreachable(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === 'NODE_UNREACHABLE' || code === 'NODE_TIMEOUT';
}

/** The time now, again every `ms`: for ages that must keep counting between fetches. */
function useNow(ms: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

/**
 * The price and the node at a glance. What it shows must not outlive the connection: cut off,
 * or a price last read more than three refreshes ago, it turns grey and says when it was true.
 * Its own component, so the clock that ages the price re-renders only the bar.
 */
function TopBar() {
  const status = useApi('status.get', {}, { refetchInterval: 15_000 });
  const price = useApi('price.get', {}, { refetchInterval: 5_000 });
  const connection = useConnection();
  const now = useNow(1_000);
  const priceReadAt = price.dataUpdatedAt;
  const priceCurrent =
    connection === 'open' && !price.isError && now - priceReadAt < 15_000 && price.data;
  const nodeCurrent =
    connection === 'open' && !status.isError && now - status.dataUpdatedAt < 45_000;
  const asOf = (t: number) => `as of ${clockTime(t)}`;
  return (
    <header className="topbar">
      <div className="topbar-price" data-testid="topbar-price">
        <span className="muted">BTC/USD</span>
        <strong className="num">
          {price.data?.priceCents != null ? usd(price.data.priceCents) : '—'}
        </strong>
        {price.data &&
          (priceCurrent ? (
            <span
              className={`pill ${price.data.status === 'ok' ? 'ok' : 'warn'}`}
              title={price.data.message ?? undefined}
              data-testid="price-freshness"
            >
              {price.data.status === 'ok'
                ? `fresh · ${duration((price.data.ageMs ?? 0) + Math.max(0, now - priceReadAt))} ago`
                : price.data.status.replace('-', ' ')}
            </span>
          ) : (
            <span
              className="pill stale"
              title="Not updated: the connection to BitStable is down or the price has not been read lately."
              data-testid="price-freshness"
            >
              {asOf(priceReadAt)}
            </span>
          ))}
      </div>
      <div className="topbar-node" data-testid="node-status">
        <span
          className={`dot ${status.data && !nodeCurrent ? 'stale' : status.data?.node.online ? 'ok' : 'down'}`}
          aria-hidden="true"
        />
        {status.data
          ? status.data.node.online
            ? `Block ${status.data.node.height?.toLocaleString('en-US')}${nodeCurrent ? '' : ` · ${asOf(status.dataUpdatedAt)}`}`
            : 'Node offline'
          : nodeUnreachable(status.error)
            ? 'Protocol node not answering'
            : 'Connecting…'}
      </div>
    </header>
  );
}

export function Layout({ route, children }: { route: Route; children: ReactNode }) {
  const status = useApi('status.get', {}, { refetchInterval: 15_000 });
  const price = useApi('price.get', {}, { refetchInterval: 5_000 });
  const connection = useConnection();
  const regtest = status.data?.regtest ?? false;
  const current = route.page === 'vault' ? 'dashboard' : route.page;

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <aside className="sidebar">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">
            B
          </span>
          <span>
            BitStable
            <small data-testid="network-name" title={status.data?.protocolNode.url ?? undefined}>
              {status.data
                ? status.data.protocolNode.url
                  ? `${networkName(status.data.network, false)} · node ${new URL(status.data.protocolNode.url).host}`
                  : networkName(status.data.network)
                : ' '}
            </small>
          </span>
        </div>
        <nav aria-label="Main">
          <ul>
            {NAV.filter((n) => !n.regtestOnly || regtest).map((n) => (
              <li key={n.page}>
                <a
                  href={n.to}
                  className={current === n.page ? 'active' : ''}
                  aria-current={current === n.page ? 'page' : undefined}
                  data-testid={`nav-${n.page}`}
                >
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="sidebar-foot">
          {status.data && (
            <a
              className="balance"
              href={href.money}
              data-testid="bsusd-balance"
              data-cents={status.data.bsusdBalanceCents}
              title={status.data.accountId ?? undefined}
            >
              <span className="muted">Your bsUSD</span>
              <strong className="num">{bsusd(status.data.bsusdBalanceCents)}</strong>
              {status.data.accountId && (
                <span className="muted small mono" data-testid="account-bar-id">
                  {status.data.accountId.slice(0, 10)}…{status.data.accountId.slice(-6)}
                </span>
              )}
            </a>
          )}
        </div>
      </aside>
      <div className="main-col">
        <TopBar />
        {nodeUnreachable(status.error) && route.page !== 'alone' && (
          <div className="banner warn" role="status" data-testid="node-unreachable-banner">
            The protocol node does not answer. Your coins are still yours:{' '}
            <a href={href.alone}>see what your wallet can do without it</a>.
          </div>
        )}
        {connection !== 'open' && (
          <div
            className={`banner ${connection === 'connecting' ? 'info' : 'warn'}`}
            role="status"
            data-testid="connection-banner"
          >
            {connection === 'connecting' && 'Connecting to BitStable…'}
            {connection === 'closed' && 'The connection to BitStable dropped. Reconnecting…'}
            {connection === 'unauthorized' &&
              'BitStable refused this session. Open the link the host printed (it carries the token), or paste the token in Settings.'}
          </div>
        )}
        {price.data && price.data.status !== 'ok' && price.data.message && (
          <div className="banner warn" role="status" data-testid="price-banner">
            {price.data.message}
          </div>
        )}
        <main id="main" tabIndex={-1}>
          {children}
        </main>
      </div>
      <div className="corner">
        <VaultAlerts />
        <DevicePrompts />
      </div>
    </div>
  );
}

function networkName(n: string, local = true): string {
  if (n === 'regtest') return local ? 'Regtest playground · not real money' : 'Regtest';
  return n.charAt(0).toUpperCase() + n.slice(1);
}

interface PromptItem {
  id: number;
  state: string;
  level: string;
  text: string;
  operation: string | null;
}

/** Signer prompts and progress as they happen; finished ones fade after a while. */
export function DevicePrompts() {
  const [items, setItems] = useState<PromptItem[]>([]);
  const onPrompt = useCallback(
    (e: { payload: { state: string; level: string; text: string; operation: string | null } }) => {
      const item = { id: Date.now() + Math.random(), ...e.payload };
      // A finished interaction replaces its own earlier instructions.
      const finished = item.state === 'done' || item.state === 'failed';
      setItems((xs) => [
        ...xs.filter((x) => !(finished && x.operation === item.operation)).slice(-3),
        item,
      ]);
      if (item.state === 'done' || item.state === 'failed') {
        setTimeout(() => setItems((xs) => xs.filter((x) => x.id !== item.id)), 8_000);
      }
    },
    [],
  );
  useEvents('signer.prompt', onPrompt);
  if (!items.length) return null;
  return (
    <div className="prompts" aria-live="polite" data-testid="device-prompts">
      {items.map((p) => (
        <div key={p.id} className={`prompt level-${p.level}`} data-state={p.state}>
          <strong>
            {p.state === 'active' || p.state === 'pending'
              ? 'Signer'
              : p.state === 'done'
                ? 'Done'
                : 'Stopped'}
          </strong>
          <span className="prompt-text">{p.text}</span>
          <button
            type="button"
            className="icon-button"
            aria-label="Dismiss"
            onClick={() => setItems((xs) => xs.filter((x) => x.id !== p.id))}
          >
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
