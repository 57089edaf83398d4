/** Small building blocks: states, badges, amounts, bars, dialogs, errors. */
import { useEffect, useRef, type ReactNode } from 'react';
import type { ApiCallError } from '../api/client';
import { btc, bsusd, pct, satsText, usd } from '../lib/format';

export type VaultState = 'pending' | 'active' | 'warning' | 'liquidating' | 'liquidated' | 'closed';

const STATE_LABEL: Record<VaultState, string> = {
  pending: 'Pending',
  active: 'Active',
  warning: 'Warning',
  liquidating: 'Liquidating',
  liquidated: 'Liquidated',
  closed: 'Closed',
};

export function StateBadge({ state, testId }: { state: VaultState; testId?: string }) {
  return (
    <span
      className={`badge badge-${state}`}
      data-testid={testId ?? 'vault-state'}
      data-state={state}
    >
      {STATE_LABEL[state]}
    </span>
  );
}

export function Btc({ sats, showSats = true }: { sats: number; showSats?: boolean }) {
  return (
    <span className="amount">
      <span className="num">{btc(sats)}</span> <span className="unit">BTC</span>
      {showSats && <span className="sub">{satsText(sats)}</span>}
    </span>
  );
}

export function BsUsd({ cents }: { cents: number }) {
  return <span className="amount num">{bsusd(cents)}</span>;
}

export function Usd({ cents }: { cents: number | null }) {
  return <span className="num">{cents === null ? '—' : usd(cents)}</span>;
}

/** A health bar: where the ratio sits between 100 % and 250 %, with the 150 % and 160 % marks. */
/** How a ratio reads against the vault rules: no debt, liquidatable, warning, or healthy. */
export function healthTone(
  ratioBps: number | null,
  liquidationBps: number,
  warningBps: number,
): 'none' | 'danger' | 'warning' | 'ok' {
  if (ratioBps === null) return 'none';
  if (ratioBps < liquidationBps) return 'danger';
  return ratioBps < warningBps ? 'warning' : 'ok';
}

export function HealthBar({
  ratioBps,
  liquidationBps = 15_000,
  warningBps = 16_000,
}: {
  ratioBps: number | null;
  liquidationBps?: number;
  warningBps?: number;
}) {
  const lo = 10_000;
  const hi = 25_000;
  const at = (bps: number) => Math.max(0, Math.min(100, ((bps - lo) / (hi - lo)) * 100));
  const tone = healthTone(ratioBps, liquidationBps, warningBps);
  return (
    <div
      className="healthbar"
      // Without debt there is no ratio to measure: a picture of a full bar, named so.
      {...(ratioBps === null
        ? { role: 'img', 'aria-label': 'Collateral ratio: no debt' }
        : {
            role: 'meter',
            'aria-label': 'Collateral ratio',
            'aria-valuemin': 100,
            'aria-valuemax': 250,
            'aria-valuenow': Math.min(250, Math.max(100, ratioBps / 100)),
            'aria-valuetext': pct(ratioBps),
          })}
    >
      <div
        className={`healthbar-fill tone-${tone}`}
        style={{ width: `${ratioBps === null ? 100 : at(ratioBps)}%` }}
      />
      <div className="healthbar-mark danger" style={{ left: `${at(liquidationBps)}%` }} />
      <div className="healthbar-mark warning" style={{ left: `${at(warningBps)}%` }} />
    </div>
  );
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {what}…
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty" data-testid="empty-state">
      <h3>{title}</h3>
      {children}
    </div>
  );
}

/** An error as a plain sentence (the core's message says what to do next). */
export function ErrorNote({
  error,
  testId = 'error',
}: {
  error: ApiCallError | Error | null | undefined;
  testId?: string;
}) {
  if (!error) return null;
  const code = 'code' in error ? String(error.code) : null;
  return (
    <div className="error-note" role="alert" data-testid={testId} data-code={code ?? undefined}>
      {error.message}
    </div>
  );
}

export function Card({
  title,
  children,
  actions,
  className = '',
  testId,
}: {
  title?: ReactNode;
  children: ReactNode;
  actions?: ReactNode;
  className?: string;
  testId?: string;
}) {
  return (
    <section className={`card ${className}`} data-testid={testId}>
      {(title || actions) && (
        <header className="card-head">
          {title && <h2>{title}</h2>}
          {actions}
        </header>
      )}
      {children}
    </section>
  );
}

export function Stat({
  label,
  children,
  hint,
  testId,
}: {
  label: string;
  children: ReactNode;
  hint?: ReactNode;
  testId?: string;
}) {
  return (
    <div className="stat" data-testid={testId}>
      <div className="stat-label">{label}</div>
      <div className="stat-value">{children}</div>
      {hint && <div className="stat-hint">{hint}</div>}
    </div>
  );
}

/** A modal dialog on the native <dialog>: focus stays inside, Escape closes. */
export function Dialog({
  open,
  title,
  onClose,
  children,
  testId,
}: {
  open: boolean;
  title: string;
  onClose: () => void;
  children: ReactNode;
  testId?: string;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) {
      d.showModal();
      // showModal focuses the first control, the × in the header, so Enter would cancel; the
      // primary action is what a review offers first.
      d.querySelector<HTMLElement>('.dialog-body .button.primary:not(:disabled)')?.focus();
    }
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} className="dialog" onClose={onClose} aria-label={title} data-testid={testId}>
      {open && (
        <>
          <header className="dialog-head">
            <h2>{title}</h2>
            <button type="button" className="icon-button" onClick={onClose} aria-label="Close">
              ×
            </button>
          </header>
          <div className="dialog-body">{children}</div>
        </>
      )}
    </dialog>
  );
}

export function Field({
  label,
  hint,
  children,
  htmlFor,
}: {
  label: string;
  hint?: ReactNode;
  children: ReactNode;
  htmlFor: string;
}) {
  return (
    <div className="field">
      <label htmlFor={htmlFor}>{label}</label>
      {children}
      {hint && <div className="field-hint">{hint}</div>}
    </div>
  );
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  return (
    <button
      type="button"
      className="button ghost small"
      onClick={() => {
        void navigator.clipboard?.writeText(text);
      }}
    >
      {label}
    </button>
  );
}

/** Saves text or bytes as a file the person chooses where to keep. */
export function download(name: string, content: BlobPart, type = 'application/octet-stream'): void {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1_000);
}

/** base64 → bytes, for binary PSBT files. */
export function fromBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
