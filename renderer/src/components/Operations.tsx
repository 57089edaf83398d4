/**
 * Vault operations (SPEC §9), each with a review step before anything happens, and the signing
 * device's prompts while it signs.
 */
import { useCallback, useEffect, useState } from 'react';
import type { Result } from '../../../core/api/contract';
import { useApi, useApiMutation, useEvents } from '../api/context';
import {
  btc,
  btcAmountProblem,
  bsusd,
  dollars,
  maxDebtAt,
  parseBtc,
  parseDollars,
  pct,
  priceAtRatio,
  ratioAt,
  satsText,
  shortHash,
  usd,
} from '../lib/format';
import { addressProblem } from '../lib/address';
import { Btc, Dialog, download, ErrorNote, Field, fromBase64 } from './ui';

type Vault = Result<'vaults.get'>;
type Tab = 'mint' | 'repay' | 'withdraw' | 'close' | 'exit' | 'return' | 'sweep';
/** A form says whether it is busy: its review dialog open (a result shows in it), or signing. */
type OnBusyChange = (busy: boolean) => void;

/** Tells `onBusyChange` whenever `busy` changes, and that it is no longer busy when it goes. */
function useReportBusy(busy: boolean, onBusyChange: OnBusyChange) {
  useEffect(() => {
    onBusyChange(busy);
    return () => onBusyChange(false);
  }, [busy, onBusyChange]);
}

