/** "Export CSV": every entry of a history, all its pages read first, saved as one file. */
import { useState } from 'react';
import { useApi, useClient } from '../api/context';
import { allPages, exportName, vaultHistoryCsv } from '../lib/csv';
import { download } from './ui';

/** A button that builds a CSV file (name and text) when clicked and saves it. */
export function ExportCsvButton({
  label,
  testId,
  build,
}: {
  /** What a screen reader hears: starts with "Export CSV", the words on the button. */
  label: string;
  testId: string;
  build: () => Promise<{ name: string; text: string }>;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <span className="export-csv">
      <button
        type="button"
        className="button ghost small"
        disabled={busy}
        aria-label={busy ? undefined : label}
        data-testid={testId}
        onClick={() => {
          setBusy(true);
          setError(null);
          build()
            .then(({ name, text }) => download(name, text, 'text/csv;charset=utf-8'))
            .catch((err: unknown) => setError(err instanceof Error ? err.message : String(err)))
            .finally(() => setBusy(false));
        }}
      >
        {busy ? 'Exporting…' : 'Export CSV'}
      </button>
      {error && (
        <span className="error-note" role="alert" data-testid={`${testId}-error`}>
          {error}
        </span>
      )}
    </span>
  );
}

/** A vault's whole history (deposits, mints, repays, transactions, fees) as CSV. */
export function VaultHistoryExport({ vault }: { vault: { id: number; label: string | null } }) {
  const client = useClient();
  const status = useApi('status.get', {});
  return (
    <ExportCsvButton
      label={`Export CSV of vault #${vault.id}'s history`}
      testId="vault-export-csv"
      build={async () => {
        const items = await allPages((offset, limit) =>
          client.call('vaults.activity', { vaultId: vault.id, offset, limit }),
        );
        const network = status.data?.network ?? (await client.call('status.get', {})).network;
        return {
          name: exportName(`vault-${vault.id}-history`, network),
          text: vaultHistoryCsv(vault, items),
        };
      }}
    />
  );
}
