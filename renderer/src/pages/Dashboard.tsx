/** Dashboard (SPEC §9): price with sources and freshness, node, totals, the vault list. */
import { useEffect, useState } from 'react';
import type { Result } from '../../../core/api/contract';
import { useApi } from '../api/context';
import { GuardianRequests } from '../components/GuardianRequests';
import { Welcome } from '../components/Welcome';
import {
  Btc,
  BsUsd,
  Card,
  Empty,
  ErrorNote,
  HealthBar,
  Loading,
  Stat,
  StateBadge,
  Usd,
  type VaultState,
} from '../components/ui';
import { clockTime, duration, pct, when } from '../lib/format';
import { href } from '../lib/route';

type SortKey = 'id' | 'state' | 'collateral' | 'debt' | 'ratio';
const PAGE = 50;
const STATES: VaultState[] = [
  'pending',
  'active',
  'warning',
  'liquidating',
  'liquidated',
  'closed',
];

export function Dashboard() {
  // The list's state filter lives here, so the attention banner can show those vaults.
  const [state, setState] = useState<VaultState | ''>('');
  return (
    <div className="page" data-testid="page-dashboard">
      <h1 className="visually-hidden">Dashboard</h1>
      <AttentionBanner show={setState} />
      <Welcome />
      <div className="grid-3">
        <PriceCard />
        <NodeCard />
        <TotalsCard />
      </div>
      <BooksCard />
      <GuardianRequests />
      <VaultList state={state} setState={setState} />
    </div>
  );
}

/**
 * "N vaults need attention": the vaults in Warning or being liquidated, the lowest ratio first,
 * with a way to list all of them.
 */
function AttentionBanner({ show }: { show: (s: VaultState) => void }) {
  const totals = useApi('vaults.list', { limit: 1 }).data?.totals.byState;
  const warning = totals?.warning ?? 0;
  const liquidating = totals?.liquidating ?? 0;
  const worst = useApi(
    'vaults.list',
    { limit: 5, sort: 'ratio', order: 'asc', state: liquidating > 0 ? 'liquidating' : 'warning' },
    { enabled: warning + liquidating > 0 },
  );
  const n = warning + liquidating;
  if (n === 0) return null;
  const parts = [
    warning > 0 ? `${warning} in Warning` : null,
    liquidating > 0 ? `${liquidating} being liquidated` : null,
  ].filter(Boolean);
  const list = (s: VaultState) => {
    show(s);
    document.querySelector('[data-testid="vault-list"]')?.scrollIntoView({ block: 'start' });
  };
  return (
    <div
      className={`banner ${liquidating > 0 ? 'danger' : 'warn'} attention`}
      role="alert"
      data-testid="attention-banner"
      data-count={n}
    >
      <div>
        <strong>
          {n} vault{n === 1 ? ' needs' : 's need'} attention: {parts.join(', ')}.
        </strong>{' '}
        {liquidating > 0
          ? 'Bringing a vault back to the warning ratio before anyone buys from its auction ends it without penalty.'
          : 'Repay some debt or add collateral before they fall under the liquidation ratio.'}
        {worst.data && worst.data.items.length > 0 && (
          <span className="attention-links">
            {' '}
            {liquidating > 0 ? 'Being liquidated' : 'Lowest'}:{' '}
            {worst.data.items.map((v, i) => (
              <span key={v.id}>
                {i > 0 && ', '}
                <a href={href.vault(v.id)}>
                  #{v.id} at {pct(v.ratioBps)}
                </a>
              </span>
            ))}
          </span>
        )}
      </div>
      <div className="row gap">
        {warning > 0 && (
          <button
            type="button"
            className="button"
            onClick={() => list('warning')}
            data-testid="attention-warning"
          >
            List the {warning} in Warning
          </button>
        )}
        {liquidating > 0 && (
          <button
            type="button"
            className="button"
            onClick={() => list('liquidating')}
            data-testid="attention-liquidating"
          >
            List the {liquidating} being liquidated
          </button>
        )}
      </div>
    </div>
  );
}

