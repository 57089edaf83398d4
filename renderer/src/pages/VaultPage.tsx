/** One vault (SPEC §9): ratio gauge, liquidation price, what-if price, history chart, operations. */
import { useState } from 'react';
import { useApi } from '../api/context';
import { DepositPanel } from '../components/DepositPanel';
import { VaultHistoryExport } from '../components/ExportCsv';
import { GuardianRequests } from '../components/GuardianRequests';
import { HistoryChart } from '../components/HistoryChart';
import { LiquidationOutcome } from '../components/LiquidationOutcome';
import { Operations } from '../components/Operations';
import { RatioGauge } from '../components/RatioGauge';
import {
  Btc,
  BsUsd,
  Card,
  CopyButton,
  ErrorNote,
  Loading,
  Stat,
  StateBadge,
  Usd,
} from '../components/ui';
import { backTo, bsusd, btc, pct, ratioAt, usd, when } from '../lib/format';
import { href } from '../lib/route';

export function VaultPage({ id }: { id: number }) {
  const vault = useApi('vaults.get', { vaultId: id });
  const status = useApi('status.get', {});
  const price = useApi('price.get', {});
  const books = useApi('books.get', { limit: 1 });
  // The what-if price, in % of the current one: the slider and the gauge both follow it.
  const [whatIf, setWhatIf] = useState(100);
  if (vault.isPending) return <Loading what={`Loading vault #${id}`} />;
  if (vault.error) {
    return (
      <div className="page">
        <ErrorNote error={vault.error} />
        <a href={href.dashboard}>Back to the dashboard</a>
      </div>
    );
  }
  const v = vault.data;
  const params = status.data?.params;
  const liq = params?.liquidationRatioBps ?? 15_000;
  const warn = params?.warningRatioBps ?? 16_000;

  return (
    <div className="page" data-testid="page-vault" data-vault-id={v.id}>
      <header className="page-head">
        <div>
          <a href={href.dashboard} className="muted small">
            ← Vaults
          </a>
          <h1>
            Vault #{v.id} {v.label && <span className="muted">· {v.label}</span>}
          </h1>
          <div className="row gap">
            <StateBadge state={v.state} />
            <code className="address small">{v.address}</code>
            {v.state === 'closed' || v.state === 'liquidated' ? (
              // No copy button: nobody should be invited to send coins to a vault that is done.
              <span className="muted small" data-testid="address-retired">
                Not for deposits: this vault is {v.state}. Coins sent here anyway can be swept.
              </span>
            ) : (
              <CopyButton text={v.address} />
            )}
          </div>
        </div>
        <VaultHistoryExport vault={v} />
      </header>

      {v.pendingSpend && (
        <div className="banner info" role="status" data-testid="pending-spend">
          {v.pendingSpend.kind === 'close'
            ? 'Closing'
            : v.pendingSpend.kind === 'settlement'
              ? 'The auction settlement'
              : v.pendingSpend.kind === 'emergency-exit'
                ? 'The emergency exit'
                : 'A withdrawal'}
          {v.pendingSpend.state === 'awaiting-guardian' ? (
            <>
              {' '}
              is signed and waits for the guardian&apos;s signature: save its PSBT for the guardian
              and import the signed file below.
            </>
          ) : (
            <>
              {' '}
              was broadcast
              {v.pendingSpend.txid ? ` (${v.pendingSpend.txid.slice(0, 12)}…)` : ''} and waits for{' '}
              {status.data?.params.confirmations ?? 1} confirmation
              {(status.data?.params.confirmations ?? 1) === 1 ? '' : 's'}.
            </>
          )}
        </div>
      )}
      {v.ownView && !v.ownView.agrees && (
        <div className="banner danger" role="alert" data-testid="own-view-disagrees">
          Your own Bitcoin node sees {btc(v.ownView.collateralSats)} BTC confirmed and{' '}
          {btc(v.ownView.incomingSats)} BTC incoming at this vault, not what the protocol node says
          ({btc(v.collateralSats)} BTC). Do not mint or withdraw until they agree; ask the operator.
        </div>
      )}
      {v.ownView?.agrees && (
        <p className="muted small" data-testid="own-view-agrees">
          Collateral checked against your own Bitcoin node.
        </p>
      )}
      <GuardianRequests vaultId={v.id} />
      {v.state === 'liquidating' && (
        <div className="banner danger" role="status">
          <span>
            This vault fell under {pct(liq)} at a fresh price and its collateral is being auctioned.{' '}
            <a href={href.auctions}>See the auction</a>. Until someone buys from it, bringing the
            vault back to {pct(warn)} — a deposit, a repay, or the price coming back — ends the
            auction without penalty.
            <BackTo vault={v} priceCents={price.data?.priceCents ?? null} warn={warn} />
          </span>
        </div>
      )}
      {v.state === 'liquidated' && (
        <div className="banner info" role="status" data-testid="liquidated-note">
          This vault was liquidated: its collateral was sold at auction to cover the debt and the
          penalty, and what was left went to its return address. The numbers are below.
        </div>
      )}
      {(v.state === 'liquidating' || v.state === 'liquidated') && (
        <LiquidationOutcome vaultId={v.id} />
      )}
      {v.state === 'closed' && (
        <div className="banner info" role="status">
          This vault is closed: its debt was repaid and its collateral sent to your address.
        </div>
      )}
      {v.state === 'warning' && (
        <div className="banner warn" role="status" data-testid="warning-note">
          The ratio is under {pct(warn)}. Add collateral or repay some debt before it falls under{' '}
          {pct(liq)}, where the vault is liquidated.
          <BackTo vault={v} priceCents={price.data?.priceCents ?? null} warn={warn} />
        </div>
      )}

      {v.redemptions.length > 0 && (
        <div className="banner" role="status" data-testid="vault-redeemed">
          {v.redemptions.slice(0, 3).map((r) => (
            <div key={r.redemptionId}>
              {when(r.at)}: <BsUsd cents={r.debtCents} /> of this vault&apos;s debt was redeemed for{' '}
              <Btc sats={r.sats} showSats={false} /> at <Usd cents={r.priceCents} /> per BTC —{' '}
              {r.state === 'paid' ? 'paid' : 'being paid'}
              {r.txid ? ` (${r.txid.slice(0, 10)}…)` : ''}. Your debt fell by as much; the bitcoin
              left the vault.
            </div>
          ))}
        </div>
      )}

      <div className="grid-vault">
        <Card title="Health" testId="health-card">
          <WhatIfGauge
            vault={v}
            percent={whatIf}
            priceCents={price.data?.priceCents ?? null}
            liq={liq}
            warn={warn}
          />
        </Card>
        <Card title="Position">
          <div className="stats">
            <Stat
              label="Collateral"
              testId="vault-collateral"
              hint={
                v.incomingSats > 0
                  ? `+${(v.incomingSats / 1e8).toFixed(8)} BTC incoming`
                  : undefined
              }
            >
              <Btc sats={v.collateralSats} />
            </Stat>
            <Stat label="Debt" testId="vault-debt" hint="Minted, and the stability fee accrued">
              <BsUsd cents={v.debtCents} />
            </Stat>
            <Stat
              label="Stability fee"
              testId="vault-fee"
              hint={
                <>
                  <BsUsd cents={v.feePerYearCents} /> a year at today's debt
                  {books.data ? ` (${pct(books.data.stabilityFeeBps)})` : ''}
                </>
              }
            >
              <BsUsd cents={v.feesCents} /> so far
            </Stat>
            <Stat
              label="Liquidation price"
              testId="vault-liquidation-price"
              hint="BTC price under which the ratio falls below 150 %"
            >
              <Usd cents={v.liquidationPriceCents} />
            </Stat>
            <Stat label="Warning price">
              <Usd cents={v.warningPriceCents} />
            </Stat>
            <Stat label="Opened">{when(v.createdAt)}</Stat>
          </div>
        </Card>
        <Card title="What if the price were…" testId="what-if">
          <WhatIf
            collateralSats={v.collateralSats}
            debtCents={v.debtCents}
            priceCents={price.data?.priceCents ?? null}
            liquidationPriceCents={v.liquidationPriceCents}
            liq={liq}
            warn={warn}
            percent={whatIf}
            setPercent={setWhatIf}
          />
        </Card>
      </div>

      {['pending', 'active', 'warning'].includes(v.state) &&
        !(v.pendingSpend && v.pendingSpend.kind !== 'withdraw') && (
          <Card title={v.state === 'pending' ? 'Deposit collateral' : 'Add collateral'}>
            <DepositPanel vaultId={v.id} />
          </Card>
        )}

      <Card title="Operations">
        <Operations vault={v} />
      </Card>

      <Card title="Ratio and price history">
        <HistoryChart vaultId={v.id} liquidationBps={liq} warningBps={warn} />
      </Card>
    </div>
  );
}

