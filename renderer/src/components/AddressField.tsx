/**
 * A Bitcoin address to be paid at (redemptions, the stability pool), with — on the regtest
 * playground — a button that asks the node's miner wallet for a fresh one.
 */
import { useApiMutation } from '../api/context';
import { Field } from './ui';

export function AddressField({
  id,
  label,
  value,
  onChange,
  regtest,
}: {
  /** The input's id; its test id too. */
  id: string;
  label: string;
  value: string;
  onChange: (address: string) => void;
  regtest: boolean;
}) {
  const newAddress = useApiMutation('regtest.newAddress');
  return (
    <Field label={label} htmlFor={id}>
      <div className="row gap">
        <input
          id={id}
          className="input mono grow"
          value={value}
          onChange={(e) => onChange(e.target.value.trim())}
          spellCheck={false}
          autoComplete="off"
          placeholder="bc1…"
          data-testid={id}
        />
        {regtest && (
          <button
            type="button"
            className="button ghost small"
            onClick={() => newAddress.mutate({}, { onSuccess: (r) => onChange(r.address) })}
          >
            New regtest address
          </button>
        )}
      </div>
    </Field>
  );
}