function PriceCard() {
  const price = useApi('price.get', {}, { refetchInterval: 5_000 });
  return (
    <Card title="BTC / USD" testId="price-card">
      {price.isPending && <Loading />}
      <ErrorNote error={price.error} />
      {price.data && (
        <>
          <div
            className="big num"
            data-testid="price-value"
            data-cents={price.data.priceCents ?? ''}
          >
            <Usd cents={price.data.priceCents} />
          </div>
          <div className="row gap">
            <span
              className={`pill ${price.isError ? 'stale' : price.data.status === 'ok' ? 'ok' : 'warn'}`}
              data-testid="price-status"
            >
              {price.isError
                ? `As of ${clockTime(price.dataUpdatedAt)}`
                : price.data.status === 'ok'
                  ? 'Fresh'
                  : price.data.status === 'stale'
                    ? 'Stale'
                    : price.data.status === 'held'
                      ? 'Held by circuit breaker'
                      : 'Too few sources'}
            </span>
            <span className="muted">
              {price.isError
                ? 'not updated since: the last price BitStable read'
                : price.data.ageMs === null
                  ? 'no price yet'
                  : `updated ${duration(price.data.ageMs)} ago · max ${duration(price.data.maxAgeMs)}`}
            </span>
          </div>
          {price.data.message && <p className="warn-text">{price.data.message}</p>}
          <DelayedPrice price={price.data} />
          {price.data.clockSkewMs !== null && Math.abs(price.data.clockSkewMs) >= 5_000 && (
            <p className="muted small" data-testid="price-clock-skew">
              This computer&apos;s clock is about {duration(Math.abs(price.data.clockSkewMs))}{' '}
              {price.data.clockSkewMs > 0 ? 'behind' : 'ahead of'} the exchanges&apos; clocks; their
              timestamps are judged with that in mind.
            </p>
          )}
          <ul className="sources" aria-label="Price sources">
            {(price.data.lastRound?.answers ?? []).map((a) => (
              <li key={a.source}>
                <span
                  className={`dot ${a.error ? 'down' : a.dropped ? 'warn' : 'ok'}`}
                  aria-hidden="true"
                />
                <span className="source-name">{a.source}</span>
                <span className="num">
                  {a.priceCents !== null ? <Usd cents={a.priceCents} /> : '—'}
                </span>
                <span className="muted small">
                  {a.error
                    ? a.error
                    : a.dropped === 'frozen'
                      ? 'left out: its price stands still while the others move'
                      : a.dropped
                        ? `left out (${a.dropped})`
                        : 'used'}
                </span>
              </li>
            ))}
          </ul>
          <div className="muted small">
            {price.data.threshold} agreeing source{price.data.threshold === 1 ? '' : 's'} required
          </div>
          {price.data.ownCheck && <OwnPriceCheck check={price.data.ownCheck} />}
        </>
      )}
    </Card>
  );
}

/**
 * The price liquidations act on beside the current one (SPEC §7): the higher of now and a delay
 * ago, so after a fall the card says from when, if the price stays, liquidations act on it.
 */
function DelayedPrice({ price }: { price: Result<'price.get'> }) {
  const { delayMs, liquidationPriceCents, next } = price.delay;
  if (delayMs === 0) return null;
  return (
    <div className="delayed-price" data-testid="price-delayed">
      <div className="row gap">
        <span className="muted">Liquidations use</span>
        <span className="num" data-cents={liquidationPriceCents ?? ''}>
          <Usd cents={liquidationPriceCents} />
        </span>
        <span className="muted small">the higher of now and {duration(delayMs)} ago</span>
      </div>
      {next && (
        <div className="muted small" data-testid="price-delayed-next">
          If the price stays, liquidations act on <Usd cents={next.priceCents} /> in{' '}
          {duration(next.effectiveAtMs - Date.now())} (at{' '}
          {new Date(next.effectiveAtMs).toLocaleTimeString()})
        </div>
      )}
      {liquidationPriceCents === null && (
        <div className="muted small">No price is {duration(delayMs)} old yet.</div>
      )}
    </div>
  );
}