/** The what-if price: `percent` % of the current one. */
const whatIfPrice = (priceCents: number, percent: number) =>
  Math.round((priceCents * percent) / 100);

/** The health gauge: at the current price, or at the what-if price while the slider is moved. */
function WhatIfGauge({
  vault: v,
  percent,
  priceCents,
  liq,
  warn,
}: {
  vault: { ratioBps: number | null; collateralSats: number; debtCents: number };
  percent: number;
  priceCents: number | null;
  liq: number;
  warn: number;
}) {
  const moved = percent !== 100 && priceCents !== null && v.debtCents > 0;
  const at = priceCents === null ? 0 : whatIfPrice(priceCents, percent);
  return (
    <div data-testid="health-gauge" data-what-if={moved ? at : undefined}>
      <RatioGauge
        ratioBps={moved ? ratioAt(v.collateralSats, v.debtCents, at) : v.ratioBps}
        liquidationBps={liq}
        warningBps={warn}
        label={moved ? `Ratio if BTC were ${usd(at)}` : 'Collateral ratio'}
      />
      {moved && (
        <p className="muted small center" data-testid="gauge-what-if">
          What if: BTC at {usd(at)}. Now {pct(v.ratioBps)}.
        </p>
      )}
    </div>
  );
}

/**
 * A slider from 10 % to 200 % of the current price, marked where the vault would be liquidated;
 * shows the ratio and the state it would mean (the gauge beside it follows).
 */
