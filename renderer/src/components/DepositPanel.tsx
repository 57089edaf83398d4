/** Where to send collateral: address, BIP21 QR code, Show on Ledger, and the deposit as it confirms. */
import { QRCodeSVG } from 'qrcode.react';
import { useState } from 'react';
import { useApi, useApiMutation } from '../api/context';
import { btc, parseBtc } from '../lib/format';
import { Btc, CopyButton, ErrorNote, Field, Loading, StateBadge } from './ui';

export function DepositPanel({ vaultId }: { vaultId: number }) {
  const vault = useApi('vaults.get', { vaultId });
  const status = useApi('status.get', {});
  const planned = vault.data?.plannedDepositSats ?? undefined;
  const deposit = useApi(
    'vaults.depositAddress',
    planned ? { vaultId, amountSats: planned } : { vaultId },
  );
  const show = useApiMutation('vaults.showAddress');
  if (vault.isPending || deposit.isPending) return <Loading what="Loading the deposit address" />;
  if (vault.error || deposit.error) return <ErrorNote error={vault.error ?? deposit.error} />;
  const v = vault.data!;
  const d = deposit.data!;
  const ledger = status.data?.owner.kind === 'ledger';
  return (
    <div className="deposit" data-testid="deposit-panel">
      <div className="qr" aria-label="QR code of the deposit address">
        <QRCodeSVG
          value={d.uri}
          size={176}
          level="M"
          marginSize={2}
          bgColor="var(--qr-bg)"
          fgColor="var(--qr-fg)"
          title={d.uri}
        />
      </div>
      <div className="deposit-info">
        <div className="muted small">Send BTC to this vault address</div>
        <code className="address" data-testid="deposit-address">
          {d.address}
        </code>
        <div className="row gap">
          <CopyButton text={d.address} label="Copy address" />
          {ledger ? (
            <button
              type="button"
              className="button small"
              onClick={() => show.mutate({ vaultId })}
              disabled={show.isPending}
              data-testid="show-on-ledger"
            >
              {show.isPending ? 'Check your Ledger…' : 'Show on Ledger'}
            </button>
          ) : (
            <span className="muted small" data-testid="software-key-note">
              Software owner key (regtest): there is no device screen to compare the address on.
            </span>
          )}
        </div>
        {show.data && <p className={show.data.shown ? 'ok-text' : 'muted'}>{show.data.message}</p>}
        <ErrorNote error={show.error} />
        {planned && (
          <div className="muted small">Planned deposit: {btc(planned)} BTC (in the QR code)</div>
        )}
        <div className="deposit-status" aria-live="polite">
          <StateBadge state={v.state} />
          {v.incomingSats > 0 && (
            <span data-testid="incoming">
              <Btc sats={v.incomingSats} showSats={false} /> incoming, waiting for{' '}
              {status.data?.params.confirmations ?? 1} confirmation
              {(status.data?.params.confirmations ?? 1) === 1 ? '' : 's'}
            </span>
          )}
          {v.incomingSats === 0 && v.collateralSats === 0 && (
            <span className="muted">Waiting for a deposit…</span>
          )}
          {v.collateralSats > 0 && (
            <span>
              <Btc sats={v.collateralSats} showSats={false} /> confirmed
            </span>
          )}
        </div>
        {status.data?.regtest && <RegtestFund address={d.address} />}
      </div>
    </div>
  );
}

/** Regtest shortcut: fund the address from the miner wallet and mine a block. */
function RegtestFund({ address }: { address: string }) {
  const [amount, setAmount] = useState('1');
  const faucet = useApiMutation('regtest.faucet');
  const mine = useApiMutation('regtest.mine');
  const sats = parseBtc(amount);
  return (
    <div className="regtest-inline">
      <div className="muted small">Regtest playground</div>
      <div className="row gap wrap">
        <input
          id="fund-amount"
          aria-label="Amount in BTC"
          className="input small-input"
          value={amount}
          onChange={(e) => setAmount(e.target.value)}
          inputMode="decimal"
          data-testid="fund-amount"
        />
        <span className="muted">BTC</span>
        <button
          type="button"
          className="button small"
          disabled={!sats || faucet.isPending}
          onClick={() => sats && faucet.mutate({ address, amountSats: sats })}
          data-testid="fund-from-faucet"
        >
          {faucet.isPending ? 'Sending…' : 'Send from faucet'}
        </button>
        <button
          type="button"
          className="button small"
          disabled={mine.isPending}
          onClick={() => mine.mutate({ blocks: 1 })}
          data-testid="mine-one"
        >
          {mine.isPending ? 'Mining…' : 'Mine 1 block'}
        </button>
      </div>
      {faucet.data && <div className="muted small">Sent: {faucet.data.txid.slice(0, 16)}…</div>}
      <ErrorNote error={faucet.error ?? mine.error} />
    </div>
  );
}

export { Field };
