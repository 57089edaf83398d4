/**
 * Settings → Recovery kit: what rebuilds every vault without BitStable (SPEC §9). The export and
 * the per-key-set files come first; each key set's vaults are summed up in one line and listed a
 * page at a time on demand (all of them are in the exported file), so the card stays short and
 * quick with thousands of vaults.
 */
import { QRCodeSVG } from 'qrcode.react';
import { useEffect, useState } from 'react';
import type { Result } from '../../../core/api/contract';
import { useApi } from '../api/context';
import { Card, download, ErrorNote } from './ui';

type Kit = Result<'recoveryKit.get'>;
type KeySet = Kit['keySets'][number];

/** Vaults listed per page when the list is opened. */
const PAGE = 20;
const count = (n: number) => n.toLocaleString('en-US');

/** "1,005 vaults, addresses 0 to 1,004" (the kit lists the vaults by index). */
function vaultsSummary(vaults: KeySet['vaults']): string {
  if (vaults.length === 0) return 'No vault yet';
  const lo = count(vaults[0]!.index);
  const hi = count(vaults[vaults.length - 1]!.index);
  if (vaults.length === 1) return `1 vault, address ${lo}`;
  // Another account's vaults may sit between this person's on a shared key set.
  const whole = vaults[vaults.length - 1]!.index - vaults[0]!.index + 1 === vaults.length;
  const span = whole ? `addresses ${lo} to ${hi}` : `addresses between ${lo} and ${hi}`;
  return `${count(vaults.length)} vaults, ${span}`;
}

/** What the exported file holds, in one sentence. */
function exportNote(sets: number, vaults: number): string {
  const keySets = sets === 1 ? 'the key set' : `all ${count(sets)} key sets`;
  if (vaults === 0) return `The exported kit is one file with ${keySets}; no vault yet.`;
  const addresses = vaults === 1 ? 'its vault' : `all ${count(vaults)} vaults`;
  return `The exported kit is one file with ${keySets} and the addresses of ${addresses}.`;
}

export function RecoveryKitCard() {
  const kit = useApi('recoveryKit.get', {});
  const data = kit.data;
  const total = data?.keySets.reduce((n, s) => n + s.vaults.length, 0) ?? 0;
  return (
    <Card
      title="Recovery kit"
      testId="settings-recovery"
      className="recovery-card"
      actions={
        data && (
          <button
            type="button"
            className="button primary"
            onClick={() =>
              download(
                `bitstable-recovery-kit-${data.network}.json`,
                `${JSON.stringify(data, null, 2)}\n`,
                'application/json',
              )
            }
            data-testid="export-recovery-kit"
          >
            Export recovery kit
          </button>
        )
      }
    >
      <p className="muted">
        For every key set your vaults use: the three keys with their origins, the descriptor, the
        birthday and every vault&apos;s address, with files Sparrow, Bitcoin Core and Electrum
        import as they are. It holds no private keys. Without BitStable, the owner and the guardian
        sign together.
      </p>
      {data && (
        <p className="small" data-testid="recovery-export-note">
          {exportNote(data.keySets.length, total)}
        </p>
      )}
      <ErrorNote error={kit.error} />
      {data && (
        <>
          {data.keySets.map((set, n) => (
            <KeySetSection key={set.descriptor} set={set} n={n} network={data.network} />
          ))}
          <details className="recovery-howto">
            <summary>How to rebuild the vaults in another wallet</summary>
            <ol className="small">
              {data.instructions.map((line) => (
                <li key={line}>{line}</li>
              ))}
            </ol>
          </details>
        </>
      )}
    </Card>
  );
}

