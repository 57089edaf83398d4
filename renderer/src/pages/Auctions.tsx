/** Auctions (SPEC §8, §9): live Dutch auctions with their falling price and time left; take. */
import { useEffect, useState } from 'react';
import type { Result } from '../../../core/api/contract';
import { useApi, useApiMutation } from '../api/context';
import { Btc, BsUsd, Card, Dialog, Empty, ErrorNote, Field, Loading, Stat } from '../components/ui';
import { btc, bsusd, duration, parseBtc, usd } from '../lib/format';
import { href } from '../lib/route';

type Auction = Result<'auctions.list'>['auctions'][number];

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

export function Auctions() {
  const list = useApi('auctions.list', {}, { refetchInterval: 5_000 });
  const status = useApi('status.get', {});
  const [received, setReceived] = useState(Date.now());
  useEffect(() => setReceived(Date.now()), [list.data]);
  const now = useNow();
  // Server and browser clocks may differ: place auctions on the server's clock.
  const serverNow = list.data ? list.data.asOf + (now - received) : now;
  const durationMs = (status.data?.params.auctionDurationSeconds ?? 120) * 1000;
  const live = list.data?.auctions.filter((a) => a.state === 'running') ?? [];
  const ended = list.data?.auctions.filter((a) => a.state !== 'running') ?? [];
  const [taken, setTaken] = useState<Result<'auctions.take'> | null>(null);
  const [review, setReview] = useState<Review | null>(null);
  // The take lives here, not in the auction's card: a take that ends the auction removes the card.
  const take = useApiMutation('auctions.take');

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
        {status.data && (
          <div className="balance-box">
            <span className="muted small">Your bsUSD</span>
            <strong className="num">{bsusd(status.data.bsusdBalanceCents)}</strong>
          </div>
        )}
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
      <div className="auction-grid">
        {live.map((a) => (
          <AuctionCard
            key={a.id}
            auction={a}
            price={priceNow(a, durationMs, serverNow)}
            timeLeftMs={Math.max(0, durationMs - (serverNow - a.cycleStartedAt))}
            regtest={status.data?.regtest ?? false}
            onReview={(r) => {
              take.reset();
              setReview(r);
            }}
          />
        ))}
      </div>
      <TakeDialog
        review={review}
        take={take}
        onClose={() => setReview(null)}
        onTaken={(r) => {
          setReview(null);
          setTaken(r);
        }}
      />
      {ended.length > 0 && (
        <Card title="Ended">
          <table className="table" data-testid="ended-auctions">
            <thead>
              <tr>
                <th scope="col">Auction</th>
                <th scope="col">Vault</th>
                <th scope="col">State</th>
                <th scope="col" className="right">
                  Sold
                </th>
                <th scope="col" className="right">
                  Raised
                </th>
                <th scope="col" className="right">
                  Bad debt
                </th>
              </tr>
            </thead>
            <tbody>
              {ended.map((a) => (
                <tr key={a.id} data-testid={`ended-auction-${a.id}`} data-state={a.state}>
                  <td>#{a.id}</td>
                  <td>
                    <a href={href.vault(a.vaultId)}>#{a.vaultId}</a>
                  </td>
                  <td>
                    {a.curedAt !== null ? (
                      <span data-testid="auction-cured">
                        Cured: the vault was back at 160 % before any take, no penalty
                      </span>
                    ) : a.state === 'settled' ? (
                      'Settled'
                    ) : a.settlementError ? (
                      <span className="error-text" data-testid="settlement-error" role="status">
                        Not settled yet: {a.settlementError.message} (tried{' '}
                        {a.settlementError.count} {a.settlementError.count === 1 ? 'time' : 'times'}
                        ; retried at every block)
                      </span>
                    ) : a.settlementState === 'awaiting-guardian' ? (
                      <a href={href.vault(a.vaultId)} data-testid="settlement-awaiting-guardian">
                        Waiting for the guardian&apos;s signature
                      </a>
                    ) : (
                      'Settling on chain'
                    )}
                  </td>
                  <td className="right">
                    <Btc sats={a.soldSats} showSats={false} />
                  </td>
                  <td className="right">
                    <BsUsd cents={a.coveredCents} />
                  </td>
                  <td className="right">
                    {a.deficitCents ? <BsUsd cents={a.deficitCents} /> : '—'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
      )}
    </div>
  );
}

function AuctionCard({
  auction: a,
  price,
  timeLeftMs,
  regtest,
  onReview,
}: {
  auction: Auction;
  price: number;
  timeLeftMs: number;
  regtest: boolean;
  onReview: (r: Review) => void;
}) {
  const lotLeft = a.lotSats - a.soldSats;
  const tabLeft = a.tabCents - a.coveredCents;
  // Asking for the whole lot is safe: a take never buys more than the rest of the tab needs.
  const [amount, setAmount] = useState(() => btc(lotLeft).replace(/,/g, ''));
  const [address, setAddress] = useState('');
  const newAddress = useApiMutation('regtest.newAddress');
  const sats = parseBtc(amount);
  const coveredPct = a.tabCents ? Math.round((a.coveredCents / a.tabCents) * 100) : 0;

  return (
    <Card
      title={`Vault #${a.vaultId}`}
      testId={`auction-${a.id}`}
      className="auction"
      actions={<span className="badge badge-liquidating">Live</span>}
    >
      <div className="stats">
        <Stat label="Price now" testId="auction-price">
          <span className="num big-ish" data-cents={price}>
            {usd(price)}
          </span>
        </Stat>
        <Stat label="Time left in this cycle" testId="auction-time-left">
          <span className="num">{duration(timeLeftMs)}</span>
        </Stat>
        <Stat label="Lot left">
          <Btc sats={lotLeft} />
        </Stat>
        <Stat label="Tab left" hint={`debt + 13 % penalty · ${coveredPct} % covered`}>
          <BsUsd cents={tabLeft} />
        </Stat>
      </div>
      <div className="progress" aria-hidden="true">
        <div style={{ width: `${coveredPct}%` }} />
      </div>
      <p className="muted small">
        Falls from {usd(a.topPriceCents)} to {usd(a.floorPriceCents)}, then restarts from the market
        price{a.resets ? ` (restarted ${a.resets}×)` : ''}.
      </p>
      {a.coinsHeld && (
        <p className="warn-text small" role="status" data-testid="auction-coins-held">
          Takes wait: a transaction from this vault holds its coins until it confirms or is dropped.
        </p>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (sats) onReview({ auction: a, priceCents: price, sats, address: address.trim() });
        }}
      >
        <Field
          label="Buy (BTC)"
          htmlFor={`take-amount-${a.id}`}
          hint={`Up to ${btc(lotLeft)} BTC. You only buy what the rest of the tab needs at the price of the moment, and never pay more than the tab.`}
        >
          <input
            id={`take-amount-${a.id}`}
            className="input"
            value={amount}
            onChange={(e) => setAmount(e.target.value)}
            inputMode="decimal"
            data-testid="take-amount"
          />
        </Field>
        <Field label="Send the bitcoin to" htmlFor={`take-address-${a.id}`}>
          <div className="row gap">
            <input
              id={`take-address-${a.id}`}
              className="input grow"
              value={address}
              onChange={(e) => setAddress(e.target.value)}
              spellCheck={false}
              placeholder="your Bitcoin address"
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
          <button
            type="submit"
            className="button primary"
            disabled={!sats || !address.trim()}
            data-testid="take-review"
          >
            Review take
          </button>
        </div>
      </form>
    </Card>
  );
}

interface Review {
  auction: Auction;
  priceCents: number;
  sats: number;
  address: string;
}

function TakeDialog({
  review,
  take,
  onClose,
  onTaken,
}: {
  review: Review | null;
  take: ReturnType<typeof useApiMutation<'auctions.take'>>;
  onClose: () => void;
  onTaken: (r: Result<'auctions.take'>) => void;
}) {
  const a = review?.auction;
  const lotLeft = a ? a.lotSats - a.soldSats : 0;
  const tabLeft = a ? a.tabCents - a.coveredCents : 0;
  const estimate = review
    ? Math.min(
        tabLeft,
        Math.ceil((Math.min(review.sats, lotLeft) * review.priceCents) / 100_000_000),
      )
    : 0;
  return (
    <Dialog
      open={review !== null}
      title={a ? `Take from the auction of vault #${a.vaultId}` : 'Take'}
      onClose={onClose}
      testId="take-dialog"
    >
      {review && a && (
        <>
          <dl className="review">
            <dt>You buy at most</dt>
            <dd>{btc(Math.min(review.sats, lotLeft))} BTC</dd>
            <dt>Price limit</dt>
            <dd>{usd(review.priceCents)} per BTC (the price only falls until the cycle ends)</dd>
            <dt>You pay at most</dt>
            <dd>{bsusd(estimate)}</dd>
            <dt>Bitcoin to</dt>
            <dd>
              <code className="address small">{review.address}</code>
            </dd>
          </dl>
          <p className="muted small">
            The bitcoin arrives with the auction's settlement transaction, signed by the protocol
            and guardian keys.
          </p>
          <ErrorNote error={take.error} />
          <div className="actions">
            <button type="button" className="button ghost" onClick={onClose}>
              Cancel
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
                    btcAddress: review.address,
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
      )}
    </Dialog>
  );
}
