/**
 * bsUSD between people (SPEC §3, §5, §9): your account id (where others send bsUSD) with a QR
 * code, Send with a review step, and the statement — every entry that touched your balance.
 */
import { QRCodeSVG } from 'qrcode.react';
import { useState } from 'react';
import { useApi, useApiMutation, useClient } from '../api/context';
import { ExportCsvButton } from '../components/ExportCsv';
import { BsUsd, Card, CopyButton, Empty, ErrorNote, Field, Loading } from '../components/ui';
import { allPages, exportName, statementCsv } from '../lib/csv';
import { bsusd, parseDollars, when } from '../lib/format';
import { href } from '../lib/route';

const KIND_LABEL: Record<string, string> = {
  mint: 'Minted',
  repay: 'Repaid',
  transfer: 'Transfer',
  auction_payment: 'Auction take',
  penalty: 'Penalty',
  bad_debt: 'Write-off',
  redemption: 'Redeemed for bitcoin',
  stability_fee: 'Stability fee',
  pool_deposit: 'Into the stability pool',
  pool_withdraw: 'Out of the stability pool',
};

/** An account id shortened for tables: bsa1abcd…wxyz. */
export function shortAccount(id: string): string {
  return id.length > 20 ? `${id.slice(0, 10)}…${id.slice(-6)}` : id;
}

export function Money() {
  const account = useApi('account.get', {});
  if (account.isPending) return <Loading what="Loading your account" />;
  if (account.error) return <ErrorNote error={account.error} />;
  const a = account.data!;
  return (
    <div className="page" data-testid="money-page">
      <h1>bsUSD</h1>
      <div className="grid-2">
        <Card title="Receive" testId="receive-card">
          <div className="deposit">
            <div className="qr" aria-label="QR code of your account id">
              <QRCodeSVG
                value={a.id}
                size={160}
                level="M"
                marginSize={2}
                bgColor="var(--qr-bg)"
                fgColor="var(--qr-fg)"
                title={a.id}
              />
            </div>
            <div className="deposit-info">
              <div className="muted small">Your account id — others send bsUSD here</div>
              <code className="address" data-testid="account-id">
                {a.id}
              </code>
              <div className="row gap">
                <CopyButton text={a.id} label="Copy account id" />
              </div>
              <div className="balance-big">
                <span className="muted small">Balance</span>
                <strong className="num" data-testid="account-balance" data-cents={a.balanceCents}>
                  {bsusd(a.balanceCents)}
                </strong>
              </div>
            </div>
          </div>
        </Card>
        <SendCard balanceCents={a.balanceCents} />
      </div>
      <Statement />
    </div>
  );
}

function SendCard({ balanceCents }: { balanceCents: number }) {
  const [to, setTo] = useState('');
  const [amount, setAmount] = useState('');
  const [memo, setMemo] = useState('');
  const [reviewing, setReviewing] = useState(false);
  const send = useApiMutation('bsusd.transfer');
  const cents = parseDollars(amount);
  const toTrimmed = to.trim();
  const problem =
    toTrimmed === ''
      ? null
      : !/^bsa1[02-9ac-hj-np-z]{20,}$/.test(toTrimmed)
        ? 'An account id starts with bsa1 and has no capitals or the letters b, i, o.'
        : amount.trim() !== '' && (cents === null || cents <= 0)
          ? 'Give an amount in dollars and cents, e.g. 25.50.'
          : cents !== null && cents > balanceCents
            ? `That is more than your ${bsusd(balanceCents)}.`
            : null;
  const ready = toTrimmed !== '' && cents !== null && cents > 0 && problem === null;

  return (
    <Card title="Send" testId="send-card">
      {send.data ? (
        <div data-testid="send-done">
          <p className="ok-text">
            Sent <BsUsd cents={send.data.amountCents} /> to{' '}
            <code title={send.data.to}>{shortAccount(send.data.to)}</code>. Your balance is now{' '}
            {bsusd(send.data.balanceCents)}.
          </p>
          <button
            type="button"
            className="button"
            onClick={() => {
              send.reset();
              setReviewing(false);
              setTo('');
              setAmount('');
              setMemo('');
            }}
          >
            Send more
          </button>
        </div>
      ) : reviewing && ready ? (
        <div data-testid="send-review">
          <p>Check before you send: a transfer cannot be called back.</p>
          <dl className="review">
            <dt>To</dt>
            <dd>
              <code className="address">{toTrimmed}</code>
            </dd>
            <dt>Amount</dt>
            <dd className="num">{bsusd(cents)}</dd>
            {memo.trim() && (
              <>
                <dt>Memo</dt>
                <dd>{memo.trim()}</dd>
              </>
            )}
            <dt>Your balance after</dt>
            <dd className="num">{bsusd(balanceCents - cents)}</dd>
          </dl>
          <ErrorNote error={send.error} testId="send-error" />
          <div className="row gap">
            <button
              type="button"
              className="button primary"
              disabled={send.isPending}
              data-testid="send-confirm"
              onClick={() =>
                send.mutate({
                  to: toTrimmed,
                  amountCents: cents,
                  ...(memo.trim() ? { memo: memo.trim() } : {}),
                })
              }
            >
              {send.isPending ? 'Sending…' : `Send ${bsusd(cents)}`}
            </button>
            <button
              type="button"
              className="button ghost"
              disabled={send.isPending}
              onClick={() => {
                send.reset();
                setReviewing(false);
              }}
            >
              Back
            </button>
          </div>
        </div>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (ready) setReviewing(true);
          }}
        >
          <Field label="To (account id)" htmlFor="send-to">
            <input
              id="send-to"
              className="input mono"
              value={to}
              onChange={(e) => setTo(e.target.value)}
              placeholder="bsa1…"
              spellCheck={false}
              autoComplete="off"
              data-testid="send-to"
            />
          </Field>
          <Field label="Amount in bsUSD" htmlFor="send-amount">
            <input
              id="send-amount"
              className="input num"
              value={amount}
              onChange={(e) => setAmount(e.target.value)}
              inputMode="decimal"
              placeholder="0.00"
              data-testid="send-amount"
            />
          </Field>
          <Field label="Memo (optional, the receiver sees it)" htmlFor="send-memo">
            <input
              id="send-memo"
              className="input"
              value={memo}
              onChange={(e) => setMemo(e.target.value)}
              maxLength={140}
              data-testid="send-memo"
            />
          </Field>
          {problem && (
            <div className="error-note" role="alert" data-testid="send-problem">
              {problem}
            </div>
          )}
          <button
            type="submit"
            className="button primary"
            disabled={!ready}
            data-testid="send-review-button"
          >
            Review
          </button>
        </form>
      )}
    </Card>
  );
}

