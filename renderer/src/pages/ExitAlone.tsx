/**
 * Without the protocol node (SPEC §6, a wallet connected to a node): the wallet's own records of
 * its vaults, their coins as its own Bitcoin node sees them, and — once the node has been
 * unreachable for a set time — an emergency exit the wallet builds alone: owner-signed here,
 * co-signed by the guardian elsewhere, sent through the wallet's own Bitcoin node.
 */
import { useState } from 'react';
import { useApi, useApiMutation } from '../api/context';
import {
  Btc,
  Card,
  CopyButton,
  download,
  Empty,
  ErrorNote,
  Field,
  fromBase64,
  Loading,
} from '../components/ui';
import { duration, shortHash, when } from '../lib/format';

type Alone = NonNullable<ReturnType<typeof useApi<'wallet.alone'>>['data']>;

export function ExitAlone() {
  const alone = useApi('wallet.alone', {}, { refetchInterval: 3_000 });
  const local = alone.error && 'code' in alone.error && alone.error.code === 'NOT_SUPPORTED';
  return (
    <div className="page" data-testid="page-alone">
      <h1>Without the protocol node</h1>
      {alone.isPending && <Loading />}
      {local ? (
        <Empty title="This app runs its protocol node itself">
          <p>
            In local mode the node is part of this app: use the emergency exit on the vault page.
          </p>
        </Empty>
      ) : (
        <ErrorNote error={alone.error} />
      )}
      {alone.data && <AloneBody data={alone.data} />}
    </div>
  );
}

function AloneBody({ data }: { data: Alone }) {
  const since = data.unreachableSinceMs;
  // Answering again within an outage that has not settled (the node dropped out and came back).
  const settling = data.nodeReachable && since !== null;
  return (
    <>
      <Card title="The protocol node" testId="alone-status">
        <div className="row gap">
          <span
            className={`pill ${data.nodeReachable && !settling ? 'ok' : 'warn'}`}
            data-testid="alone-reachable"
            data-reachable={String(data.nodeReachable)}
          >
            {settling
              ? 'Answering, unreliable'
              : data.nodeReachable
                ? 'Reachable'
                : 'Not answering'}
          </span>
          {since !== null && (
            <span className="muted">
              {settling ? 'dropping out ' : ''}since {when(since)} ({duration(Date.now() - since)})
            </span>
          )}
        </div>
        <p className={data.ready ? 'warn-text' : 'muted'} data-testid="alone-reason">
          {data.reason}
        </p>
        <p className="muted small">
          Your vaults are 2-of-3: your owner key and the guardian&apos;s can move the coins without
          the protocol node. An exit sends every coin of the vault to an address of yours; your
          bsUSD debt stays recorded at the node.
        </p>
      </Card>
      <Card title="Your vaults, from your own records" testId="alone-vaults">
        {data.vaults.length === 0 ? (
          <Empty title="No vaults in this wallet's records" />
        ) : (
          <ul className="guardian-list">
            {data.vaults.map((v) => (
              <AloneVault
                key={v.vaultId}
                vault={v}
                ready={data.ready}
                waiting={data.exits.some(
                  (e) => e.vaultId === v.vaultId && e.state === 'awaiting-guardian',
                )}
              />
            ))}
          </ul>
        )}
      </Card>
      {data.exits.length > 0 && (
        <Card title="Exits built without the node" testId="alone-exits">
          <ul className="guardian-list">
            {data.exits.map((e) => (
              <AloneExitRow key={e.exitId} exit={e} />
            ))}
          </ul>
        </Card>
      )}
    </>
  );
}

