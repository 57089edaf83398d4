/**
 * The first start on the regtest playground (issue 15 item 13): it says plainly that nothing here
 * is real money, and walks through the whole life of a vault — open, fund, confirm, mint, move the
 * price, watch an auction — each step ticking itself from what the node reports, not from clicks.
 * Hidden for good once the person says so (remembered in this browser profile).
 */
import { useRef, useState } from 'react';
import { useApi } from '../api/context';
import { href } from '../lib/route';

const WELCOME_HIDDEN = 'bitstable.welcome.hidden';
const DAY_MS = 24 * 3_600_000;

interface Step {
  id: string;
  done: boolean;
  title: string;
  how: React.ReactNode;
}

export function Welcome() {
  const status = useApi('status.get', {});
  const [hidden, setHidden] = useState(() => localStorage.getItem(WELCOME_HIDDEN) === 'yes');
  const on = status.data?.regtest === true && !hidden;
  // The guide's queries stop once their step is done: with thousands of vaults the dashboard's
  // own list is what should refetch at each price, not the guide. The totals are the query the
  // attention banner reads too (one fetch for both).
  const all = useApi('vaults.list', { limit: 1 }, { enabled: on });
  // The rest waits for the totals: the dashboard's list goes first.
  const ready = on && all.data !== undefined;
  const s: Partial<Record<string, number>> = all.data?.totals.byState ?? {};
  const pastPending =
    (s.active ?? 0) +
    (s.warning ?? 0) +
    (s.liquidating ?? 0) +
    (s.liquidated ?? 0) +
    (s.closed ?? 0);
  // Without the Pending vaults nothing was sent to, the list's total counts the vaults that
  // have received coins (or moved past Pending).
  const sent = useApi(
    'vaults.list',
    { limit: 1, hideEmptyPending: true },
    { enabled: ready && pastPending === 0 },
  );
  const funded = pastPending > 0 || (sent.data?.total ?? 0) > 0;
  // Done once is done: the step's query is not asked again (TanStack keeps its last answer).
  const seen = useRef({ auction: false, price: false });
  const auctions = useApi('auctions.list', {}, { enabled: ready && !seen.current.auction });
  const auctioned = (auctions.data?.auctions.length ?? 0) > 0;
  seen.current.auction ||= auctioned;
  // One fixed range (a key that changed at every render would fetch without end), in two
  // points: downsampled, each holds many rounds, and its low and high tell a move apart.
  const [range] = useState(() => ({
    fromMs: Date.now() - 30 * DAY_MS,
    toMs: Date.now() + 365 * DAY_MS,
  }));
  const prices = useApi(
    'price.history',
    { ...range, maxPoints: 2 },
    { enabled: ready && !seen.current.price },
  );
  const points = prices.data ?? [];
  const moved =
    points.some((p) => p.lowCents !== p.highCents) ||
    new Set(points.map((p) => p.priceCents)).size > 1;
  seen.current.price ||= moved;
  if (!on || !all.data) return null;
  const t = all.data.totals;
  const steps: Step[] = [
    {
      id: 'open',
      done: t.count > 0,
      title: 'Open a vault',
      how: (
        <>
          <a href={href.create}>New vault</a>: its address is a 2-of-3 multisig of your key, the
          protocol&apos;s and the guardian&apos;s.
        </>
      ),
    },
    {
      id: 'fund',
      done: funded,
      title: 'Send it coins from the faucet',
      how: <>The vault&apos;s deposit step has a faucet button; so has the Regtest page.</>,
    },
    {
      id: 'confirm',
      done: pastPending > 0,
      title: 'Mine a block to confirm them',
      how: (
        <>
          <a href={href.regtest}>Regtest</a> → Mine: the vault turns Active once its deposit has its
          confirmations.
        </>
      ),
    },
    {
      id: 'mint',
      done: t.debtCents > 0 || (s.liquidated ?? 0) > 0,
      title: 'Mint bsUSD against it',
      how: <>On the vault&apos;s page, Mint: the ratio before and after is shown as you type.</>,
    },
    {
      id: 'price',
      done: moved,
      title: 'Move the BTC price',
      how: (
        <>
          <a href={href.regtest}>Regtest</a> → Set price: watch the ratio and the vault&apos;s state
          follow.
        </>
      ),
    },
    {
      id: 'auction',
      done: auctioned,
      title: 'Watch an auction',
      how: (
        <>
          Drop the price until a vault falls under 150 %: its collateral goes to{' '}
          <a href={href.auctions}>Auctions</a>, where a liquidator (you, or another playground
          account) can buy it.
        </>
      ),
    },
  ];
  const done = steps.filter((x) => x.done).length;
  const hide = () => {
    localStorage.setItem(WELCOME_HIDDEN, 'yes');
    setHidden(true);
  };
  return (
    <section className="card welcome" data-testid="welcome" aria-labelledby="welcome-title">
      <header className="card-head">
        <h2 id="welcome-title">Welcome to the regtest playground</h2>
        <button
          type="button"
          className="button ghost small"
          onClick={hide}
          data-testid="welcome-hide"
        >
          {done === steps.length ? 'Done — hide this' : 'Hide this guide'}
        </button>
      </header>
      <p>
        <strong>Nothing here is real money.</strong> This is a private Bitcoin chain on this
        computer: coins come from a faucet, blocks are mined when you ask, and the BTC price is
        whatever you set. Try the whole life of a vault — {done} of {steps.length} done.
      </p>
      <ol className="checklist" data-testid="welcome-steps" data-done={done}>
        {steps.map((x) => (
          <li key={x.id} data-step={x.id} data-done={x.done} className={x.done ? 'done' : ''}>
            <span className="check" aria-hidden="true">
              {x.done ? '✓' : ''}
            </span>
            <span>
              <strong>{x.title}</strong>
              <span className="visually-hidden">{x.done ? ' (done)' : ' (to do)'}</span>
              <span className="muted small"> — {x.how}</span>
            </span>
          </li>
        ))}
      </ol>
    </section>
  );
}