type OwnCheck = NonNullable<Result<'price.get'>['ownCheck']>;

/** What the wallet's own exchanges say of the node's price (a wallet connected to a node). */
function OwnPriceCheck({ check }: { check: OwnCheck }) {
  const label = {
    agrees: 'Your own check agrees',
    differs: 'Differs from your own check',
    unavailable: 'Not checked',
    'not-checked': 'Simulated price',
  }[check.state];
  return (
    <div className="own-check" data-testid="price-own-check" data-state={check.state}>
      <div className="row gap">
        <span
          className={`pill ${check.state === 'agrees' ? 'ok' : check.state === 'differs' ? 'bad' : 'warn'}`}
        >
          {label}
        </span>
        {check.priceCents !== null && (
          <span className="muted">
            yours <Usd cents={check.priceCents} />
            {check.diffBps !== null && ` · ${(check.diffBps / 100).toFixed(2)} % apart`}
          </span>
        )}
      </div>
      <p className={check.state === 'differs' ? 'warn-text' : 'muted small'}>{check.message}</p>
    </div>
  );
}

function NodeCard() {
  const status = useApi('status.get', {});
  return (
    <Card title="Bitcoin node" testId="node-card">
      {status.isPending && <Loading />}
      <ErrorNote error={status.error} />
      {status.data && (
        <div className="stats">
          <Stat label="Network">{status.data.regtest ? 'Local regtest' : status.data.network}</Stat>
          <Stat label="Status">
            <span
              className={`dot ${status.isError ? 'stale' : status.data.node.online ? 'ok' : 'down'}`}
              aria-hidden="true"
            />{' '}
            {status.isError
              ? `Unknown since ${clockTime(status.dataUpdatedAt)}`
              : status.data.node.online
                ? status.data.node.initialBlockDownload
                  ? 'Syncing'
                  : 'Online, in sync'
                : 'Offline'}
          </Stat>
          <Stat label="Height" testId="node-height">
            <span className="num">{status.data.node.height?.toLocaleString('en-US') ?? '—'}</span>
          </Stat>
          <Stat label="Last block">
            {status.data.node.blockTime ? when(status.data.node.blockTime) : '—'}
          </Stat>
          {status.data.node.message && <p className="warn-text">{status.data.node.message}</p>}
        </div>
      )}
    </Card>
  );
}

function TotalsCard() {
  const list = useApi('vaults.list', { limit: 1 });
  const t = list.data?.totals;
  return (
    <Card title="Totals" testId="totals-card">
      {list.isPending && <Loading />}
      <ErrorNote error={list.error} />
      {t && (
        <div className="stats">
          <Stat label="Vaults" testId="total-vaults">
            <span className="num">{t.count.toLocaleString('en-US')}</span>
          </Stat>
          <Stat label="Collateral">
            <Btc sats={t.collateralSats} showSats={false} />
          </Stat>
          <Stat label="bsUSD debt">
            <BsUsd cents={t.debtCents} />
          </Stat>
          <div className="state-counts">
            {STATES.filter((s) => t.byState[s] > 0).map((s) => (
              <span key={s} className={`badge badge-${s}`}>
                {t.byState[s]} {s}
              </span>
            ))}
          </div>
        </div>
      )}
    </Card>
  );
}

const BOOK_KINDS: Record<string, string> = {
  penalty: 'Liquidation penalty',
  auction_payment: 'Liquidation penalty',
  stability_fee: 'Stability fee',
  bad_debt: 'Bad debt',
  netting: 'Surplus covers deficit',
};

