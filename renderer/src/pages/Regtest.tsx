/**
 * The regtest panel (SPEC §9): mine blocks, faucet, set the simulated price, and switch between
 * playground accounts (you, a liquidator…) so one person can play every side.
 */
import { useState } from 'react';
import { useApi, useApiMutation } from '../api/context';
import { Card, ErrorNote, Field, Usd } from '../components/ui';
import { addressProblem } from '../lib/address';
import { btcAmountProblem, bsusd, parseBtc, parseDollars, shortHash, usd } from '../lib/format';

export function Regtest() {
  const status = useApi('status.get', {});
  const price = useApi('price.get', {});
  if (status.data && !status.data.regtest) {
    return (
      <div className="page">
        <h1>Regtest</h1>
        <p>
          Mining, the faucet and the simulated price exist only in local regtest mode. This node
          runs on {status.data.network}.
        </p>
      </div>
    );
  }
  return (
    <div className="page" data-testid="page-regtest">
      <header className="page-head">
        <div>
          <h1>Regtest playground</h1>
          <p className="muted">
            A private Bitcoin chain on this machine: mine blocks when you like, take coins from the
            miner's faucet, and move the BTC price by hand. Nothing here is real money.
          </p>
        </div>
      </header>
      <div className="grid-3">
        <Card title="Mine blocks" testId="mine-card">
          <MineForm height={status.data?.node.height ?? null} />
        </Card>
        <Card title="Faucet" testId="faucet-card">
          <FaucetForm />
        </Card>
        <Card title="Simulated BTC price" testId="price-set-card">
          <p>
            Now:{' '}
            <strong className="num">
              {price.data ? <Usd cents={price.data.priceCents} /> : '—'}
            </strong>
          </p>
          <PriceForm current={price.data?.priceCents ?? null} />
        </Card>
      </div>
      <PlaygroundAccounts />
    </div>
  );
}

/** The playground's accounts; hidden where there are none to switch (a wallet of one account). */
function PlaygroundAccounts() {
  const accounts = useApi('playground.accounts', {}, { retry: false });
  const add = useApiMutation('playground.addAccount');
  const switchTo = useApiMutation('playground.switch');
  const [label, setLabel] = useState('');
  const code = accounts.error && 'code' in accounts.error ? accounts.error.code : null;
  if (code === 'NOT_SUPPORTED' || code === 'FORBIDDEN') return null;
  return (
    <Card title="Playground accounts" testId="playground-accounts">
      <p className="muted">
        Play every side on this machine: add an account (a liquidator, a friend to pay), send it
        bsUSD from yours, then switch to it. Each has its own key, kept by this node, and its own
        balance and vaults.
      </p>
      <ErrorNote error={accounts.error ?? switchTo.error} />
      <ul className="guardian-list">
        {(accounts.data ?? []).map((a) => (
          <li
            key={a.accountId}
            className="row gap wrap"
            data-testid="playground-account"
            data-active={String(a.active)}
            data-account={a.accountId}
          >
            <strong>{a.label}</strong>
            <code className="mono small">
              {a.accountId.slice(0, 12)}…{a.accountId.slice(-6)}
            </code>
            <span className="num">{bsusd(a.balanceCents)}</span>
            {a.active ? (
              <span className="pill ok">This window acts as it</span>
            ) : (
              <button
                type="button"
                className="button ghost small"
                disabled={switchTo.isPending}
                onClick={() => switchTo.mutate({ accountId: a.accountId })}
                data-testid="playground-switch"
              >
                Switch to it
              </button>
            )}
          </li>
        ))}
      </ul>
      <form
        className="row gap wrap"
        onSubmit={(e) => {
          e.preventDefault();
          add.mutate({ label: label.trim() }, { onSuccess: () => setLabel('') });
        }}
      >
        <Field label="New account" htmlFor="playground-label">
          <input
            id="playground-label"
            className="input"
            value={label}
            maxLength={60}
            placeholder="Liquidator"
            onChange={(e) => setLabel(e.target.value)}
            data-testid="playground-label"
          />
        </Field>
        <button
          type="submit"
          className="button"
          disabled={!label.trim() || add.isPending}
          data-testid="playground-add"
        >
          {add.isPending ? 'Adding…' : 'Add account'}
        </button>
      </form>
      <ErrorNote error={add.error} />
    </Card>
  );
}

