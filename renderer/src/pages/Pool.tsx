/**
 * The stability pool (SPEC §8.5, §9): deposit bsUSD that takes auctions nobody else takes, at
 * their floor; your share of each, pro rata to your deposit, is paid to your address by the
 * auction's settlement. Shows the pool, your deposit, what its takes cost you and bought you
 * (and what that is worth now), and the pool's share of each auction.
 */
import { useState } from 'react';
import { useApi, useApiMutation } from '../api/context';
import { AddressField } from '../components/AddressField';
import { Btc, BsUsd, Card, Empty, ErrorNote, Field, Loading, Stat } from '../components/ui';
import { bsusd, parseDollars } from '../lib/format';
import { href } from '../lib/route';

export function Pool() {
  const pool = useApi('pool.get', {}, { refetchInterval: 10_000 });
  const price = useApi('price.get', {});
  const status = useApi('status.get', {});
  if (pool.isPending) return <Loading what="Loading the stability pool" />;
  if (pool.error) return <ErrorNote error={pool.error} />;
  const p = pool.data!;
  const priceCents = price.data?.priceCents ?? null;
  // What the bitcoin the pool bought you is worth at today's price, against what it cost you.
  const worth = priceCents === null ? null : Math.floor((p.gainedSats * priceCents) / 1e8);
  return (
    <div className="page" data-testid="pool-page">
      <h1>Stability pool</h1>
      <p className="muted">
        bsUSD in the pool buys the collateral of auctions nobody else buys, at their floor price, so
        liquidations complete even with no bidders. Each depositor buys their share, pro rata to
        their deposit, and is paid the bitcoin by the auction&apos;s settlement.
      </p>
      <div className="grid-2">
        <Card title="The pool" testId="pool-card">
          <div className="stats">
            <Stat label="In the pool" testId="pool-total">
              <BsUsd cents={p.totalCents} />
            </Stat>
            <Stat label="Depositors">
              <span className="num">{p.depositors}</span>
            </Stat>
            <Stat label="Your deposit" testId="pool-mine">
              <BsUsd cents={p.depositCents} />
            </Stat>
            <Stat
              label="Your gains"
              testId="pool-gains"
              hint={
                worth === null
                  ? undefined
                  : `Worth ${bsusd(worth)} now, for ${bsusd(p.spentCents)} spent: ${worth - p.spentCents >= 0 ? '+' : '−'}${bsusd(Math.abs(worth - p.spentCents))}`
              }
            >
              <Btc sats={p.gainedSats} showSats={false} />
            </Stat>
          </div>
          {p.btcAddress && (
            <p className="muted small">
              Your share is paid to <code className="address">{p.btcAddress}</code>
            </p>
          )}
        </Card>
        <PoolForm
          hasAddress={!!p.btcAddress}
          depositCents={p.depositCents}
          balanceCents={status.data?.bsusdBalanceCents ?? 0}
          regtest={!!status.data?.regtest}
        />
      </div>
      <Card title="The pool's share of each auction" testId="pool-auctions">
        {p.auctions.length === 0 ? (
          <Empty title="The pool has not taken an auction yet" />
        ) : (
          <table className="table">
            <thead>
              <tr>
                <th>Auction</th>
                <th className="right">The pool bought</th>
                <th className="right">for</th>
                <th className="right">Your share</th>
                <th className="right">for</th>
              </tr>
            </thead>
            <tbody>
              {p.auctions.map((a) => (
                <tr key={a.auctionId}>
                  <td>
                    #{a.auctionId} · <a href={href.vault(a.vaultId)}>vault #{a.vaultId}</a>
                  </td>
                  <td className="right">
                    <Btc sats={a.poolSats} showSats={false} />
                  </td>
                  <td className="right">
                    <BsUsd cents={a.poolCents} />
                  </td>
                  <td className="right">
                    <Btc sats={a.yourSats} showSats={false} />
                  </td>
                  <td className="right">
                    <BsUsd cents={a.yourCents} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </div>
  );
}

function PoolForm({
  hasAddress,
  depositCents,
  balanceCents,
  regtest,
}: {
  hasAddress: boolean;
  depositCents: number;
  balanceCents: number;
  regtest: boolean;
}) {
  const [amount, setAmount] = useState('');
  const [address, setAddress] = useState('');
  const deposit = useApiMutation('pool.deposit');
  const withdraw = useApiMutation('pool.withdraw');
  const cents = parseDollars(amount);
  const ok = cents !== null && cents > 0;
  const error = deposit.error ?? withdraw.error;
  return (
    <Card title="Deposit or withdraw" testId="pool-form">
      <form onSubmit={(e) => e.preventDefault()}>
        <Field
          label="bsUSD"
          htmlFor="pool-amount"
          hint={`You hold ${bsusd(balanceCents)}; ${bsusd(depositCents)} of yours is in the pool.`}
        >
          <input
            id="pool-amount"
            className="input num"
            value={amount}
            onChange={(e) => {
              setAmount(e.target.value);
              deposit.reset();
              withdraw.reset();
            }}
            inputMode="decimal"
            placeholder="0.00"
            data-testid="pool-amount"
          />
        </Field>
        <AddressField
          id="pool-address"
          label={
            hasAddress
              ? 'Bitcoin address for your share (to change it)'
              : 'Bitcoin address for your share'
          }
          value={address}
          onChange={setAddress}
          regtest={regtest}
        />
        <ErrorNote error={error} testId="pool-error" />
        {(deposit.isSuccess || withdraw.isSuccess) && (
          <p className="ok-text" data-testid="pool-done">
            Done: {bsusd((deposit.data ?? withdraw.data)!.depositCents)} of yours is in the pool.
          </p>
        )}
        <div className="actions">
          <button
            type="button"
            className="button primary"
            disabled={!ok || (!hasAddress && !address) || deposit.isPending}
            data-testid="pool-deposit"
            onClick={() =>
              ok &&
              deposit.mutate({ amountCents: cents, ...(address ? { btcAddress: address } : {}) })
            }
          >
            Deposit
          </button>
          <button
            type="button"
            className="button"
            disabled={!ok || withdraw.isPending}
            data-testid="pool-withdraw"
            onClick={() => ok && withdraw.mutate({ amountCents: cents })}
          >
            Withdraw
          </button>
          <button
            type="button"
            className="button ghost"
            disabled={depositCents === 0 || withdraw.isPending}
            onClick={() => withdraw.mutate({ amountCents: Math.max(1, depositCents), all: true })}
          >
            Withdraw all
          </button>
        </div>
      </form>
    </Card>
  );
}