/** The protocol's books (SPEC §8.5): system ratio, ceilings, surplus and deficit, the fee. */
function BooksCard() {
  const books = useApi('books.get', { limit: 8 });
  const b = books.data;
  const floorTone =
    b?.systemRatioBps != null && b.systemRatioBps < b.systemRatioFloorBps + 1_000
      ? 'warn-text'
      : '';
  return (
    <Card title="Protocol books" testId="books-card">
      {books.isPending && <Loading />}
      <ErrorNote error={books.error} />
      {b && (
        <div className="books">
          <div className="stats books-stats">
            <Stat
              label="System collateral ratio"
              testId="system-ratio"
              hint={`Mints that would take it under ${pct(b.systemRatioFloorBps)} are refused`}
            >
              <span className={`num ${floorTone}`}>{pct(b.systemRatioBps)}</span>
            </Stat>
            <Stat
              label="Debt / ceiling"
              testId="debt-ceiling"
              hint={
                <>
                  <BsUsd cents={b.debtRoomCents} /> more may be minted; at most{' '}
                  <BsUsd cents={b.vaultDebtCeilingCents} /> per vault
                </>
              }
            >
              <BsUsd cents={b.totalDebtCents} /> / <BsUsd cents={b.debtCeilingCents} />
            </Stat>
            <Stat
              label="Stability fee"
              testId="stability-fee"
              hint={
                <>
                  <BsUsd cents={b.feesBookedCents} /> booked, <BsUsd cents={b.feesAccruedCents} />{' '}
                  accrued since
                </>
              }
            >
              <span className="num">{pct(b.stabilityFeeBps)}</span> a year
            </Stat>
            <Stat
              label="Surplus"
              testId="surplus"
              hint="Penalties and fees, after covering deficit"
            >
              <BsUsd cents={b.surplusCents} />
            </Stat>
            <Stat label="Deficit" testId="deficit" hint="Bad debt that surplus has not covered">
              <span className={b.deficitCents > 0 ? 'warn-text' : ''}>
                <BsUsd cents={b.deficitCents} />
              </span>
            </Stat>
          </div>
          {b.history.length > 0 && (
            <table className="table books-history" data-testid="books-history">
              <caption>Surplus and deficit, latest first</caption>
              <thead>
                <tr>
                  <th>When</th>
                  <th>What</th>
                  <th className="right">Surplus</th>
                  <th className="right">Deficit</th>
                </tr>
              </thead>
              <tbody>
                {b.history.map((e) => (
                  <tr key={e.entryId}>
                    <td>{when(e.ts)}</td>
                    <td>
                      {BOOK_KINDS[e.kind] ?? e.kind}
                      {e.vaultId !== null && (
                        <>
                          {' '}
                          · <a href={href.vault(e.vaultId)}>vault #{e.vaultId}</a>
                        </>
                      )}
                    </td>
                    <td className="right">
                      {e.surplusChangeCents !== 0 && <Signed cents={e.surplusChangeCents} />}
                    </td>
                    <td className="right">
                      {e.deficitChangeCents !== 0 && <Signed cents={e.deficitChangeCents} />}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      )}
    </Card>
  );
}

function Signed({ cents }: { cents: number }) {
  return (
    <span className="num">
      {cents > 0 ? '+' : '−'}
      <BsUsd cents={Math.abs(cents)} />
    </span>
  );
}

function VaultList({
  state,
  setState,
}: {
  state: VaultState | '';
  setState: (s: VaultState | '') => void;
}) {
  const [sort, setSort] = useState<SortKey>('id');
  const [order, setOrder] = useState<'asc' | 'desc'>('desc');
  const [page, setPage] = useState(0);
  const [typed, setTyped] = useState('');
  // Searched 200 ms after the last key, or at once on Enter.
  const [search, searchNow] = useDebounced(typed.trim(), 200);
  const [hideEmpty, setHideEmpty] = useState(true);
  // A new filter from outside the list (the attention banner) starts at its first page.
  const [shown, setShown] = useState(state);
  if (shown !== state) {
    setShown(state);
    setPage(0);
  }
  const list = useApi(
    'vaults.list',
    {
      offset: page * PAGE,
      limit: PAGE,
      sort,
      order,
      // A search looks at every vault: the one asked for may well be empty.
      hideEmptyPending: hideEmpty && !search,
      ...(state ? { state } : {}),
      ...(search ? { search } : {}),
    },
    { placeholderData: (prev) => prev },
  );
  const status = useApi('status.get', {});
  const params = status.data?.params;

  const sortBy = (k: SortKey) => {
    if (k === sort) setOrder(order === 'asc' ? 'desc' : 'asc');
    else {
      setSort(k);
      setOrder(k === 'ratio' ? 'asc' : 'desc');
    }
    setPage(0);
  };
  const th = (k: SortKey, label: string, className = '') => (
    <th
      scope="col"
      className={className}
      aria-sort={sort === k ? (order === 'asc' ? 'ascending' : 'descending') : 'none'}
    >
      <button type="button" className="th-sort" onClick={() => sortBy(k)} data-testid={`sort-${k}`}>
        {label} <span aria-hidden="true">{sort === k ? (order === 'asc' ? '▲' : '▼') : '↕'}</span>
      </button>
    </th>
  );
  const total = list.data?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / PAGE));
  const byState = list.data?.totals.byState;
  const hidden = list.data?.hiddenEmptyPending ?? 0;
  const pager = (where: 'top' | 'bottom') => (
    <Pager where={where} page={page} pages={pages} total={total} setPage={setPage} />
  );

  return (
    <Card
      title="Vaults"
      testId="vault-list"
      actions={
        <div className="row gap wrap">
          <label className="inline-label">
            <span className="visually-hidden">Search vaults</span>
            <input
              type="search"
              className="input"
              value={typed}
              placeholder="Vault #, label, address or txid"
              onChange={(e) => {
                setTyped(e.target.value);
                setPage(0);
              }}
              onKeyDown={(e) => {
                if (e.key === 'Enter') searchNow();
              }}
              data-testid="vault-search"
            />
          </label>
          <label className="inline-label">
            <span className="muted">Show</span>
            <select
              value={state}
              onChange={(e) => {
                setState(e.target.value as VaultState | '');
                setPage(0);
              }}
              data-testid="state-filter"
            >
              <option value="">All states{byState ? ` (${list.data!.totals.count})` : ''}</option>
              {STATES.map((s) => (
                <option key={s} value={s}>
                  {s.charAt(0).toUpperCase() + s.slice(1)}
                  {byState ? ` (${byState[s]})` : ''}
                </option>
              ))}
            </select>
          </label>
          <a className="button primary" href={href.create} data-testid="new-vault">
            New vault
          </a>
        </div>
      }
    >
      {list.isPending && <Loading what="Loading vaults" />}
      <ErrorNote error={list.error} />
      {!search && (hideEmpty ? hidden > 0 : (byState?.pending ?? 0) > 0) && (
        <label className="check small muted hide-empty">
          <input
            type="checkbox"
            checked={hideEmpty}
            onChange={(e) => {
              setHideEmpty(e.target.checked);
              setPage(0);
            }}
            data-testid="hide-empty-pending"
          />
          <span>
            Hide Pending vaults nothing was sent to
            {hideEmpty ? ` (${hidden.toLocaleString('en-US')} hidden)` : ''}
          </span>
        </label>
      )}
      {list.data && list.data.total === 0 && search && (
        <p className="muted" data-testid="search-empty">
          No vault matches “{search}”{state ? ` among the ${state} ones` : ''}. Search by vault
          number, a part of its label or address, or a whole txid.
        </p>
      )}
      {list.data && list.data.total === 0 && !search && (
        <Empty
          title={
            state
              ? `No ${state} vaults`
              : hidden > 0
                ? 'Only empty Pending vaults'
                : 'No vaults yet'
          }
        >
          <p>
            A vault locks BTC in a 2-of-3 multisig: your key, the protocol's and a guardian's. Mint
            bsUSD against it once the deposit confirms.
          </p>
          <a className="button primary" href={href.create}>
            Open your first vault
          </a>
        </Empty>
      )}
      {list.data && list.data.total > 0 && (
        <>
          {pages > 1 && pager('top')}
          <div className="table-wrap">
            <table className="table" data-testid="vault-table">
              <thead>
                <tr>
                  {th('id', 'Vault')}
                  {th('state', 'State')}
                  {th('collateral', 'Collateral', 'right')}
                  {th('debt', 'Debt', 'right')}
                  {th('ratio', 'Health')}
                  <th scope="col" className="right">
                    Liquidation price
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((v) => (
                  <tr
                    key={v.id}
                    data-testid={`vault-row-${v.id}`}
                    data-state={v.state}
                    onClick={() => (window.location.hash = href.vault(v.id).slice(1))}
                    className="clickable"
                  >
                    <td>
                      <a href={href.vault(v.id)} onClick={(e) => e.stopPropagation()}>
                        #{v.id}
                      </a>{' '}
                      <span className="muted">{v.label ?? ''}</span>
                    </td>
                    <td>
                      <StateBadge state={v.state} />
                    </td>
                    <td className="right">
                      <Btc sats={v.collateralSats} showSats={false} />
                      {v.incomingSats > 0 && (
                        <div className="muted small">
                          +{(v.incomingSats / 1e8).toFixed(8)} incoming
                        </div>
                      )}
                    </td>
                    <td className="right">
                      <BsUsd cents={v.debtCents} />
                    </td>
                    <td>
                      <div className="health-cell">
                        <HealthBar
                          ratioBps={v.ratioBps}
                          liquidationBps={params?.liquidationRatioBps}
                          warningBps={params?.warningRatioBps}
                        />
                        <span className="num small" data-testid="vault-ratio">
                          {v.ratioBps === null ? 'no debt' : pct(v.ratioBps)}
                        </span>
                      </div>
                    </td>
                    <td className="right">
                      <Usd cents={v.liquidationPriceCents} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {pager('bottom')}
        </>
      )}
    </Card>
  );
}

/** Previous, next, and "go to page", above and below the list. */
function Pager({
  where,
  page,
  pages,
  total,
  setPage,
}: {
  where: 'top' | 'bottom';
  page: number;
  pages: number;
  total: number;
  setPage: (p: number) => void;
}) {
  const [goTo, setGoTo] = useState('');
  const wanted = /^\d{1,9}$/.test(goTo) ? Number(goTo) : null;
  const problem =
    goTo === '' || (wanted !== null && wanted >= 1 && wanted <= pages)
      ? null
      : `A page from 1 to ${pages.toLocaleString('en-US')}.`;
  return (
    <nav className="pager" aria-label={`Pages (${where})`} data-testid={`pager-${where}`}>
      <span className="muted">
        {(page * PAGE + 1).toLocaleString('en-US')}–
        {Math.min(total, (page + 1) * PAGE).toLocaleString('en-US')} of{' '}
        {total.toLocaleString('en-US')}
      </span>
      <button
        type="button"
        className="button ghost small"
        disabled={page === 0}
        onClick={() => setPage(page - 1)}
      >
        Previous
      </button>
      <span className="muted">
        Page {page + 1} of {pages.toLocaleString('en-US')}
      </span>
      <button
        type="button"
        className="button ghost small"
        disabled={page + 1 >= pages}
        onClick={() => setPage(page + 1)}
      >
        Next
      </button>
      {pages > 1 && (
        <form
          className="row gap go-to"
          onSubmit={(e) => {
            e.preventDefault();
            if (wanted !== null && !problem) {
              setPage(wanted - 1);
              setGoTo('');
            }
          }}
        >
          <label className="inline-label">
            <span className="muted">Go to page</span>
            <input
              className="input small-input"
              inputMode="numeric"
              value={goTo}
              onChange={(e) => setGoTo(e.target.value.trim())}
              aria-invalid={problem !== null}
              aria-describedby={problem ? `go-to-problem-${where}` : undefined}
              data-testid={`go-to-${where}`}
            />
          </label>
          <button type="submit" className="button ghost small" disabled={!!problem || !goTo}>
            Go
          </button>
          {problem && (
            <span className="warn-text small" id={`go-to-problem-${where}`}>
              {problem}
            </span>
          )}
        </form>
      )}
    </nav>
  );
}

/** `value`, once it has stood still for `ms`; and a way to take it at once. */
function useDebounced<T>(value: T, ms: number): [T, () => void] {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return [settled, () => setSettled(value)];
}
