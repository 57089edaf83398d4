/** Create a vault (SPEC §9): the owner key step, details, then the deposit address and its confirmation. */
import { useState } from 'react';
import { useApi, useApiMutation } from '../api/context';
import { DepositPanel } from '../components/DepositPanel';
import { Card, ErrorNote, Field, Loading } from '../components/ui';
import { btcAmountProblem, parseBtc } from '../lib/format';
import { href } from '../lib/route';

/** One of the vault's three keys: its role, its master fingerprint, the full key. */
function KeyRow({
  role,
  keyExpression,
  testId,
  deviceSlot,
}: {
  role: string;
  keyExpression: string;
  testId: string;
  /** How the Ledger pages this key when it registers the policy (it names no roles). */
  deviceSlot?: string;
}) {
  const fingerprint = /^\[([0-9a-f]{8})/.exec(keyExpression)?.[1] ?? '—';
  return (
    <>
      <dt>
        {deviceSlot && <span data-testid={`${testId}-slot`}>{deviceSlot} · </span>}
        {role} · fingerprint <code data-testid={`${testId}-fingerprint`}>{fingerprint}</code>
      </dt>
      <dd>
        <code data-testid={testId}>{keyExpression}</code>
      </dd>
    </>
  );
}

export function CreateVault() {
  const status = useApi('status.get', {});
  const info = useApi('node.info', {});
  const [step, setStep] = useState<1 | 2 | 3>(1);
  const [label, setLabel] = useState('');
  const [planned, setPlanned] = useState('');
  const [returnAddress, setReturnAddress] = useState('');
  const create = useApiMutation('vaults.create');
  const newAddress = useApiMutation('regtest.newAddress');
  const plannedSats = planned.trim() === '' ? undefined : parseBtc(planned);
  const owner = status.data?.owner;

  return (
    <div className="page narrow" data-testid="page-create">
      <h1>Open a vault</h1>
      <ol className="steps" aria-label="Steps">
        <li className={step === 1 ? 'current' : 'done'}>Owner key</li>
        <li className={step === 2 ? 'current' : step > 2 ? 'done' : ''}>Details</li>
        <li className={step === 3 ? 'current' : ''}>Deposit</li>
      </ol>

      {step === 1 && (
        <Card title="1 · Your key" testId="step-key">
          {status.isPending && <Loading />}
          <ErrorNote error={status.error} />
          {owner && owner.kind === 'ledger' && (
            <div className="device-step">
              <p>
                Connect your Ledger, unlock it with your PIN and open the Bitcoin app (2.1 or
                later).
              </p>
              <p>
                The first time, the Ledger asks you to register the vault policy{' '}
                <code>wsh(sortedmulti(2,@0/**,@1/**,@2/**))</code>. Check that it shows exactly
                these three keys, paged as Key @0, @1 and @2 in this order (the device does not say
                which is whose)
                {status.data?.network === 'mainnet'
                  ? ''
                  : '; on a test network it shows them as tpub…'}
                :
              </p>
            </div>
          )}
          {owner && owner.kind !== 'ledger' && (
            <div className="device-step software" data-testid="software-key-step">
              <p>
                <strong>{owner.label}</strong>
              </p>
              <p className="warn-text">
                This key lives in this computer's software. It stands in for a Ledger on regtest
                only; never use it for real money.
              </p>
            </div>
          )}
          {owner && (
            <dl className="keys" data-testid="vault-keys">
              <KeyRow
                role="Owner (you)"
                keyExpression={owner.key}
                testId="key-owner"
                {...(owner.kind === 'ledger' ? { deviceSlot: 'Key @0' } : {})}
              />
              {info.data && (
                <>
                  <KeyRow
                    role="Protocol (the node's co-signer)"
                    keyExpression={info.data.protocolKey}
                    testId="key-protocol"
                    {...(owner.kind === 'ledger' ? { deviceSlot: 'Key @1' } : {})}
                  />
                  <KeyRow
                    role="Guardian (backup signer)"
                    keyExpression={info.data.guardianKey}
                    testId="key-guardian"
                    {...(owner.kind === 'ledger' ? { deviceSlot: 'Key @2' } : {})}
                  />
                </>
              )}
            </dl>
          )}
          {info.data && (
            <p className="muted small">
              Any two of these three keys spend a vault. Protocol node {info.data.nodeId}; check the
              fingerprints against what the operator publishes
              {owner?.kind === 'ledger' ? ' and against your Ledger’s screen' : ''}.
            </p>
          )}
          <div className="actions">
            <button
              type="button"
              className="button primary"
              onClick={() => setStep(2)}
              disabled={!owner}
              data-testid="key-continue"
              autoFocus
            >
              Continue
            </button>
          </div>
        </Card>
      )}

      {step === 2 && (
        <Card title="2 · Details" testId="step-details">
          <form
            onSubmit={(e) => {
              e.preventDefault();
              create.mutate(
                {
                  ...(label.trim() ? { label: label.trim() } : {}),
                  ...(plannedSats ? { plannedDepositSats: plannedSats } : {}),
                  ...(returnAddress.trim() ? { returnAddress: returnAddress.trim() } : {}),
                },
                { onSuccess: () => setStep(3) },
              );
            }}
          >
            <Field label="Name (optional)" htmlFor="vault-label">
              <input
                id="vault-label"
                className="input"
                value={label}
                onChange={(e) => setLabel(e.target.value)}
                maxLength={80}
                placeholder="e.g. Savings"
                data-testid="vault-label"
                autoFocus
              />
            </Field>
            <Field
              label="Planned deposit in BTC (optional)"
              htmlFor="vault-planned"
              hint="Put into the QR code so your wallet fills in the amount."
            >
              <input
                id="vault-planned"
                className="input"
                value={planned}
                onChange={(e) => setPlanned(e.target.value)}
                inputMode="decimal"
                placeholder="0.10000000"
                aria-invalid={plannedSats === null}
                data-testid="vault-planned"
              />
            </Field>
            {btcAmountProblem(planned) && (
              <div className="error-note" data-testid="vault-planned-problem">
                {btcAmountProblem(planned)}
              </div>
            )}
            <Field
              label="Return address (optional)"
              htmlFor="vault-return"
              hint="If the vault is ever liquidated, what is left of the collateral after the auction goes here."
            >
              <div className="row gap">
                <input
                  id="vault-return"
                  className="input grow"
                  value={returnAddress}
                  onChange={(e) => setReturnAddress(e.target.value)}
                  placeholder="bc1… / tb1… / bcrt1…"
                  spellCheck={false}
                  data-testid="vault-return"
                />
                {status.data?.regtest && (
                  <button
                    type="button"
                    className="button ghost small"
                    onClick={() =>
                      newAddress.mutate({}, { onSuccess: (r) => setReturnAddress(r.address) })
                    }
                  >
                    Use a regtest wallet address
                  </button>
                )}
              </div>
            </Field>
            <ErrorNote error={create.error} />
            <div className="actions">
              <button type="button" className="button ghost" onClick={() => setStep(1)}>
                Back
              </button>
              <button
                type="submit"
                className="button primary"
                disabled={create.isPending || btcAmountProblem(planned) !== null}
                data-testid="create-submit"
              >
                {create.isPending ? 'Creating…' : 'Create vault'}
              </button>
            </div>
          </form>
        </Card>
      )}

      {step === 3 && create.data && (
        <Card title={`3 · Deposit to vault #${create.data.id}`} testId="step-deposit">
          <DepositPanel vaultId={create.data.id} />
          <div className="actions">
            <a
              className="button primary"
              href={href.vault(create.data.id)}
              data-testid="go-to-vault"
            >
              Go to the vault
            </a>
          </div>
        </Card>
      )}
    </div>
  );
}