export function Operations({ vault }: { vault: Vault }) {
  const open = ['active', 'warning'].includes(vault.state);
  const tabs: { id: Tab; label: string; enabled: boolean }[] = [
    // An emptied vault (after an exit, say) has nothing to mint against or close.
    { id: 'mint', label: 'Mint', enabled: open && vault.collateralSats > 0 },
    {
      id: 'repay',
      label: 'Repay',
      // Liquidating too: a repay that brings the vault to 160 % before any take cures the auction.
      enabled:
        vault.debtCents > 0 &&
        ['pending', 'active', 'warning', 'liquidating'].includes(vault.state),
    },
    { id: 'withdraw', label: 'Withdraw', enabled: open && vault.collateralSats > 0 },
    {
      id: 'close',
      label: 'Close',
      enabled: open && vault.debtCents === 0 && vault.collateralSats > 0,
    },
    {
      id: 'exit',
      label: 'Emergency exit',
      enabled: ['active', 'warning'].includes(vault.state) && vault.collateralSats > 0,
    },
    {
      id: 'return',
      label: 'Return address',
      enabled: !['liquidated', 'closed'].includes(vault.state),
    },
    {
      id: 'sweep',
      label: 'Sweep',
      enabled: ['liquidated', 'closed'].includes(vault.state) && vault.collateralSats > 0,
    },
  ];
  const available = tabs.filter((t) => t.enabled);
  // A vault in Warning or at auction opens on Repay: what gets it out, not more debt.
  const first =
    ['warning', 'liquidating'].includes(vault.state) && available.some((t) => t.id === 'repay')
      ? 'repay'
      : (available[0]?.id ?? null);
  // Until the person picks a tab, the default follows the vault (a page first drawn from a
  // cached Active vault that is in Warning by now moves to Repay).
  const [tab, setTab] = useState<Tab | null>(null);
  // The shown tab's form is busy: a review or a result is open in it.
  const [busy, setBusy] = useState(false);
  // The chosen tab stays open while the vault's state disables it only as long as its form is
  // busy, so a review or a result stays on screen; then the page goes back to the vault's default
  // (an exit completed later by the guardian's file leaves no Exit form on an emptied vault).
  const picked = tabs.find((t) => t.id === tab);
  if (picked && !picked.enabled && !busy) setTab(null);
  const current = tabs.find((t) => t.id === (tab ?? first)) ?? null;
  if (
    !current ||
    (vault.state === 'liquidated' && current.id !== 'sweep') ||
    (vault.state === 'closed' && current.id !== 'close' && current.id !== 'sweep')
  ) {
    return (
      <p className="muted">This vault is {vault.state}; there is nothing more to do with it.</p>
    );
  }
  return (
    <div className="ops" data-testid="operations">
      <div
        className="tabs"
        role="tablist"
        aria-label="Operations"
        onKeyDown={(e) => {
          // Arrow keys, Home and End move between the tabs that can be chosen (WAI-ARIA tabs).
          const usable = tabs.filter((t) => t.enabled || t.id === current.id);
          const at = usable.findIndex((t) => t.id === current.id);
          const to =
            e.key === 'ArrowRight'
              ? usable[(at + 1) % usable.length]
              : e.key === 'ArrowLeft'
                ? usable[(at - 1 + usable.length) % usable.length]
                : e.key === 'Home'
                  ? usable[0]
                  : e.key === 'End'
                    ? usable[usable.length - 1]
                    : undefined;
          if (!to) return;
          e.preventDefault();
          setTab(to.id);
          document.getElementById(`tab-${to.id}`)?.focus();
        }}
      >
        {tabs.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            id={`tab-${t.id}`}
            aria-selected={current.id === t.id}
            aria-controls={`panel-${t.id}`}
            tabIndex={current.id === t.id ? 0 : -1}
            className={`tab ${current.id === t.id ? 'active' : ''}`}
            disabled={!t.enabled && current.id !== t.id}
            onClick={() => setTab(t.id)}
            data-testid={`op-tab-${t.id}`}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div
        role="tabpanel"
        id={`panel-${current.id}`}
        aria-labelledby={`tab-${current.id}`}
        className="tab-panel"
      >
        {current.id === 'mint' && <DebtForm vault={vault} kind="mint" onBusyChange={setBusy} />}
        {current.id === 'repay' && <DebtForm vault={vault} kind="repay" onBusyChange={setBusy} />}
        {current.id === 'withdraw' && (
          <SpendForm vault={vault} kind="withdraw" onBusyChange={setBusy} />
        )}
        {current.id === 'close' && <SpendForm vault={vault} kind="close" onBusyChange={setBusy} />}
        {current.id === 'exit' && <SpendForm vault={vault} kind="exit" onBusyChange={setBusy} />}
        {current.id === 'return' && <ReturnAddressForm vault={vault} />}
        {current.id === 'sweep' && <SpendForm vault={vault} kind="sweep" onBusyChange={setBusy} />}
      </div>
    </div>
  );
}

/** Mint or repay: amount → review (debt and ratio after) → confirm. */
function DebtForm({
  vault,
  kind,
  onBusyChange,
}: {
  vault: Vault;
  kind: 'mint' | 'repay';
  onBusyChange: OnBusyChange;
}) {
  const [amount, setAmount] = useState('');
  // "All" repays the whole debt as it stands when the repay runs (a cent of fee may accrue
  // between this click and the confirmation).
  const [all, setAll] = useState(false);
  const [review, setReview] = useState(false);
  const price = useApi('price.get', {});
  const status = useApi('status.get', {});
  const mutation = useApiMutation(kind === 'mint' ? 'vaults.mint' : 'vaults.repay');
  useReportBusy(review || mutation.isPending, onBusyChange);
  const cents = parseDollars(amount);
  const debtAfter =
    cents === null ? null : kind === 'mint' ? vault.debtCents + cents : vault.debtCents - cents;
  const p = price.data?.priceCents ?? null;
  const ratioAfter =
    debtAfter === null || p === null || debtAfter < 0
      ? null
      : ratioAt(vault.collateralSats, debtAfter, p);
  const params = status.data?.params;
  const balance = status.data?.bsusdBalanceCents ?? 0;
  const [targetPct, setTargetPct] = useState('200');
  const targetBps = Math.round(Number(targetPct) * 100);
  const targetOk = Number.isFinite(targetBps) && targetBps >= (params?.warningRatioBps ?? 16_000);
  const maxMintAt = (bps: number) =>
    p ? Math.max(0, maxDebtAt(vault.collateralSats, p, bps) - vault.debtCents) : null;
  const maxMint = params ? maxMintAt(params.liquidationRatioBps) : null;
  const safeMax = targetOk ? maxMintAt(targetBps) : null;
  const verb = kind === 'mint' ? 'Mint' : 'Repay';
  const ratioNow = p === null ? null : ratioAt(vault.collateralSats, vault.debtCents, p);
  const liqRatio = params?.liquidationRatioBps ?? 15_000;
  const warnRatio = params?.warningRatioBps ?? 16_000;
  const liqNow = priceAtRatio(vault.collateralSats, vault.debtCents, liqRatio);
  const liqAfter =
    debtAfter === null ? null : priceAtRatio(vault.collateralSats, debtAfter, liqRatio);
  const floor = params?.debtFloorCents ?? 0;
  // What stops the operation before its review, in words (the node checks the same again).
  const problem =
    cents === null || debtAfter === null
      ? null
      : kind === 'mint'
        ? ratioAfter !== null && ratioAfter < liqRatio
          ? `That puts the vault at ${pct(ratioAfter)}, under ${pct(liqRatio)}: it would be liquidated at once. Mint at most ${bsusd(maxMint ?? 0)}${safeMax !== null ? `, or ${bsusd(safeMax)} to stay at ${pct(targetBps)}` : ''}.`
          : debtAfter > 0 && debtAfter < floor
            ? `The debt must be at least ${bsusd(floor)}.`
            : null
        : cents > vault.debtCents
          ? `The vault owes ${bsusd(vault.debtCents)}; repay at most that.`
          : cents > balance
            ? `You hold ${bsusd(balance)}; that is less than ${bsusd(cents)}.`
            : debtAfter > 0 && debtAfter < floor
              ? `Repay all of it, or leave at least ${bsusd(floor)} of debt.`
              : null;
  const risk =
    problem !== null || ratioAfter === null
      ? null
      : ratioAfter < warnRatio
        ? `At ${pct(ratioAfter)} the vault is in Warning: a fall of ${pct(10_000 - Math.floor((liqRatio * 10_000) / ratioAfter))} in the BTC price liquidates it, with a ${pct(params?.penaltyBps ?? 0)} penalty.`
        : null;
  const tone = (bps: number | null) =>
    bps === null ? '' : bps < liqRatio ? 'error-text' : bps < warnRatio ? 'warn-text' : 'ok-text';

  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        if (cents) {
          mutation.reset();
          setReview(true);
        }
      }}
    >
      {kind === 'mint' && !vault.returnAddress && (
        <p className="warn-text" data-testid="mint-needs-return">
          Set a return address first (the Return address tab): if this vault is ever liquidated, the
          rest of its collateral goes there.
        </p>
      )}
      {kind === 'mint' && vault.pendingSpend && (
        <p className="muted" data-testid="vault-frozen">
          A transaction from this vault is in flight; minting waits until it confirms (one change at
          a time).
        </p>
      )}
      <Field
        label={`${verb} bsUSD`}
        htmlFor={`${kind}-amount`}
        hint={
          kind === 'mint'
            ? maxMint !== null &&
              `Under ${pct(liqRatio)} the vault is liquidated; ${bsusd(maxMint)} more would put it right there. The debt must be at least ${bsusd(floor)}.`
            : `You hold ${bsusd(balance)}; the vault owes ${bsusd(vault.debtCents)}. Repay all of it, or leave at least ${bsusd(floor)}.`
        }
      >
        <div className="row gap">
          <input
            id={`${kind}-amount`}
            className="input grow"
            value={amount}
            onChange={(e) => {
              setAmount(e.target.value);
              setAll(false);
            }}
            inputMode="decimal"
            placeholder="0.00"
            aria-invalid={amount !== '' && !cents}
            data-testid={`${kind}-amount`}
          />
          <span className="unit">bsUSD</span>
          {kind === 'repay' && (
            <button
              type="button"
              className="button ghost small"
              onClick={() => {
                setAmount(dollars(Math.min(vault.debtCents, balance)).replace(/,/g, ''));
                setAll(vault.debtCents <= balance);
              }}
            >
              All
            </button>
          )}
          {kind === 'mint' && (
            <>
              <button
                type="button"
                className="button ghost small"
                disabled={!safeMax}
                onClick={() => safeMax && setAmount(dollars(safeMax).replace(/,/g, ''))}
                data-testid="mint-safe-max"
              >
                Safe max
              </button>
              <label className="muted small" htmlFor="mint-target">
                at
              </label>
              <input
                id="mint-target"
                className="input tiny"
                value={targetPct}
                onChange={(e) => setTargetPct(e.target.value)}
                inputMode="decimal"
                aria-invalid={!targetOk}
                aria-label="Target ratio for Safe max, in percent"
                data-testid="mint-target"
              />
              <span className="unit">%</span>
            </>
          )}
        </div>
      </Field>
      {kind === 'mint' && !targetOk && (
        <div className="error-note">
          Safe max needs a target ratio of at least {pct(warnRatio)}, e.g. 200.
        </div>
      )}
      {amount !== '' && !cents && (
        <div className="error-note">
          Write an amount in bsUSD with at most 2 decimals, e.g. 4500.00.
        </div>
      )}
      {cents !== null && (
        <p className="small" data-testid={`${kind}-before-after`}>
          Ratio{' '}
          <span className={tone(ratioNow)}>
            {vault.debtCents === 0 ? 'no debt' : pct(ratioNow)}
          </span>{' '}
          →{' '}
          <span className={tone(ratioAfter)} data-testid={`${kind}-ratio-after`}>
            {debtAfter === 0 ? 'no debt' : pct(ratioAfter)}
          </span>
          {' · '}liquidated under {liqNow === null ? 'never' : usd(liqNow)} →{' '}
          <span className={tone(ratioAfter)} data-testid={`${kind}-liquidation-after`}>
            {liqAfter === null ? 'never' : usd(liqAfter)}
          </span>
          {p !== null && <> (BTC now {usd(p)})</>}
        </p>
      )}
      {problem && (
        <div className="error-note" data-testid={`${kind}-problem`}>
          {problem}
        </div>
      )}
      {risk && (
        <p className="warn-text small" data-testid={`${kind}-risk`}>
          {risk}
        </p>
      )}
      <div className="actions">
        <button
          type="submit"
          className="button primary"
          disabled={!cents || problem !== null}
          data-testid={`${kind}-review`}
        >
          Review
        </button>
      </div>
      <Dialog
        open={review}
        title={`${verb} ${cents ? bsusd(cents) : ''}`}
        onClose={() => setReview(false)}
        testId={`${kind}-dialog`}
      >
        {mutation.isSuccess ? (
          <div className="result ok" data-testid="op-result">
            <p>
              Done. Vault #{vault.id} now owes <strong>{bsusd(mutation.data.debtCents)}</strong>
              {mutation.data.ratioBps !== null && <> at {pct(mutation.data.ratioBps)}</>}.
            </p>
            <div className="actions">
              <button
                type="button"
                className="button primary"
                onClick={() => {
                  setReview(false);
                  setAmount('');
                  mutation.reset();
                }}
                autoFocus
                data-testid="op-done"
              >
                Close
              </button>
            </div>
          </div>
        ) : (
          <>
            <dl className="review">
              <dt>Debt now</dt>
              <dd>{bsusd(vault.debtCents)}</dd>
              <dt>Debt after</dt>
              <dd data-testid="review-debt-after">
                {debtAfter === null ? '—' : bsusd(Math.max(0, debtAfter))}
              </dd>
              <dt>Ratio after</dt>
              <dd className={tone(ratioAfter)}>
                {debtAfter === 0 ? 'no debt' : pct(ratioAfter)} at {p ? usd(p) : 'no price'}
              </dd>
              <dt>Liquidated under</dt>
              <dd className={tone(ratioAfter)} data-testid="review-liquidation-after">
                {liqAfter === null ? 'no debt' : usd(liqAfter)}
              </dd>
              <dt>Your bsUSD after</dt>
              <dd>
                {cents === null ? '—' : bsusd(kind === 'mint' ? balance + cents : balance - cents)}
              </dd>
            </dl>
            {kind === 'mint' && (
              <p className="muted small">
                Minting needs no signature: it is an entry in the bsUSD ledger. Your collateral
                stays where it is.
              </p>
            )}
            <ErrorNote error={mutation.error} />
            <div className="actions">
              <button type="button" className="button ghost" onClick={() => setReview(false)}>
                Cancel
              </button>
              <button
                type="button"
                className="button primary"
                disabled={mutation.isPending}
                onClick={() =>
                  cents &&
                  mutation.mutate({
                    vaultId: vault.id,
                    amountCents: cents,
                    ...(kind === 'repay' && all ? { all: true } : {}),
                  })
                }
                autoFocus
                data-testid={`${kind}-confirm`}
              >
                {mutation.isPending ? 'Working…' : `Confirm ${verb.toLowerCase()}`}
              </button>
            </div>
          </>
        )}
      </Dialog>
    </form>
  );
}