function Statement() {
  const [page, setPage] = useState(0);
  const size = 25;
  const statement = useApi('bsusd.statement', { offset: page * size, limit: size });
  const client = useClient();
  const status = useApi('status.get', {});
  return (
    <Card
      title="Statement"
      testId="statement"
      actions={
        statement.data && statement.data.total > 0 ? (
          <ExportCsvButton
            label="Export CSV of your bsUSD statement"
            testId="statement-export-csv"
            build={async () => {
              // Every entry, not the page on screen.
              const items = await allPages((offset, limit) =>
                client.call('bsusd.statement', { offset, limit }),
              );
              const network = status.data?.network ?? (await client.call('status.get', {})).network;
              return { name: exportName('bsusd-statement', network), text: statementCsv(items) };
            }}
          />
        ) : undefined
      }
    >
      {statement.isPending && <Loading what="Loading your statement" />}
      <ErrorNote error={statement.error} />
      {statement.data && statement.data.total === 0 && (
        <Empty title="Nothing yet">
          <p>
            bsUSD you mint, receive or pay shows here. <a href={href.create}>Open a vault</a> to
            mint some, or give your account id to someone who sends you bsUSD.
          </p>
        </Empty>
      )}
      {statement.data && statement.data.total > 0 && (
        <>
          <table className="table" data-testid="statement-table">
            <thead>
              <tr>
                <th>When</th>
                <th>What</th>
                <th>Details</th>
                <th className="right">Amount</th>
                <th className="right">Balance</th>
              </tr>
            </thead>
            <tbody>
              {statement.data.items.map((l) => (
                <tr key={l.entryId} data-testid="statement-line" data-kind={l.kind}>
                  <td className="muted">{when(l.ts)}</td>
                  <td>
                    {l.kind === 'transfer'
                      ? l.amountCents > 0
                        ? 'Received'
                        : 'Sent'
                      : KIND_LABEL[l.kind]}
                  </td>
                  <td>
                    {l.counterparty && (
                      <code title={l.counterparty}>
                        {l.amountCents > 0 ? 'from ' : 'to '}
                        {shortAccount(l.counterparty)}
                      </code>
                    )}
                    {l.vaultId !== null && <a href={href.vault(l.vaultId)}>vault #{l.vaultId}</a>}
                    {l.memo && <span className="muted"> · {l.memo}</span>}
                  </td>
                  <td className={`right num ${l.amountCents > 0 ? 'ok-text' : ''}`}>
                    {l.amountCents > 0 ? '+' : '−'}
                    {bsusd(Math.abs(l.amountCents))}
                  </td>
                  <td className="right num">{bsusd(l.balanceAfterCents)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {statement.data.total > size && (
            <div className="row gap">
              <button
                type="button"
                className="button ghost small"
                disabled={page === 0}
                onClick={() => setPage((p) => p - 1)}
              >
                Newer
              </button>
              <span className="muted small">
                {page * size + 1}–{Math.min((page + 1) * size, statement.data.total)} of{' '}
                {statement.data.total}
              </span>
              <button
                type="button"
                className="button ghost small"
                disabled={(page + 1) * size >= statement.data.total}
                onClick={() => setPage((p) => p + 1)}
              >
                Older
              </button>
            </div>
          )}
        </>
      )}
    </Card>
  );
}