function KeySetSection({ set, n, network }: { set: KeySet; n: number; network: string }) {
  const tag = `${network}-set-${n + 1}`;
  const name = `key set ${n + 1}`;
  const [qr, setQr] = useState(false);
  return (
    <section className="recovery-set" data-testid="recovery-key-set">
      <div className="recovery-set-head">
        <h3>
          Key set {n + 1}
          {n === 0 ? ' (in use now)' : ''}
        </h3>
        <span className="muted" data-testid="recovery-vault-summary">
          {vaultsSummary(set.vaults)}
        </span>
      </div>
      <div className="row gap wrap">
        <button
          type="button"
          className="button small"
          onClick={() => download(`bitstable-sparrow-${tag}.txt`, set.sparrow, 'text/plain')}
          data-testid="recovery-file-sparrow"
        >
          Sparrow file
        </button>
        <button
          type="button"
          className="button small"
          onClick={() =>
            download(
              `bitstable-core-importdescriptors-${tag}.json`,
              `${JSON.stringify(set.core, null, 2)}\n`,
              'application/json',
            )
          }
          data-testid="recovery-file-core"
        >
          Bitcoin Core file
        </button>
        <button
          type="button"
          className="button small"
          onClick={() =>
            download(
              `bitstable-electrum-${tag}.json`,
              `${JSON.stringify(set.electrum, null, 2)}\n`,
              'application/json',
            )
          }
          data-testid="recovery-file-electrum"
        >
          Electrum keys
        </button>
        <button
          type="button"
          className="button small"
          onClick={() => download(`bitstable-${tag}.bsms`, set.bsms, 'text/plain')}
          data-testid="recovery-file-bsms"
        >
          BSMS record
        </button>
      </div>
      <p className="muted small">
        {set.birthday === null
          ? 'No vault yet.'
          : `Birthday ${new Date(set.birthday * 1000).toISOString().slice(0, 10)}; scan addresses 0 to ${count(set.scanTo)}.`}
      </p>
      <div className="recovery-descriptor-head">
        <span className="small" id={`recovery-descriptor-${n}`}>
          Descriptor (receive addresses)
        </span>
        <div className="row gap wrap">
          <CopyDescriptor text={set.descriptor} />
          <button
            type="button"
            className="button ghost small"
            aria-expanded={qr}
            onClick={() => setQr(!qr)}
            data-testid="recovery-qr-toggle"
          >
            {qr ? 'Hide QR code' : 'Show QR code'}
          </button>
        </div>
      </div>
      <div className="recovery-descriptor-body">
        <pre
          className="code-block"
          aria-labelledby={`recovery-descriptor-${n}`}
          data-testid="recovery-descriptor"
        >
          {set.descriptor}
        </pre>
        {qr && (
          <figure className="recovery-qr-figure">
            <div className="qr">
              <QRCodeSVG
                value={set.descriptor}
                size={288}
                level="L"
                marginSize={4}
                bgColor="var(--qr-bg)"
                fgColor="var(--qr-fg)"
                role="img"
                aria-label={`QR code of the descriptor of ${name}`}
                title={`QR code of the descriptor of ${name}`}
                data-testid="recovery-qr"
              />
            </div>
            <figcaption className="muted small">
              The descriptor of {name}, for a wallet that scans one. Public keys only: nothing that
              spends.
            </figcaption>
          </figure>
        )}
      </div>
      {set.vaults.length > 0 && <VaultPages vaults={set.vaults} name={name} />}
    </section>
  );
}

/** Copies the descriptor, and says whether the clipboard took it. */
function CopyDescriptor({ text }: { text: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'refused'>('idle');
  useEffect(() => {
    if (state !== 'copied') return;
    const t = setTimeout(() => setState('idle'), 4_000);
    return () => clearTimeout(t);
  }, [state]);
  return (
    <>
      <button
        type="button"
        className="button small"
        onClick={async () => {
          try {
            if (!navigator.clipboard) throw new Error('no clipboard');
            await navigator.clipboard.writeText(text);
            setState('copied');
          } catch {
            setState('refused');
          }
        }}
        data-testid="recovery-copy"
      >
        Copy descriptor
      </button>
      <span
        role="status"
        className={state === 'refused' ? 'error-text small' : 'ok-text small'}
        data-testid="recovery-copy-status"
        data-state={state}
      >
        {state === 'copied' && 'Copied'}
        {state === 'refused' &&
          'The clipboard was refused: select the descriptor below and copy it yourself.'}
      </span>
    </>
  );
}

/** The vaults of a key set, a page at a time, behind a summary that stays closed by default. */
function VaultPages({ vaults, name }: { vaults: KeySet['vaults']; name: string }) {
  const [page, setPage] = useState(0);
  const pages = Math.ceil(vaults.length / PAGE);
  const first = page * PAGE;
  const shown = vaults.slice(first, first + PAGE);
  return (
    <details className="recovery-vaults" data-testid="recovery-vaults">
      <summary>
        Show the vaults&apos; addresses
        {vaults.length > PAGE ? `, ${PAGE} at a time` : ''}
      </summary>
      <table className="table compact recovery-vault-table small">
        <caption className="visually-hidden">Vaults of {name}</caption>
        <thead>
          <tr>
            <th scope="col">Index</th>
            <th scope="col">Address</th>
            <th scope="col">Label</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((v) => (
            <tr key={v.index} data-testid="recovery-vault">
              <td className="num">{v.index}</td>
              <td>
                <code>{v.address}</code>
              </td>
              <td>{v.label ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {pages > 1 && (
        <div className="row gap wrap">
          <button
            type="button"
            className="button ghost small"
            disabled={page === 0}
            onClick={() => setPage(page - 1)}
            data-testid="recovery-vaults-prev"
          >
            Previous {PAGE}
          </button>
          <span className="muted small" aria-live="polite" data-testid="recovery-vaults-range">
            {count(first + 1)} to {count(first + shown.length)} of {count(vaults.length)}
          </span>
          <button
            type="button"
            className="button ghost small"
            disabled={page >= pages - 1}
            onClick={() => setPage(page + 1)}
            data-testid="recovery-vaults-next"
          >
            Next {PAGE}
          </button>
        </div>
      )}
    </details>
  );
}