type SpendKind = 'withdraw' | 'close' | 'exit' | 'sweep';
const SPEND = {
  withdraw: {
    verb: 'Withdraw',
    preview: 'vaults.previewWithdraw',
    run: 'vaults.withdraw',
    keys: 'your key and the protocol key',
  },
  close: {
    verb: 'Close vault',
    preview: 'vaults.previewClose',
    run: 'vaults.close',
    keys: 'your key and the protocol key',
  },
  exit: {
    verb: 'Emergency exit',
    preview: 'vaults.previewEmergencyExit',
    run: 'vaults.emergencyExit',
    keys: 'your key and the guardian key (no protocol key)',
  },
  sweep: {
    verb: 'Sweep',
    preview: 'vaults.previewSweep',
    run: 'vaults.sweep',
    keys: 'your key and the protocol key',
  },
} as const;

/** Withdraw, close or emergency exit: form → preview (the planned transaction) → sign and send. */
function SpendForm({
  vault,
  kind,
  onBusyChange,
}: {
  vault: Vault;
  kind: SpendKind;
  onBusyChange: OnBusyChange;
}) {
  const spec = SPEND[kind];
  const [amount, setAmount] = useState('');
  const [destination, setDestination] = useState('');
  const [open, setOpen] = useState(false);
  const [prompts, setPrompts] = useState<{ text: string; state: string; level: string }[]>([]);
  const status = useApi('status.get', {});
  const settings = useApi('settings.get', {});
  // The guardian signs by file: signing here sends nothing yet.
  const guardianByFile = kind === 'exit' && settings.data?.keys.guardian.kind === 'file';
  const previewW = useApiMutation('vaults.previewWithdraw');
  const previewC = useApiMutation('vaults.previewClose');
  const previewE = useApiMutation('vaults.previewEmergencyExit');
  const runW = useApiMutation('vaults.withdraw');
  const runC = useApiMutation('vaults.close');
  const runE = useApiMutation('vaults.emergencyExit');
  const previewS = useApiMutation('vaults.previewSweep');
  const runS = useApiMutation('vaults.sweep');
  const newAddress = useApiMutation('regtest.newAddress');
  const destinationProblem = addressProblem(destination, status.data?.network);
  const preview = { withdraw: previewW, close: previewC, exit: previewE, sweep: previewS }[kind];
  const run = { withdraw: runW, close: runC, exit: runE, sweep: runS }[kind];
  // Its result shows in the dialog: while that is open, or a signature is on its way, the form
  // keeps its tab.
  useReportBusy(open || run.isPending, onBusyChange);
  const sats = kind === 'withdraw' ? parseBtc(amount) : null;
  const amountProblem =
    kind === 'withdraw'
      ? btcAmountProblem(amount, {
          atMostSats: vault.collateralSats,
          tooMuch: (max) => `The vault holds ${max} BTC; that is more.`,
        })
      : null;
  const onPrompt = useCallback(
    (e: { payload: { text: string; state: string; level: string } }) =>
      setPrompts((xs) => [...xs, e.payload]),
    [],
  );
  useEvents('signer.prompt', onPrompt);

  const startReview = () => {
    setPrompts([]);
    run.reset();
    const dest = destination.trim();
    if (kind === 'withdraw')
      previewW.mutate({ vaultId: vault.id, amountSats: sats ?? 0, destination: dest });
    else if (kind === 'close') previewC.mutate({ vaultId: vault.id, destination: dest });
    else if (kind === 'sweep') previewS.mutate({ vaultId: vault.id, destination: dest });
    else previewE.mutate({ vaultId: vault.id, destination: dest });
    setOpen(true);
  };
  const p = preview.data;
  // Signs exactly the reviewed draft, by its id.
  const execute = () => {
    if (!p) return;
    setPrompts([]);
    const draft = { vaultId: vault.id, spendId: p.spendId };
    if (kind === 'withdraw') runW.mutate(draft);
    else if (kind === 'close') runC.mutate(draft);
    else if (kind === 'sweep') runS.mutate(draft);
    else runE.mutate(draft);
  };

  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        startReview();
      }}
    >
      {kind === 'close' && (
        <p className="muted">
          Sends all of the collateral, less the network fee, to your address and closes the vault.
        </p>
      )}
      {kind === 'exit' && (
        <p className="warn-text">
          Your key and the guardian&apos;s move all the collateral out without the protocol key.
          While the protocol runs, this takes a vault with no debt: repay first.
        </p>
      )}
      {kind === 'sweep' && (
        <p className="muted">
          Coins arrived at this {vault.state} vault&apos;s address after it ended. Send them, less
          the network fee, back to one of your wallets.
        </p>
      )}
      {kind === 'withdraw' && (
        <Field
          label="Amount in BTC"
          htmlFor="withdraw-amount"
          hint={`The vault holds ${btc(vault.collateralSats)} BTC. The ratio must stay at or above 150 %.`}
        >
          <input
            id="withdraw-amount"
            className="input"
            value={amount}
            onChange={(e) => setAmount(e.target.value)}
            inputMode="decimal"
            placeholder="0.00000000"
            data-testid="withdraw-amount"
          />
        </Field>
      )}
      {kind === 'withdraw' && amountProblem && (
        <div className="error-note" data-testid="withdraw-amount-problem">
          {amountProblem}
        </div>
      )}
      <Field label="Send to (your Bitcoin address)" htmlFor={`${kind}-destination`}>
        <div className="row gap">
          <input
            id={`${kind}-destination`}
            className="input grow"
            value={destination}
            onChange={(e) => setDestination(e.target.value)}
            spellCheck={false}
            placeholder="bc1… / tb1… / bcrt1…"
            data-testid={`${kind}-destination`}
          />
          {status.data?.regtest && (
            <button
              type="button"
              className="button ghost small"
              onClick={() => newAddress.mutate({}, { onSuccess: (r) => setDestination(r.address) })}
              data-testid={`${kind}-use-wallet`}
            >
              Use a regtest wallet address
            </button>
          )}
        </div>
      </Field>
      {destinationProblem && (
        <div className="error-note" data-testid={`${kind}-destination-problem`}>
          {destinationProblem}
        </div>
      )}
      <div className="actions">
        <button
          type="submit"
          className="button primary"
          disabled={
            !destination.trim() || destinationProblem !== null || (kind === 'withdraw' && !sats)
          }
          data-testid={`${kind}-review`}
        >
          Review
        </button>
      </div>

      <Dialog
        open={open}
        title={`Review: ${spec.verb.toLowerCase()} from vault #${vault.id}`}
        onClose={() => setOpen(false)}
        testId={`${kind}-dialog`}
      >
        {preview.isPending && <div className="loading">Planning the transaction…</div>}
        <ErrorNote error={preview.error} />
        {p && !run.isSuccess && (
          <>
            <table className="table compact" data-testid="review-outputs">
              <thead>
                <tr>
                  <th scope="col">Output</th>
                  <th scope="col" className="right">
                    Amount
                  </th>
                </tr>
              </thead>
              <tbody>
                {p.outputs.map((o, i) => (
                  <tr key={i}>
                    <td>
                      <code className="address small">{o.address}</code>
                      <div className="muted small">
                        {o.change ? 'change back to the vault' : 'to you'}
                      </div>
                    </td>
                    <td className="right">
                      <Btc sats={o.amountSats} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <dl className="review">
              <dt>Network fee</dt>
              <dd data-testid="review-fee">
                {satsText(p.feeSats)} ({Math.round(p.feeRateSatPerKvB / 1000)} sat/vB)
              </dd>
              <dt>Ratio after</dt>
              <dd>{p.ratioAfterBps === null ? 'no debt' : pct(p.ratioAfterBps)}</dd>
              <dt>Signed by</dt>
              <dd>{spec.keys}</dd>
              <dt>Spends</dt>
              <dd>
                {p.inputs.length} coin{p.inputs.length === 1 ? '' : 's'} of the vault
              </dd>
            </dl>
            <div className="row gap wrap">
              <button
                type="button"
                className="button ghost small"
                onClick={() =>
                  download(`vault-${vault.id}-${p.kind}.psbt`, fromBase64(p.psbtBase64))
                }
                data-testid="export-psbt"
              >
                Export PSBT file
              </button>
              <span className="muted small">
                Unsigned, for checking in Sparrow, Electrum or Bitcoin Core.
              </span>
            </div>
            {(run.isPending || prompts.length > 0) && (
              <div className="device-box" aria-live="polite" data-testid="signing-prompts">
                {prompts.length === 0 && <p>Preparing the signature…</p>}
                {prompts.map((pr, i) => (
                  <p key={i} className={`level-${pr.level}`}>
                    {pr.text}
                  </p>
                ))}
              </div>
            )}
            {guardianByFile && (
              <p className="small" data-testid="guardian-next">
                Nothing is sent yet: you sign with your key, then save the PSBT for the guardian.
                The transaction goes out when their signed file is imported here, or when they send
                it themselves.
              </p>
            )}
            <ErrorNote error={run.error} />
            <div className="actions">
              <button type="button" className="button ghost" onClick={() => setOpen(false)}>
                Cancel
              </button>
              <button
                type="button"
                className="button primary"
                disabled={run.isPending}
                onClick={execute}
                autoFocus
                data-testid={`${kind}-confirm`}
              >
                {run.isPending
                  ? 'Signing…'
                  : guardianByFile
                    ? 'Sign; the guardian signs next'
                    : 'Sign and send'}
              </button>
            </div>
          </>
        )}
        {run.isSuccess && (
          <div className="result ok" data-testid="op-result">
            <p>
              {run.data.state === 'awaiting-guardian'
                ? "Signed with your key and kept. Save its PSBT for the guardian; it is sent when the guardian's signed file is imported."
                : 'Signed and broadcast. It counts once it confirms.'}
            </p>
            <p>
              Transaction <code data-testid="result-txid">{shortHash(run.data.txid)}</code>
            </p>
            <div className="actions">
              <button
                type="button"
                className="button primary"
                onClick={() => {
                  // Sent: the form starts empty again, so nothing is sent twice by mistake.
                  setOpen(false);
                  setAmount('');
                  setDestination('');
                  run.reset();
                }}
                autoFocus
                data-testid="op-done"
              >
                Close
              </button>
            </div>
          </div>
        )}
      </Dialog>
    </form>
  );
}

function ReturnAddressForm({ vault }: { vault: Vault }) {
  const [address, setAddress] = useState(vault.returnAddress ?? '');
  const status = useApi('status.get', {});
  const problem = addressProblem(address, status.data?.network);
  const set = useApiMutation('vaults.setReturnAddress');
  const newAddress = useApiMutation('regtest.newAddress');
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        set.mutate({ vaultId: vault.id, address: address.trim() });
      }}
    >
      <Field
        label="Return address"
        htmlFor="return-address"
        hint="If this vault is liquidated, the collateral left after the auction is sent here."
      >
        <div className="row gap">
          <input
            id="return-address"
            className="input grow"
            value={address}
            onChange={(e) => setAddress(e.target.value)}
            spellCheck={false}
          />
          {status.data?.regtest && (
            <button
              type="button"
              className="button ghost small"
              onClick={() => newAddress.mutate({}, { onSuccess: (r) => setAddress(r.address) })}
            >
              Use a regtest wallet address
            </button>
          )}
        </div>
      </Field>
      {problem && (
        <div className="error-note" data-testid="return-address-problem">
          {problem}
        </div>
      )}
      <ErrorNote error={set.error} />
      {set.isSuccess && <p className="ok-text">Saved.</p>}
      <div className="actions">
        <button
          type="submit"
          className="button primary"
          disabled={!address.trim() || problem !== null || set.isPending}
        >
          Save
        </button>
      </div>
    </form>
  );
}
