/**
 * Redeem (SPEC §8.5, §9): bsUSD for bitcoin at the oracle price less the fee, from the
 * lowest-ratio vaults first. Amount and address → a quote that changes nothing → confirm (with
 * the quote's bitcoin, less 1 %, as the least you accept) → each vault's payout on chain. Below,
 * your redemptions and the state of every payout.
 */
import { useState } from 'react';
import type { Result } from '../../../core/api/contract';
import { useApi, useApiMutation } from '../api/context';
import { AddressField } from '../components/AddressField';
import { Btc, BsUsd, Card, Empty, ErrorNote, Field, Loading, Usd } from '../components/ui';
import { bsusd, parseDollars, pct, shortHash, when } from '../lib/format';
import { href } from '../lib/route';

/** The least bitcoin accepted, against the quote: 1 % for the price moving before the click. */
const SLIPPAGE_BPS = 100;

export function Redeem() {
  const status = useApi('status.get', {});
  return (
    <div className="page" data-testid="redeem-page">
      <h1>Redeem bsUSD</h1>
      <p className="muted">
        Any bsUSD buys bitcoin here at the oracle price, less a fee, from the vaults with the lowest
        collateral ratio: their debt falls by what you redeem, and their collateral pays you. This
        is what holds bsUSD at one dollar.
      </p>
      <div className="grid-2">
        <RedeemCard
          balanceCents={status.data?.bsusdBalanceCents ?? 0}
          regtest={!!status.data?.regtest}
        />
        <Card title="How it works">
          <ul className="plain-list">
            <li>The price is the oracle&apos;s (the higher of now and the delayed one).</li>
            <li>The fee goes to the protocol&apos;s surplus.</li>
            <li>
              Each vault pays you in its own transaction, signed by the protocol and the guardian;
              its network fee comes out of what it pays you.
            </li>
            <li>No vault is left with debt under the minimum; a vault under 150 % is skipped.</li>
          </ul>
        </Card>
      </div>
      <RedemptionList />
    </div>
  );
}

function RedeemCard({ balanceCents, regtest }: { balanceCents: number; regtest: boolean }) {
  const [amount, setAmount] = useState('');
  const [address, setAddress] = useState('');
  const cents = parseDollars(amount);
  const valid = cents !== null && cents > 0 && cents <= balanceCents;
  const quote = useApi(
    'bsusd.quoteRedemption',
    { amountCents: valid ? cents : 1 },
    { enabled: valid, refetchInterval: 10_000 },
  );
  const redeem = useApiMutation('bsusd.redeem');
  const q = valid ? quote.data : undefined;
  const problem =
    amount.trim() !== '' && (cents === null || cents <= 0)
      ? 'Give an amount in dollars and cents, e.g. 1000.00.'
      : cents !== null && cents > balanceCents
        ? `That is more than your ${bsusd(balanceCents)}.`
        : null;

  if (redeem.data) return <Done r={redeem.data} onAgain={() => redeem.reset()} />;
  return (
    <Card title="Redeem" testId="redeem-card">
      <form onSubmit={(e) => e.preventDefault()}>
        <Field
          label="bsUSD to redeem"
          htmlFor="redeem-amount"
          hint={`You hold ${bsusd(balanceCents)}.`}
        >
          <input
            id="redeem-amount"
            className="input num"
            value={amount}
            onChange={(e) => {
              setAmount(e.target.value);
              redeem.reset();
            }}
            inputMode="decimal"
            placeholder="0.00"
            data-testid="redeem-amount"
          />
        </Field>
        {problem && <div className="error-note">{problem}</div>}
        <AddressField
          id="redeem-address"
          label="Bitcoin address to be paid at"
          value={address}
          onChange={setAddress}
          regtest={regtest}
        />
        {valid && quote.isPending && <Loading what="Asking for a quote" />}
        <ErrorNote error={valid ? quote.error : null} />
        {q && <QuoteView q={q} />}
        <ErrorNote error={redeem.error} testId="redeem-error" />
        <div className="actions">
          <button
            type="button"
            className="button primary"
            disabled={!q || q.vaults === 0 || !address || redeem.isPending}
            data-testid="redeem-confirm"
            onClick={() =>
              q &&
              redeem.mutate({
                amountCents: q.paidCents,
                btcAddress: address,
                minSats: Math.max(1, Math.floor((q.sats * (10_000 - SLIPPAGE_BPS)) / 10_000)),
              })
            }
          >
            {redeem.isPending ? 'Redeeming…' : q ? `Redeem ${bsusd(q.paidCents)}` : 'Redeem'}
          </button>
        </div>
      </form>
    </Card>
  );
}