function MineForm({ height }: { height: number | null }) {
  const [blocks, setBlocks] = useState('1');
  const mine = useApiMutation('regtest.mine');
  const n = Number(blocks);
  const ok = Number.isInteger(n) && n >= 1 && n <= 1000;
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        if (ok) mine.mutate({ blocks: n });
      }}
    >
      <p className="muted">
        Height now:{' '}
        <span className="num" data-testid="regtest-height">
          {height?.toLocaleString('en-US') ?? '—'}
        </span>
      </p>
      <Field label="Blocks" htmlFor="mine-blocks" hint="1 confirms a deposit on regtest.">
        <input
          id="mine-blocks"
          className="input"
          value={blocks}
          onChange={(e) => setBlocks(e.target.value)}
          inputMode="numeric"
          data-testid="mine-blocks"
        />
      </Field>
      {!ok && blocks.trim() !== '' && (
        <div className="error-note" data-testid="mine-blocks-problem">
          Mine a whole number of blocks, from 1 to 1,000.
        </div>
      )}
      <ErrorNote error={mine.error} />
      {mine.data && (
        <p className="ok-text">Mined. Height {mine.data.height.toLocaleString('en-US')}.</p>
      )}
      <div className="actions">
        <button
          type="submit"
          className="button primary"
          disabled={!ok || mine.isPending}
          data-testid="mine-submit"
        >
          {mine.isPending ? 'Mining…' : `Mine ${ok ? n : ''} block${n === 1 ? '' : 's'}`}
        </button>
      </div>
    </form>
  );
}

function FaucetForm() {
  const [address, setAddress] = useState('');
  const [amount, setAmount] = useState('1');
  const faucet = useApiMutation('regtest.faucet');
  const sats = parseBtc(amount);
  const problem = addressProblem(address, 'regtest') ?? btcAmountProblem(amount);
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        if (sats) faucet.mutate({ address: address.trim(), amountSats: sats });
      }}
    >
      <Field label="To address" htmlFor="faucet-address">
        <input
          id="faucet-address"
          className="input"
          value={address}
          onChange={(e) => setAddress(e.target.value)}
          spellCheck={false}
          placeholder="bcrt1…"
          data-testid="faucet-address"
        />
      </Field>
      <Field label="Amount in BTC" htmlFor="faucet-amount">
        <input
          id="faucet-amount"
          className="input"
          value={amount}
          onChange={(e) => setAmount(e.target.value)}
          inputMode="decimal"
          data-testid="faucet-amount"
        />
      </Field>
      {problem && (
        <div className="error-note" data-testid="faucet-problem">
          {problem}
        </div>
      )}
      <ErrorNote error={faucet.error} />
      {faucet.data && (
        <p className="ok-text" data-testid="faucet-result">
          Sent in {shortHash(faucet.data.txid, 8)}. Mine a block to confirm it.
        </p>
      )}
      <div className="actions">
        <button
          type="submit"
          className="button primary"
          disabled={!sats || !address.trim() || problem !== null || faucet.isPending}
          data-testid="faucet-submit"
        >
          {faucet.isPending ? 'Sending…' : 'Send'}
        </button>
      </div>
    </form>
  );
}

function PriceForm({ current }: { current: number | null }) {
  const [value, setValue] = useState('');
  const set = useApiMutation('regtest.setPrice');
  const cents = parseDollars(value);
  const presets = current
    ? [-30, -10, -5, 5, 10].map((p) => Math.round((current * (100 + p)) / 100))
    : [];
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        if (cents) set.mutate({ priceCents: cents });
      }}
    >
      <Field
        label="New price in USD"
        htmlFor="set-price"
        hint="Oracle rounds run at once; a move over 20 % is held for one round by the circuit breaker, then confirmed."
      >
        <input
          id="set-price"
          className="input"
          value={value}
          onChange={(e) => setValue(e.target.value)}
          inputMode="decimal"
          placeholder="50000.00"
          data-testid="set-price"
        />
      </Field>
      {presets.length > 0 && (
        <div className="row gap wrap">
          {presets.map((p, i) => (
            <button
              key={i}
              type="button"
              className="button ghost small"
              onClick={() => setValue((p / 100).toFixed(2))}
            >
              {['−30 %', '−10 %', '−5 %', '+5 %', '+10 %'][i]} ({usd(p)})
            </button>
          ))}
        </div>
      )}
      {value.trim() !== '' && !cents && (
        <div className="error-note" data-testid="set-price-problem">
          Write a price in USD with at most 2 decimals, e.g. 45000.
        </div>
      )}
      <ErrorNote error={set.error} />
      {set.data && (
        <p
          className={set.data.status === 'ok' ? 'ok-text' : 'warn-text'}
          data-testid="set-price-result"
        >
          {set.data.status === 'ok'
            ? `Accepted: ${usd(set.data.priceCents ?? 0)}.`
            : set.data.message}
        </p>
      )}
      <div className="actions">
        <button
          type="submit"
          className="button primary"
          disabled={!cents || set.isPending}
          data-testid="set-price-submit"
        >
          {set.isPending ? 'Setting…' : 'Set price'}
        </button>
      </div>
    </form>
  );
}
