/**
 * Transactions waiting for the guardian (SPEC §4): where the guardian is an imported xpub, its
 * signature comes back as a signed PSBT file. Each waiting transaction can be saved as a file for
 * the guardian, completed by importing the signed file, or cancelled (nothing was sent).
 */
import { useState } from 'react';
import { useApi, useApiMutation } from '../api/context';
import { shortHash, when } from '../lib/format';
import { Btc, BsUsd, Card, download, ErrorNote, fromBase64 } from './ui';

type Request = NonNullable<ReturnType<typeof useApi<'spends.awaitingGuardian'>>['data']>[number];

const KIND_TEXT: Record<Request['kind'], string> = {
  settlement: 'Auction settlement',
  'emergency-exit': 'Emergency exit',
  withdraw: 'Withdrawal',
  sweep: 'Sweep',
  close: 'Close',
  redemption: 'Redemption payout',
};

/**
 * Reads what the guardian sent back as text the node reads: a binary PSBT ("psbt" 0xff) as
 * base64, another binary file (a signed transaction, as some wallets save `.txn`) as hex, and
 * text (a PSBT in base64 or hex, or a transaction in hex) as it is.
 */
async function readPsbtFile(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (bytes[0] === 0x70 && bytes[4] === 0xff) {
    let bin = '';
    for (const b of bytes) bin += String.fromCharCode(b);
    return btoa(bin);
  }
  const printable = bytes.every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127));
  if (!printable) return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return new TextDecoder().decode(bytes).trim();
}

/** Every transaction waiting for the guardian, or those of one vault; nothing when there are none. */
export function GuardianRequests({ vaultId }: { vaultId?: number }) {
  const requests = useApi('spends.awaitingGuardian', {});
  const list = (requests.data ?? []).filter((r) => vaultId === undefined || r.vaultId === vaultId);
  // What an import sent, kept after its request leaves the list: the person sees the txid.
  const [sent, setSent] = useState<Sent[]>([]);
  const shownSent = sent.filter((x) => vaultId === undefined || x.vaultId === vaultId);
  const sentNotes = shownSent.map((x) => (
    <div className="banner ok" role="status" key={x.txid} data-testid="guardian-sent">
      <span>
        {KIND_TEXT[x.kind]} of vault #{x.vaultId}: the guardian&apos;s signature was added and the
        transaction broadcast — <code data-testid="guardian-sent-txid">{x.txid}</code>. It counts
        once it confirms.
      </span>
      <button
        type="button"
        className="icon-button"
        aria-label="Dismiss"
        onClick={() => setSent((all) => all.filter((y) => y.txid !== x.txid))}
      >
        ×
      </button>
    </div>
  ));
  if (!list.length && !requests.error) return <>{sentNotes}</>;
  return (
    <>
      {sentNotes}
      <Card title="Waiting for the guardian's signature" testId="guardian-requests">
        <p className="muted">
          The guardian key is not on this computer. Save each transaction as a PSBT file, have the
          guardian sign it in their wallet (Sparrow, Electrum, Bitcoin Core or a hardware wallet),
          then import the signed file here — or let the guardian send it: BitStable sees it on the
          chain. The coins stay reserved for it until then.
        </p>
        <ErrorNote error={requests.error} />
        <ul className="guardian-list">
          {list.map((r) => (
            <GuardianRequestRow
              key={r.spendId}
              request={r}
              onSent={(txid) =>
                setSent((all) => [...all, { txid, kind: r.kind, vaultId: r.vaultId }])
              }
            />
          ))}
        </ul>
      </Card>
    </>
  );
}

interface Sent {
  txid: string;
  kind: Request['kind'];
  vaultId: number;
}

function GuardianRequestRow({
  request: r,
  onSent,
}: {
  request: Request;
  onSent: (txid: string) => void;
}) {
  const complete = useApiMutation('spends.completeWithGuardian');
  const cancel = useApiMutation('spends.cancelGuardianRequest');
  const [fileName, setFileName] = useState('');
  const busy = complete.isPending || cancel.isPending;
  const base = `bitstable-vault-${r.vaultId}-${r.kind}-${r.spendId}`;
  return (
    <li className="guardian-request" data-testid={`guardian-request-${r.spendId}`}>
      <div className="row gap wrap">
        <strong>{KIND_TEXT[r.kind]}</strong>
        <span className="muted small">
          vault #{r.vaultId} · transaction {shortHash(r.txid)} · waiting since {when(r.createdAt)}
        </span>
      </div>
      <ul className="outputs small">
        {r.outputs.map((o, i) => (
          <li key={i}>
            <code className="address small">{o.address}</code> <Btc sats={o.amountSats} />
          </li>
        ))}
        <li className="muted">
          Fee <Btc sats={r.feeSats} />
        </li>
        <li className="muted" data-testid="guardian-request-debt">
          The vault owes <BsUsd cents={r.debtCents} />
        </li>
      </ul>
      <div className="actions start">
        <button
          type="button"
          className="button"
          onClick={() => download(`${base}.psbt`, fromBase64(r.psbtBase64))}
          data-testid="guardian-export"
        >
          Save PSBT for the guardian
        </button>
        <label className={`file-label ${busy ? 'disabled' : ''}`}>
          <span className="button primary">
            {complete.isPending ? 'Checking and sending…' : 'Import signed PSBT or transaction'}
          </span>
          <input
            type="file"
            accept=".psbt,.txn,.txt,application/octet-stream"
            className="visually-hidden"
            disabled={busy}
            data-testid="guardian-import"
            onChange={async (e) => {
              const file = e.target.files?.[0];
              e.target.value = '';
              if (!file) return;
              setFileName(file.name);
              cancel.reset();
              complete.mutate(
                { spendId: r.spendId, psbtBase64: await readPsbtFile(file) },
                { onSuccess: (done) => onSent(done.txid) },
              );
            }}
          />
        </label>
        <button
          type="button"
          className="button ghost"
          disabled={busy}
          onClick={() => {
            if (
              window.confirm(
                'Cancel this transaction? BitStable has sent nothing. If the guardian sends their signed copy anyway, BitStable sees it on the chain and tracks it. A settlement is planned again with a new PSBT.',
              )
            ) {
              complete.reset();
              cancel.mutate({ spendId: r.spendId });
            }
          }}
          data-testid="guardian-cancel"
        >
          Cancel
        </button>
      </div>
      {fileName && complete.isError && (
        <p className="muted small">{fileName} was not used; nothing was sent.</p>
      )}
      <ErrorNote error={complete.error ?? cancel.error} />
    </li>
  );
}
