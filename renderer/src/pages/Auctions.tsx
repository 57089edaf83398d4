/**
 * Auctions (SPEC §8, §9): live Dutch auctions as a sortable table, each price beside the market's
 * (a premium or a discount), with time left, lot and tab; a take reviewed in a dialog; ended
 * auctions with their dates and numbers.
 */
import { useEffect, useMemo, useState } from 'react';
import type { Result } from '../../../core/api/contract';
import { useApi, useApiMutation } from '../api/context';
import { Btc, BsUsd, Card, Dialog, Empty, ErrorNote, Field, Loading } from '../components/ui';
import { addressProblem } from '../lib/address';
import {
  averagePriceCents,
  btc,
  btcAmountProblem,
  bsusd,
  duration,
  parseBtc,
  usd,
  when,
} from '../lib/format';
import { href } from '../lib/route';

type Auction = Result<'auctions.list'>['auctions'][number];
type Network = Result<'status.get'>['network'];

/** Now, ticking once a second. */
function useNow(ms = 1_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

/** The auction price at `now`, as the core computes it (linear fall from top to floor). */
function priceNow(a: Auction, durationMs: number, now: number): number {
  const elapsed = now - a.cycleStartedAt;
  if (elapsed <= 0) return a.topPriceCents;
  if (elapsed >= durationMs) return a.floorPriceCents;
  return (
    a.topPriceCents -
    Number(
      (BigInt(a.topPriceCents - a.floorPriceCents) * BigInt(Math.floor(elapsed))) /
        BigInt(durationMs),
    )
  );
}

/** The auction price against the market's, in basis points: + above (a premium), − below. */
function premiumBps(priceCents: number, marketCents: number | null): number | null {
  if (!marketCents) return null;
  return Math.round(((priceCents - marketCents) * 10_000) / marketCents);
}

/** "7.0 % above market", "5.2 % below market", "at market". */
function premiumText(bps: number): string {
  if (bps === 0) return 'at market';
  return `${(Math.abs(bps) / 100).toFixed(1)} % ${bps > 0 ? 'above' : 'below'} market`;
}

function Premium({ bps }: { bps: number | null }) {
  if (bps === null) return <span className="muted">no market price</span>;
  return (
    <span className={bps > 0 ? 'warn-text' : 'ok-text'} data-bps={bps}>
      {premiumText(bps)}
    </span>
  );
}

/** One live auction as the table shows it, at the moment of this render. */
interface Row {
  auction: Auction;
  price: number;
  premium: number | null;
  timeLeftMs: number;
  lotLeft: number;
  tabLeft: number;
}

const SORTS = {
  vault: (r: Row) => r.auction.vaultId,
  price: (r: Row) => r.price,
  premium: (r: Row) => r.premium ?? 0,
  time: (r: Row) => r.timeLeftMs,
  lot: (r: Row) => r.lotLeft,
  tab: (r: Row) => r.tabLeft,
} as const;
type SortKey = keyof typeof SORTS;

export function Auctions() {
  const list = useApi('auctions.list', {}, { refetchInterval: 5_000 });
  const status = useApi('status.get', {});
  const market = useApi('price.get', {}); // each price round makes it stale
  const [received, setReceived] = useState(Date.now());
  useEffect(() => setReceived(Date.now()), [list.data]);
  const now = useNow();
  // Server and browser clocks may differ: place auctions on the server's clock.
  const serverNow = list.data ? list.data.asOf + (now - received) : now;
  const durationMs = (status.data?.params.auctionDurationSeconds ?? 120) * 1000;
  const marketCents = market.data?.status === 'ok' ? market.data.priceCents : null;
  const [sort, setSort] = useState<{ key: SortKey; order: 'asc' | 'desc' }>({
    key: 'premium',
    order: 'asc',
  });
  const live = useMemo(() => {
    const rows: Row[] = (list.data?.auctions ?? [])
      .filter((a) => a.state === 'running')
      .map((a) => {
        const price = priceNow(a, durationMs, serverNow);
        return {
          auction: a,
          price,
          premium: premiumBps(price, marketCents),
          timeLeftMs: Math.max(0, durationMs - (serverNow - a.cycleStartedAt)),
          lotLeft: a.lotSats - a.soldSats,
          tabLeft: a.tabCents - a.coveredCents,
        };
      });
    const by = SORTS[sort.key];
    const sign = sort.order === 'asc' ? 1 : -1;
    return rows.sort((x, y) => sign * (by(x) - by(y)) || x.auction.id - y.auction.id);
  }, [list.data, durationMs, serverNow, marketCents, sort]);
  const ended = list.data?.auctions.filter((a) => a.state !== 'running') ?? [];
  const [taken, setTaken] = useState<Result<'auctions.take'> | null>(null);
  const [open, setOpen] = useState<number | null>(null);
  // The take lives here, not in the auction's row: a take that ends the auction removes the row.
  const take = useApiMutation('auctions.take');
  const opened = live.find((r) => r.auction.id === open) ?? null;
  const sortBy = (key: SortKey) =>
    setSort((s) =>
      s.key === key ? { key, order: s.order === 'asc' ? 'desc' : 'asc' } : { key, order: 'asc' },
    );
  const th = (key: SortKey, label: string, right = true) => (
    <th
      scope="col"
      className={right ? 'right' : undefined}
      aria-sort={sort.key === key ? (sort.order === 'asc' ? 'ascending' : 'descending') : 'none'}
    >
      <button
        type="button"
        className="th-sort"
        onClick={() => sortBy(key)}
        data-testid={`auction-sort-${key}`}
      >
        {label}{' '}
        <span aria-hidden="true">
          {sort.key === key ? (sort.order === 'asc' ? '▲' : '▼') : '↕'}
        </span>
      </button>
    </th>
  );

  return (
    <div className="page" data-testid="page-auctions">
      <header className="page-head">
        <div>
          <h1>Auctions</h1>
          <p className="muted">
            When a vault falls under 150 % at a fresh price its collateral is sold in a Dutch
            auction: the price starts above the market and falls until someone takes it. Pay in
            bsUSD; the bitcoin is sent to your address when the auction settles.
          </p>
        </div>
        <div className="row gap">
          <div className="balance-box" data-testid="auction-market">
            <span className="muted small">Market price (oracle)</span>
            <strong className="num">{marketCents ? usd(marketCents) : '—'}</strong>
          </div>
          {status.data && (
            <div className="balance-box">
              <span className="muted small">Your bsUSD</span>
              <strong className="num">{bsusd(status.data.bsusdBalanceCents)}</strong>
            </div>
          )}
        </div>
      </header>
      {taken && (
        <div className="banner ok" role="status" data-testid="take-result">
          Bought <strong>{btc(taken.sats)} BTC</strong> at {usd(taken.priceCents)} for{' '}
          <strong>{bsusd(taken.costCents)}</strong> from the auction of vault #
          {taken.auction.vaultId}.{' '}
          {taken.auction.state === 'running'
            ? 'The auction goes on for the rest of the lot.'
            : 'The auction has ended; its settlement pays your address once it confirms.'}
          <button
            type="button"
            className="icon-button"
            aria-label="Dismiss"
            onClick={() => setTaken(null)}
          >
            ×
          </button>
        </div>
      )}
      {list.isPending && <Loading what="Loading auctions" />}
      <ErrorNote error={list.error} />
      {list.data && live.length === 0 && (
        <Empty title="No live auctions">
          <p>
            Every vault is above 150 %. Auctions appear here the moment one falls below at a fresh
            price.
          </p>
        </Empty>
      )}
      {live.length > 0 && (
        <Card title={`Live (${live.length})`}>
          {marketCents === null && (
            <p className="warn-text small" role="status">
              The oracle has no fresh market price now, so no premium or discount can be shown.
            </p>
          )}
          <div className="table-wrap">
            <table className="table" data-testid="live-auctions">
              <thead>
                <tr>
                  {th('vault', 'Vault', false)}
                  {th('price', 'Price now')}
                  {th('premium', 'Against the market')}
                  {th('time', 'Time left')}
                  {th('lot', 'Lot left')}
                  {th('tab', 'Tab left')}
                  <th scope="col">
                    <span className="visually-hidden">Take</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {live.map((r) => (
                  <tr
                    key={r.auction.id}
                    data-testid={`auction-${r.auction.id}`}
                    data-vault-id={r.auction.vaultId}
                    data-premium-bps={r.premium ?? undefined}
                    data-tab-cents={r.tabLeft}
                    data-lot-sats={r.lotLeft}
                    className="auction-row"
                  >
                    <td>
                      <a href={href.vault(r.auction.vaultId)}>Vault #{r.auction.vaultId}</a>
                      {r.auction.coinsHeld && (
                        <div className="warn-text small" data-testid="auction-coins-held">
                          Takes wait: a transaction holds its coins
                        </div>
                      )}
                    </td>
                    <td className="right num" data-testid="auction-price" data-cents={r.price}>
                      {usd(r.price)}
                    </td>
                    <td className="right" data-testid="auction-premium">
                      <Premium bps={r.premium} />
                    </td>
                    <td className="right num" data-testid="auction-time-left">
                      {duration(r.timeLeftMs)}
                      {r.auction.resets > 0 && (
                        <div className="muted small">restarted {r.auction.resets}×</div>
                      )}
                    </td>
                    <td className="right">
                      <Btc sats={r.lotLeft} showSats={false} />
                    </td>
                    <td className="right">
                      <BsUsd cents={r.tabLeft} />
                      <div className="muted small">
                        {r.auction.tabCents
                          ? Math.floor((r.auction.coveredCents * 100) / r.auction.tabCents)
                          : 0}{' '}
                        % covered
                      </div>
                    </td>
                    <td className="right">
                      <button
                        type="button"
                        className="button small"
                        onClick={() => {
                          take.reset();
                          setOpen(r.auction.id);
                        }}
                        aria-label={`Take from the auction of vault #${r.auction.vaultId}`}
                        data-testid="take-open"
                      >
                        Take…
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p className="muted small">
            Each price falls from its top (above the market) to its floor over{' '}
            {duration(durationMs)}, then restarts from the market price. Below market is a discount:
            that is where liquidators buy.
          </p>
        </Card>
      )}
      <TakeDialog
        row={opened}
        network={status.data?.network}
        regtest={status.data?.regtest ?? false}
        marketCents={marketCents}
        take={take}
        onClose={() => setOpen(null)}
        onTaken={(r) => {
          setOpen(null);
          setTaken(r);
        }}
      />
      {ended.length > 0 && <EndedAuctions ended={ended} />}
    </div>
  );
}

/** The ended auctions' columns: label, and whether it is a number (right-aligned). */
const ENDED_COLUMNS: [string, boolean][] = [
  ['Auction', false],
  ['Vault', false],
  ['Started', false],
  ['Ended', false],
  ['Market then', true],
  ['Sold', true],
  ['Average price', true],
  ['Raised', true],
  ['Bad debt', true],
  ['State', false],
];

/** Ended auctions, newest first: when, at what prices, what was sold and raised, how it settled. */
function EndedAuctions({ ended }: { ended: Auction[] }) {
  return (
    <Card title="Ended">
      <div className="table-wrap">
        <table className="table" data-testid="ended-auctions">
          <thead>
            <tr>
              {ENDED_COLUMNS.map(([label, right]) => (
                <th key={label} scope="col" className={right ? 'right' : undefined}>
                  {label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {ended.map((a) => (
              <tr key={a.id} data-testid={`ended-auction-${a.id}`} data-state={a.state}>
                <td>#{a.id}</td>
                <td>
                  <a href={href.vault(a.vaultId)}>#{a.vaultId}</a>
                </td>
                <td className="small">{when(a.startedAt)}</td>
                <td className="small" data-testid="ended-at">
                  {a.endedAt !== null
                    ? when(a.endedAt)
                    : a.curedAt !== null
                      ? when(a.curedAt)
                      : '—'}
                </td>
                <td className="right num">{usd(a.startPriceCents)}</td>
                <td className="right">
                  <Btc sats={a.soldSats} showSats={false} />
                </td>
                <td className="right num" data-testid="ended-average-price">
                  {a.soldSats > 0 ? usd(averagePriceCents(a.coveredCents, a.soldSats)) : '—'}
                </td>
                <td className="right">
                  <BsUsd cents={a.coveredCents} />
                </td>
                <td className="right">{a.deficitCents ? <BsUsd cents={a.deficitCents} /> : '—'}</td>
                <td>
                  <EndedState a={a} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Card>
  );
}

function EndedState({ a }: { a: Auction }) {
  if (a.curedAt !== null)
    return (
      <span data-testid="auction-cured">
        Cured: the vault was back at 160 % before any take, no penalty
      </span>
    );
  if (a.state === 'settled')
    return <>Settled{a.settledAt !== null ? ` ${when(a.settledAt)}` : ''}</>;
  if (a.settlementError)
    return (
      <span className="error-text" data-testid="settlement-error" role="status">
        Not settled yet: {a.settlementError.message} (tried {a.settlementError.count}{' '}
        {a.settlementError.count === 1 ? 'time' : 'times'}; retried at every block)
      </span>
    );
  if (a.settlementState === 'awaiting-guardian')
    return (
      <a href={href.vault(a.vaultId)} data-testid="settlement-awaiting-guardian">
        Waiting for the guardian&apos;s signature
      </a>
    );
  return <>Settling on chain</>;
}

/** What the take dialog and its form are given (the form only once a row is chosen). */
interface TakeProps {
  row: Row | null;
  network: Network | undefined;
  regtest: boolean;
  marketCents: number | null;
  take: ReturnType<typeof useApiMutation<'auctions.take'>>;
  onClose: () => void;
  onTaken: (r: Result<'auctions.take'>) => void;
}

/** One auction's take: the amount and address, then the review; confirmed from the same dialog. */
function TakeDialog(props: TakeProps) {
  const { row, onClose } = props;
  return (
    <Dialog
      open={row !== null}
      title={row ? `Take from the auction of vault #${row.auction.vaultId}` : 'Take'}
      onClose={onClose}
      testId="take-dialog"
    >
      {row && <TakeForm key={row.auction.id} {...props} row={row} />}
    </Dialog>
  );
}

function TakeForm({
  row,
  network,
  regtest,
  marketCents,
  take,
  onClose,
  onTaken,
}: TakeProps & { row: Row }) {
  const a = row.auction;
  const { lotLeft, tabLeft } = row;
  // Asking for the whole lot is safe: a take never buys more than the rest of the tab needs.
  const [amount, setAmount] = useState(() => btc(lotLeft).replace(/,/g, ''));
  const [address, setAddress] = useState('');
  // The price is fixed when the review is asked for: the limit the take is sent with.
  const [review, setReview] = useState<{ priceCents: number; sats: number } | null>(null);
  const newAddress = useApiMutation('regtest.newAddress');
  const amountProblem = btcAmountProblem(amount);
  const toProblem = addressProblem(address, network);
  const sats = amountProblem ? null : parseBtc(amount);
  if (review) {
    const buys = Math.min(review.sats, lotLeft);
    const estimate = Math.min(tabLeft, Math.ceil((buys * review.priceCents) / 100_000_000));
    const premium = premiumBps(review.priceCents, marketCents);
    return (
      <>
        <dl className="review" data-testid="take-review-summary">
          <dt>You buy at most</dt>
          <dd>{btc(buys)} BTC</dd>
          <dt>Price limit</dt>
          <dd>
            {usd(review.priceCents)} per BTC (the price only falls until the cycle ends)
            {premium !== null && (
              <>
                {' '}
                · <Premium bps={premium} /> ({usd(marketCents!)})
              </>
            )}
          </dd>
          <dt>You pay at most</dt>
          <dd>{bsusd(estimate)}</dd>
          <dt>Bitcoin to</dt>
          <dd>
            <code className="address small">{address.trim()}</code>
          </dd>
        </dl>
        {premium !== null && premium > 0 && (
          <p className="warn-text small" role="status" data-testid="take-premium-warning">
            This price is above the market: you would pay more than the bitcoin is worth now.
            Waiting lets it fall.
          </p>
        )}
        <p className="muted small">
          The bitcoin arrives with the auction&apos;s settlement transaction, signed by the protocol
          and guardian keys.
        </p>
        <ErrorNote error={take.error} />
        <div className="actions">
          <button type="button" className="button ghost" onClick={() => setReview(null)}>
            Back
          </button>
          <button
            type="button"
            className="button primary"
            disabled={take.isPending}
            autoFocus
            onClick={() =>
              take.mutate(
                {
                  auctionId: a.id,
                  maxSats: review.sats,
                  maxPriceCents: review.priceCents,
                  btcAddress: address.trim(),
                },
                { onSuccess: onTaken },
              )
            }
            data-testid="take-confirm"
          >
            {take.isPending ? 'Taking…' : 'Confirm take'}
          </button>
        </div>
      </>
    );
  }
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        if (sats && address.trim() && !toProblem) setReview({ priceCents: row.price, sats });
      }}
    >
      <p className="small">
        Now <strong className="num">{usd(row.price)}</strong> per BTC, <Premium bps={row.premium} />
        ; {btc(lotLeft)} BTC left for {bsusd(tabLeft)} of tab. Falls to {usd(a.floorPriceCents)} in{' '}
        {duration(row.timeLeftMs)}.
      </p>
      {a.coinsHeld && (
        <p className="warn-text small" role="status">
          Takes wait: a transaction from this vault holds its coins until it confirms or is dropped.
        </p>
      )}
      <Field
        label="Buy (BTC)"
        htmlFor={`take-amount-${a.id}`}
        hint={
          amountProblem ? (
            <span className="error-text" role="alert" data-testid="take-amount-problem">
              {amountProblem}
            </span>
          ) : (
            `Up to ${btc(lotLeft)} BTC. You only buy what the rest of the tab needs at the price of the moment, and never pay more than the tab.`
          )
        }
      >
        <input
          id={`take-amount-${a.id}`}
          className="input"
          value={amount}
          onChange={(e) => setAmount(e.target.value)}
          inputMode="decimal"
          aria-invalid={amountProblem !== null}
          data-testid="take-amount"
        />
      </Field>
      <Field
        label="Send the bitcoin to"
        htmlFor={`take-address-${a.id}`}
        hint={
          toProblem && (
            <span className="error-text" role="alert" data-testid="take-address-problem">
              {toProblem}
            </span>
          )
        }
      >
        <div className="row gap">
          <input
            id={`take-address-${a.id}`}
            className="input grow mono"
            value={address}
            onChange={(e) => setAddress(e.target.value)}
            spellCheck={false}
            placeholder="your Bitcoin address"
            aria-invalid={toProblem !== null}
            data-testid="take-address"
          />
          {regtest && (
            <button
              type="button"
              className="button ghost small"
              onClick={() => newAddress.mutate({}, { onSuccess: (r) => setAddress(r.address) })}
              data-testid="take-use-wallet"
            >
              Use a regtest wallet address
            </button>
          )}
        </div>
      </Field>
      <div className="actions">
        <button type="button" className="button ghost" onClick={onClose}>
          Cancel
        </button>
        <button
          type="submit"
          className="button primary"
          disabled={!sats || !address.trim() || toProblem !== null}
          data-testid="take-review"
        >
          Review take
        </button>
      </div>
    </form>
  );
}