function QuoteView({ q }: { q: Result<'bsusd.quoteRedemption'> }) {
  if (q.vaults === 0)
    return (
      <p className="warn-text" data-testid="redeem-nothing">
        No vault can be redeemed from now: every open vault is held by a transaction, at its debt
        minimum, or too small for a payout.
      </p>
    );
  return (
    <dl className="review" data-testid="redeem-quote">
      <dt>Price</dt>
      <dd>
        <Usd cents={q.priceCents} /> per BTC
      </dd>
      <dt>Redeemed against debt</dt>
      <dd>
        <BsUsd cents={q.redeemedCents} /> from {q.vaults} vault{q.vaults === 1 ? '' : 's'}
      </dd>
      <dt>Fee ({pct(q.feeBps)})</dt>
      <dd>
        <BsUsd cents={q.feeCents} />
      </dd>
      <dt>You pay</dt>
      <dd>
        <BsUsd cents={q.paidCents} />
        {q.unfilledCents > 0 && (
          <span className="muted">
            {' '}
            ({bsusd(q.unfilledCents)} could not be placed and stays yours)
          </span>
        )}
      </dd>
      <dt>You receive</dt>
      <dd data-testid="redeem-receive">
        <Btc sats={q.sats} /> less about {q.networkFeeSats.toLocaleString('en-US')} sats of network
        fees
      </dd>
    </dl>
  );
}

function Done({ r, onAgain }: { r: Result<'bsusd.redeem'>; onAgain: () => void }) {
  return (
    <Card title="Redeemed" testId="redeem-done">
      <p className="ok-text">
        Redeemed <BsUsd cents={r.redeemedCents} /> (fee <BsUsd cents={r.feeCents} />) for{' '}
        <Btc sats={r.sats} showSats={false} /> at <Usd cents={r.priceCents} />.
      </p>
      <Payouts r={r} />
      <button type="button" className="button" onClick={onAgain}>
        Redeem more
      </button>
    </Card>
  );
}

function Payouts({ r }: { r: Result<'bsusd.redeem'> }) {
  return (
    <ul className="plain-list" data-testid="redeem-payouts">
      {r.payouts.map((p) => (
        <li key={p.payoutId}>
          <a href={href.vault(p.vaultId)}>Vault #{p.vaultId}</a>: <BsUsd cents={p.debtCents} /> →{' '}
          <Btc sats={p.sats} showSats={false} /> ·{' '}
          {p.state === 'paid' ? 'paid' : p.txid ? 'sent, waiting for a block' : 'being paid'}
          {p.txid && (
            <>
              {' '}
              <code title={p.txid}>{shortHash(p.txid, 8)}</code>
            </>
          )}
        </li>
      ))}
    </ul>
  );
}

function RedemptionList() {
  const list = useApi('bsusd.redemptions', {}, { refetchInterval: 10_000 });
  return (
    <Card title="Your redemptions" testId="redemption-list">
      {list.isPending && <Loading />}
      <ErrorNote error={list.error} />
      {list.data && list.data.length === 0 && <Empty title="No redemptions yet" />}
      {list.data && list.data.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th>When</th>
              <th className="right">Redeemed</th>
              <th className="right">Fee</th>
              <th className="right">Bitcoin</th>
              <th>Payouts</th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((r) => (
              <tr key={r.id}>
                <td>{when(r.createdAt)}</td>
                <td className="right">
                  <BsUsd cents={r.redeemedCents} />
                </td>
                <td className="right">
                  <BsUsd cents={r.feeCents} />
                </td>
                <td className="right">
                  <Btc sats={r.sats} showSats={false} />
                </td>
                <td>
                  {r.payouts.filter((p) => p.state === 'paid').length} of {r.payouts.length} paid
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Card>
  );
}