function AloneVault({
  vault: v,
  ready,
  waiting,
}: {
  vault: Alone['vaults'][number];
  ready: boolean;
  /** An exit of this vault already waits for the guardian. */
  waiting: boolean;
}) {
  const exit = useApiMutation('wallet.exitAlone');
  const [destination, setDestination] = useState('');
  return (
    <li className="guardian-request" data-testid={`alone-vault-${v.vaultId}`}>
      <div className="row gap wrap">
        <strong>Vault #{v.vaultId}</strong>
        <code className="address small">{v.address}</code>
      </div>
      <div className="muted small">
        {v.collateralSats === null ? (
          'No Bitcoin node of your own: its coins cannot be checked here.'
        ) : (
          <>
            <Btc sats={v.collateralSats} /> confirmed
            {v.incomingSats ? (
              <>
                {' '}
                · <Btc sats={v.incomingSats} /> unconfirmed
              </>
            ) : null}{' '}
            as your own node sees it
          </>
        )}
      </div>
      {waiting && (
        <p className="muted small">An exit of this vault waits for the guardian (below).</p>
      )}
      {ready && !waiting && (v.collateralSats ?? 0) > 0 && (
        <form
          className="row gap wrap"
          onSubmit={(e) => {
            e.preventDefault();
            if (
              window.confirm(
                `Sign an exit of every confirmed coin of vault #${v.vaultId} to ${destination.trim()}? Your owner key signs now; nothing is sent until the guardian signs too.`,
              )
            )
              exit.mutate({ vaultId: v.vaultId, destination: destination.trim() });
          }}
        >
          <Field label="Send every coin to (your address)" htmlFor={`alone-dest-${v.vaultId}`}>
            <input
              id={`alone-dest-${v.vaultId}`}
              className="input"
              value={destination}
              onChange={(e) => setDestination(e.target.value)}
              placeholder="bcrt1…"
              spellCheck={false}
              data-testid="alone-destination"
            />
          </Field>
          <button
            type="submit"
            className="button primary"
            disabled={!destination.trim() || exit.isPending}
            data-testid="alone-build"
          >
            {exit.isPending ? 'Signing…' : 'Build and sign the exit'}
          </button>
        </form>
      )}
      <ErrorNote error={exit.error} />
    </li>
  );
}

function AloneExitRow({ exit: e }: { exit: Alone['exits'][number] }) {
  const complete = useApiMutation('wallet.completeExitAlone');
  const abandon = useApiMutation('wallet.abandonExitAlone');
  const [signed, setSigned] = useState('');
  return (
    <li className="guardian-request" data-testid={`alone-exit-${e.exitId}`} data-state={e.state}>
      <div className="row gap wrap">
        <strong>Exit of vault #{e.vaultId}</strong>
        <span className="muted small">
          built {when(e.createdAt)} · transaction {shortHash(e.unsignedTxid)}
        </span>
      </div>
      <ul className="outputs small">
        <li>
          <code className="address small">{e.destination}</code> <Btc sats={e.amountSats} />
        </li>
        <li className="muted">
          Fee <Btc sats={e.feeSats} />
        </li>
      </ul>
      {e.state === 'broadcast' ? (
        <p className="ok-text" data-testid="alone-sent">
          Sent: <code className="mono">{e.txid}</code>
        </p>
      ) : e.state === 'abandoned' ? (
        <p className="muted small">
          Abandoned. Your owner key signed it: should the guardian sign and send it anyway, it shows
          here as sent.
        </p>
      ) : (
        <>
          <p className="muted small">
            Signed by your owner key. Give this PSBT to the guardian; paste what they send back.
          </p>
          <div className="actions start">
            <button
              type="button"
              className="button"
              onClick={() =>
                download(
                  `bitstable-vault-${e.vaultId}-exit-alone-${e.exitId}.psbt`,
                  fromBase64(e.psbtBase64),
                )
              }
              data-testid="alone-export"
            >
              Save PSBT for the guardian
            </button>
            <CopyButton text={e.psbtBase64} label="Copy PSBT" />
            <button
              type="button"
              className="button ghost"
              disabled={abandon.isPending || complete.isPending}
              onClick={() => {
                if (
                  window.confirm(
                    'Abandon this exit and build another? Tell the guardian: the PSBT you gave them is signed by your owner key and stays valid if they sign it.',
                  )
                )
                  abandon.mutate({ exitId: e.exitId });
              }}
              data-testid="alone-abandon"
            >
              Abandon
            </button>
          </div>
          <form
            className="row gap wrap"
            onSubmit={(ev) => {
              ev.preventDefault();
              complete.mutate({ exitId: e.exitId, psbtBase64: signed.trim() });
            }}
          >
            <Field
              label="The guardian's signed PSBT (base64 or hex)"
              htmlFor={`alone-signed-${e.exitId}`}
            >
              <textarea
                id={`alone-signed-${e.exitId}`}
                className="input"
                rows={3}
                value={signed}
                onChange={(ev) => setSigned(ev.target.value)}
                spellCheck={false}
                data-testid="alone-signed"
              />
            </Field>
            <button
              type="submit"
              className="button primary"
              disabled={!signed.trim() || complete.isPending}
              data-testid="alone-send"
            >
              {complete.isPending ? 'Checking and sending…' : 'Check and send'}
            </button>
          </form>
          <ErrorNote error={complete.error ?? abandon.error} />
        </>
      )}
    </li>
  );
}
