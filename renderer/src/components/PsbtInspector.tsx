/** Settings → Inspect a PSBT file: what it does, and whose signatures it holds. */
import { useState } from 'react';
import type { Result } from '../../../core/api/contract';
import { useApiMutation } from '../api/context';
import { satsText } from '../lib/format';
import { Btc, Card, ErrorNote } from './ui';

type Input = Result<'psbt.decode'>['inputs'][number];
type Signer = Input['signedBy'][number];

const NAMES: Record<Exclude<Signer, 'unknown'>, string> = {
  owner: 'you (owner)',
  protocol: 'the protocol',
  guardian: 'the guardian',
};

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** "a", "a and b", "a, b and c". */
const and = (parts: string[]) =>
  parts.length <= 1 ? (parts[0] ?? '') : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`;

/** "signed by you (owner) and the protocol; 2 of 3 signatures, enough to send" for one input. */
function signersText(input: Input): string {
  const known = input.signedBy.filter((s): s is Exclude<Signer, 'unknown'> => s !== 'unknown');
  const unknown = input.signedBy.length - known.length;
  const names = known.map((s) => NAMES[s]);
  if (unknown > 0) names.push(unknown === 1 ? 'an unknown key' : `${unknown} unknown keys`);
  const who = names.length ? `signed by ${and(names)}` : 'not signed yet';
  const bad =
    input.invalidSignatures > 0
      ? `; ${input.invalidSignatures === 1 ? '1 signature does' : `${input.invalidSignatures} signatures do`} not verify`
      : '';
  const m = input.multisig;
  if (!m) return `${who}${bad}`;
  const have = input.signedBy.length;
  const need =
    have >= m.required
      ? `${m.required} of ${m.keys} signatures, enough to send`
      : `needs ${m.required} of ${m.keys} signatures, ${m.required - have} more`;
  return `${who}${bad}; ${need}`;
}

/** Consecutive inputs that say the same, as one line ("Inputs 1 to 40: …"). */
function signerLines(inputs: Input[]): { key: string; text: string; signedBy: string }[] {
  const lines: { from: number; to: number; text: string; signedBy: string }[] = [];
  inputs.forEach((input, i) => {
    const text = signersText(input);
    const last = lines.at(-1);
    if (last && last.text === text) last.to = i;
    else lines.push({ from: i, to: i, text, signedBy: input.signedBy.join(',') });
  });
  return lines.map((l) => ({
    key: `${l.from}`,
    text: `${l.from === l.to ? `Input ${l.from + 1}` : `Inputs ${l.from + 1} to ${l.to + 1}`}: ${l.text}.`,
    signedBy: l.signedBy,
  }));
}

/** Bytes as base64, a chunk at a time (one call with a whole 1.5 MB file overflows the stack). */
function base64Of(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

/** Reads a PSBT file (binary or base64) and shows what it does. */
export function PsbtCard() {
  const decode = useApiMutation('psbt.decode');
  const [name, setName] = useState('');
  // The file the summary shown is of (a new file's summary replaces it once read).
  const [decoded, setDecoded] = useState('');
  const d = decode.data;
  return (
    <Card title="Inspect a PSBT file" testId="settings-psbt">
      <label className="file-label">
        <span className="button ghost">Choose a .psbt file</span>
        <input
          type="file"
          accept=".psbt,.txt,application/octet-stream"
          className="visually-hidden"
          data-testid="psbt-file"
          onChange={async (e) => {
            const file = e.target.files?.[0];
            if (!file) return;
            setName(file.name);
            decode.reset();
            const bytes = new Uint8Array(await file.arrayBuffer());
            const text = new TextDecoder().decode(bytes).trim();
            // Binary PSBTs start with "psbt\xff"; otherwise take the file as base64 text.
            const b64 = bytes[0] === 0x70 && bytes[4] === 0xff ? base64Of(bytes) : text;
            decode.mutate({ psbtBase64: b64 }, { onSuccess: () => setDecoded(file.name) });
            e.target.value = ''; // the same file again (signed since) is read again
          }}
        />
      </label>
      {name && <p className="muted small">{name}</p>}
      <ErrorNote error={decode.error} />
      {d && (
        <div className="psbt-summary" data-testid="psbt-summary" data-file={decoded}>
          <p>
            {plural(d.inputs.length, 'input')}, {plural(d.outputs.length, 'output')}, fee{' '}
            {d.feeSats === null ? 'unknown' : satsText(d.feeSats)},{' '}
            {d.complete ? 'fully signed (finalized)' : 'not finalized yet'}.
          </p>
          <h3 className="psbt-list-head" id="psbt-signers-head">
            Signatures
          </h3>
          <ul className="psbt-list" aria-labelledby="psbt-signers-head" data-testid="psbt-signers">
            {signerLines(d.inputs).map((l) => (
              <li key={l.key} data-testid="psbt-input-signers" data-signed-by={l.signedBy}>
                {l.text}
              </li>
            ))}
          </ul>
          <h3 className="psbt-list-head" id="psbt-outputs-head">
            Outputs
          </h3>
          <ul className="psbt-list" aria-labelledby="psbt-outputs-head">
            {d.outputs.map((o, i) => (
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
