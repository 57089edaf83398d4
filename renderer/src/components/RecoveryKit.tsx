/** Settings → Recovery kit: what rebuilds every vault without BitStable (SPEC §9). */
import { useApi } from '../api/context';
import { Card, download, ErrorNote } from './ui';

export function RecoveryKitCard() {
  const kit = useApi('recoveryKit.get', {});
  const data = kit.data;
  return (
    <Card title="Recovery kit" testId="settings-recovery">
      <p className="muted">
        For every key set your vaults use: the three keys with their origins, the descriptor, the
        birthday and every vault&apos;s address, with files Sparrow, Bitcoin Core and Electrum
        import as they are. It holds no private keys. Without BitStable, the owner and the guardian
        sign together.
      </p>
      <ErrorNote error={kit.error} />
      {data && (
        <>
          {data.keySets.map((set, n) => {
            const tag = `${data.network}-set-${n + 1}`;
            return (
              <section key={set.descriptor} data-testid="recovery-key-set">
                <h4>
                  Key set {n + 1}
                  {n === 0 ? ' (in use now)' : ''}
                </h4>
                <pre className="code-block" data-testid="recovery-descriptor">
                  {set.descriptor}
                </pre>
                <p className="muted small">
                  {set.birthday === null
                    ? 'No vault yet.'
                    : `Birthday ${new Date(set.birthday * 1000).toISOString().slice(0, 10)}; scan addresses 0 to ${set.scanTo}.`}
                </p>
                {set.vaults.length > 0 && (
                  <ul className="small" data-testid="recovery-vaults">
                    {set.vaults.map((v) => (
                      <li key={v.index}>
                        #{v.index} <code>{v.address}</code>
                        {v.label ? ` — ${v.label}` : ''}
                      </li>
                    ))}
                  </ul>
                )}
                <div className="row gap wrap">
                  <button
                    type="button"
                    className="button"
                    onClick={() =>
                      download(`bitstable-sparrow-${tag}.txt`, set.sparrow, 'text/plain')
                    }
                  >
                    Sparrow file
                  </button>
                  <button
                    type="button"
                    className="button"
                    onClick={() =>
                      download(
                        `bitstable-core-importdescriptors-${tag}.json`,
                        `${JSON.stringify(set.core, null, 2)}\n`,
                        'application/json',
                      )
                    }
                  >
                    Bitcoin Core file
                  </button>
                  <button
                    type="button"
                    className="button"
                    onClick={() =>
                      download(
                        `bitstable-electrum-${tag}.json`,
                        `${JSON.stringify(set.electrum, null, 2)}\n`,
                        'application/json',
                      )
                    }
                  >
                    Electrum keys
                  </button>
                  <button
                    type="button"
                    className="button"
                    onClick={() => download(`bitstable-${tag}.bsms`, set.bsms, 'text/plain')}
                  >
                    BSMS record
                  </button>
                </div>
              </section>
            );
          })}
          <ol className="small">
            {data.instructions.map((line) => (
              <li key={line}>{line}</li>
            ))}
          </ol>
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
        </>
      )}
    </Card>
  );
}
