/** Settings → Inspect a PSBT file. */
import { useState } from 'react';
import { useApiMutation } from '../api/context';
import { satsText } from '../lib/format';
import { Btc, Card, ErrorNote } from './ui';

/** Reads a PSBT file (binary or base64) and shows what it does. */
export function PsbtCard() {
  const decode = useApiMutation('psbt.decode');
  const [name, setName] = useState('');
  return (
    <Card title="Inspect a PSBT file">
      <label className="file-label">
        <span className="button ghost">Choose a .psbt file</span>
        <input
          type="file"
          accept=".psbt,.txt,application/octet-stream"
          className="visually-hidden"
          onChange={async (e) => {
            const file = e.target.files?.[0];
            if (!file) return;
            setName(file.name);
            const bytes = new Uint8Array(await file.arrayBuffer());
            const text = new TextDecoder().decode(bytes).trim();
            // Binary PSBTs start with "psbt\xff"; otherwise take the file as base64 text.
            const b64 =
              bytes[0] === 0x70 && bytes[4] === 0xff ? btoa(String.fromCharCode(...bytes)) : text;
            decode.mutate({ psbtBase64: b64 });
          }}
        />
      </label>
      {name && <p className="muted small">{name}</p>}
      <ErrorNote error={decode.error} />
      {decode.data && (
        <div className="psbt-summary">
          <p>
            {decode.data.inputs.length} input(s), {decode.data.outputs.length} output(s), fee{' '}
            {decode.data.feeSats === null ? 'unknown' : satsText(decode.data.feeSats)},{' '}
            {decode.data.complete
              ? 'fully signed'
              : `signatures so far: ${decode.data.inputs.map((i) => i.signatures).join(', ')}`}
            .
          </p>
          <ul>
            {decode.data.outputs.map((o, i) => (
              <li key={i}>
                <code className="address small">{o.address ?? 'non-standard script'}</code>{' '}
                <Btc sats={o.amountSats} showSats={false} />
              </li>
            ))}
          </ul>
        </div>
      )}
    </Card>
  );
}