function WhatIf({
  collateralSats,
  debtCents,
  priceCents,
  liquidationPriceCents,
  liq,
  warn,
  percent,
  setPercent,
}: {
  collateralSats: number;
  debtCents: number;
  priceCents: number | null;
  liquidationPriceCents: number | null;
  liq: number;
  warn: number;
  percent: number;
  setPercent: (p: number) => void;
}) {
  if (priceCents === null) return <p className="muted">No price yet.</p>;
  if (debtCents === 0)
    return (
      <p className="muted">
        Without debt the vault has no ratio limit and cannot be liquidated at any price.
      </p>
    );
  const at = whatIfPrice(priceCents, percent);
  const ratio = ratioAt(collateralSats, debtCents, at);
  const band =
    ratio === null || ratio >= warn ? 'Active' : ratio >= liq ? 'Warning' : 'Liquidation';
  // Where on the slider the vault is liquidated (in % of the current price), when it is on it.
  const liqPercent =
    liquidationPriceCents === null ? null : Math.ceil((liquidationPriceCents * 100) / priceCents);
  const onSlider = liqPercent !== null && liqPercent >= 10 && liqPercent <= 200;
  return (
    <div className="whatif">
      <label htmlFor="whatif-slider" className="muted small">
        BTC price: <strong className="num">{usd(at)}</strong> ({percent - 100 >= 0 ? '+' : ''}
        {percent - 100} %)
      </label>
      <input
        id="whatif-slider"
        type="range"
        min={10}
        max={200}
        step={1}
        value={percent}
        onChange={(e) => setPercent(Number(e.target.value))}
        data-testid="whatif-slider"
        aria-valuetext={`${usd(at)}`}
        list={onSlider ? 'whatif-marks' : undefined}
      />
      {onSlider && (
        <datalist id="whatif-marks">
          <option value={liqPercent} label="liquidation" />
        </datalist>
      )}
      {liquidationPriceCents !== null && (
        <p className="muted small" data-testid="whatif-liquidation">
          Liquidated under <strong className="num">{usd(liquidationPriceCents)}</strong> (
          {fromNow(liquidationPriceCents, priceCents)} % from now)
          {onSlider ? ', the mark on the slider' : ''}.
        </p>
      )}
      <div className="row gap">
        <span className="num big-ish" data-testid="whatif-ratio">
          {pct(ratio)}
        </span>
        <span
          className={`badge badge-${band === 'Active' ? 'active' : band === 'Warning' ? 'warning' : 'liquidating'}`}
        >
          {band}
        </span>
      </div>
      <button type="button" className="button ghost small" onClick={() => setPercent(100)}>
        Reset to the current price
      </button>
    </div>
  );
}

/** "-3.8", "+12.0": how far `cents` is from `nowCents`, in % with one decimal. */
function fromNow(cents: number, nowCents: number): string {
  const tenths = Math.round(((cents - nowCents) * 1_000) / nowCents);
  return `${tenths >= 0 ? '+' : '-'}${(Math.abs(tenths) / 10).toFixed(1)}`;
}

/** "Repay X or add Y to get back above 160 %", at the current price. */
function BackTo({
  vault,
  priceCents,
  warn,
}: {
  vault: { collateralSats: number; debtCents: number };
  priceCents: number | null;
  warn: number;
}) {
  if (priceCents === null) return null;
  const need = backTo(vault.collateralSats, vault.debtCents, priceCents, warn);
  if (!need) return null;
  return (
    <strong className="back-to" data-testid="back-to">
      {' '}
      Repay {bsusd(need.repayCents)} or add {btc(need.addSats)} BTC to get back to {pct(warn)} at{' '}
      {usd(priceCents)}.
    </strong>
  );
}
