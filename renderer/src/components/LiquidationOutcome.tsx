/**
 * What a liquidation did to a vault (issue 15 item 11): while its auction runs, how far the tab is
 * covered; once it ended, the whole outcome — when and at what price it began, the debt and the
 * penalty, the bitcoin sold and at what average price, the bad debt, what came back to the owner,
 * and the settlement transaction.
 */
import { useApi } from '../api/context';
import { averagePriceCents, btc, bsusd, pct, shortHash, usd, when } from '../lib/format';
import { href } from '../lib/route';
import { Btc, BsUsd, Card, CopyButton, Stat } from './ui';

export function LiquidationOutcome({ vaultId }: { vaultId: number }) {
  // Auction and spend events make it stale; no polling.
  const list = useApi('auctions.list', { vaultId });
  // The newest auction that sold or is selling (a cured one ended without a sale).
  const a = list.data?.auctions.find((x) => x.curedAt === null);
  if (!a) return null;
  const running = a.state === 'running';
  const penalty = a.tabCents - a.debtCents;
  const repaid = Math.min(a.coveredCents, a.debtCents);
  const penaltyPaid = a.coveredCents - repaid;
  const coveredPct = a.tabCents ? Math.floor((a.coveredCents * 100) / a.tabCents) : 0;
  return (
    <Card
      title={running ? 'The auction so far' : 'What the liquidation did'}
      testId="liquidation-outcome"
      actions={<a href={href.auctions}>Auctions</a>}
    >
      <p className="small">
        Auction #{a.id} began {when(a.startedAt)}, when the oracle accepted BTC at{' '}
        <strong className="num">{usd(a.startPriceCents)}</strong>
        {a.endedAt !== null && <>, and ended {when(a.endedAt)}</>}.
      </p>
      <div className="stats">
        <Stat label="Debt when it began" testId="outcome-debt">
          <BsUsd cents={a.debtCents} />
        </Stat>
        <Stat
          label="Penalty"
          testId="outcome-penalty"
          hint={`${a.debtCents ? pct(Math.round((penalty * 10_000) / a.debtCents)) : '—'} of the debt, added to the tab`}
        >
          <BsUsd cents={penalty} />
        </Stat>
        <Stat
          label={running ? 'Sold so far' : 'Bitcoin sold'}
          testId="outcome-sold"
          hint={
            a.soldSats > 0
              ? `at ${usd(averagePriceCents(a.coveredCents, a.soldSats))} per BTC on average`
              : 'nothing yet'
          }
        >
          <span data-sats={a.soldSats}>
            <Btc sats={a.soldSats} />
          </span>
        </Stat>
        <Stat
          label="Raised"
          testId="outcome-raised"
          hint={`${coveredPct} % of the tab: ${bsusd(repaid)} repaid the debt, ${bsusd(penaltyPaid)} the penalty`}
        >
          <span data-cents={a.coveredCents}>
            <BsUsd cents={a.coveredCents} />
          </span>
        </Stat>
        {!running && (
          <Stat
            label="Bad debt"
            testId="outcome-bad-debt"
            hint={a.deficitCents ? 'the protocol carries it; nothing returns to you' : undefined}
          >
            {a.deficitCents ? <BsUsd cents={a.deficitCents} /> : 'none'}
          </Stat>
        )}
      </div>
      {!running && (
        <dl className="review" data-testid="outcome-settlement">
          <dt>Returned</dt>
          <dd data-testid="outcome-returned" data-sats={a.rest?.sats ?? 0}>
            {a.rest === null ? (
              a.settlementTxid ? (
                'Nothing: what was left after the takers and the fee was too little to send.'
              ) : (
                'Known once the settlement is made.'
              )
            ) : a.rest.to === 'owner' ? (
              <>
                {btc(a.rest.sats)} BTC to your return address{' '}
                <code className="address small">{a.rest.address}</code>
              </>
            ) : (
              <>{btc(a.rest.sats)} BTC to the protocol, against the bad debt</>
            )}
          </dd>
          <dt>Settlement</dt>
          <dd data-testid="outcome-settlement-tx">
            {a.settlementTxid ? (
              <>
                <code className="small">{shortHash(a.settlementTxid)}</code>{' '}
                <CopyButton text={a.settlementTxid} label="Copy txid" />{' '}
                {a.settledAt !== null
                  ? `confirmed ${when(a.settledAt)}`
                  : a.settlementState === 'awaiting-guardian'
                    ? "waiting for the guardian's signature"
                    : 'sent, waiting for confirmations'}
                {a.settlementFeeSats !== null && <>; network fee {a.settlementFeeSats} sats</>}
              </>
            ) : a.settlementError ? (
              <span className="error-text">Not made yet: {a.settlementError.message}</span>
            ) : (
              'Being made.'
            )}
          </dd>
        </dl>
      )}
    </Card>
  );
}
