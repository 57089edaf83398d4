/**
 * Settings the person changes (SPEC §9, issue 15 item 5): the Bitcoin node (RPC URL, cookie file
 * or user and password, watch-only wallet) with "Test connection", the guardian's xpub and the
 * oracle's sources and threshold. Each field is checked as it is typed (settings.save with
 * dryRun: the same check the next start makes) with the reason under it; saving takes effect at
 * the next start, and the page says when one is due.
 */
import { useEffect, useState } from 'react';
import type { Params, Result } from '../../../core/api/contract';
import { useApi, useApiMutation, useClient } from '../api/context';
import type { ApiCallError } from '../api/client';
import { ErrorNote, Field, Stat } from './ui';

type Saved = Result<'settings.saved'>;
type BitcoinSetting = NonNullable<Params<'settings.save'>['bitcoin']>;

/** The message of an error that belongs under `field`, if it does. */
function under(error: ApiCallError | null | undefined, field: string): string | null {
  return error && error.data.field === field ? error.message : null;
}

/** An error no field claims: shown under the form. */
function unclaimed(error: ApiCallError | null | undefined, fields: string[]) {
  return error && !fields.includes(String(error.data.field ?? '')) ? error : null;
}

function FieldProblem({ id, text }: { id: string; text: string | null }) {
  if (!text) return null;
  return (
    <p className="error-text small" id={id} role="alert" data-testid={id}>
      {text}
    </p>
  );
}

/** "2" or "2.5 %" as basis points (200, 250); null when it is not a share with 2 decimals at most. */
function percentBps(text: string): number | null {
  const t = text.trim().replace(/\s*%$/, '');
  if (!/^\d{1,3}(\.\d{1,2})?$/.test(t)) return null;
  const [whole, frac = ''] = t.split('.');
  return Number(whole) * 100 + Number(frac.padEnd(2, '0'));
}

/** A choice of a few, as radio buttons under a legend. */
function Choice<V extends string>({
  legend,
  name,
  value,
  options,
  onChange,
}: {
  legend: string;
  name: string;
  value: V;
  options: { value: V; label: string; testId: string }[];
  onChange: (v: V) => void;
}) {
  return (
    <fieldset className="row gap wrap">
      <legend className="small">{legend}</legend>
      {options.map((o) => (
        <label key={o.value} className="row gap">
          <input
            type="radio"
            name={name}
            checked={value === o.value}
            onChange={() => onChange(o.value)}
            data-testid={o.testId}
          />
          {o.label}
        </label>
      ))}
    </fieldset>
  );
}

/** A text field with its label, hint and the problem under it (`id` names all three). */
function TextField({
  id,
  label,
  hint,
  value,
  onChange,
  problem,
  type = 'text',
  placeholder,
}: {
  id: string;
  label: string;
  hint?: string;
  value: string;
  onChange: (v: string) => void;
  problem: string | null;
  type?: 'text' | 'password';
  placeholder?: string;
}) {
  return (
    <>
      <Field label={label} htmlFor={id} {...(hint ? { hint } : {})}>
        <input
          id={id}
          className="input"
          type={type}
          value={value}
          placeholder={placeholder}
          spellCheck={false}
          autoComplete={type === 'password' ? 'new-password' : 'off'}
          aria-invalid={problem ? true : undefined}
          aria-describedby={problem ? `${id}-problem` : undefined}
          onChange={(e) => onChange(e.target.value)}
          data-testid={id}
        />
      </Field>
      <FieldProblem id={`${id}-problem`} text={problem} />
    </>
  );
}

/** settings.save with dryRun, 400 ms after the last change: the reason under the field. */
function useInlineCheck(params: Params<'settings.save'> | null) {
  const client = useClient();
  const [error, setError] = useState<ApiCallError | null>(null);
  const key = JSON.stringify(params);
  useEffect(() => {
    if (!params) {
      setError(null);
      return;
    }
    let live = true;
    const timer = setTimeout(() => {
      client.call('settings.save', { ...params, dryRun: true }).then(
        () => live && setError(null),
        (err: ApiCallError) => live && setError(err),
      );
    }, 400);
    return () => {
      live = false;
      clearTimeout(timer);
    };
    // Keyed by the params' content: a new object of the same settings is not a new check.
  }, [key, client]);
  return error;
}

export function RestartNote({ saved }: { saved: Saved }) {
  return (
    <>
      {saved.restartNeeded && (
        <p className="warn-text" data-testid="settings-restart">
          Saved. Restart BitStable to use the new settings; until then it runs with the ones it
          started with.
        </p>
      )}
      {saved.fromEnvironment.length > 0 && (
        <p className="muted small" data-testid="settings-from-env">
          Set by the environment, which wins over what is saved here:{' '}
          {saved.fromEnvironment.join(', ')}.
        </p>
      )}
    </>
  );
}

/** The Bitcoin node: BitStable's own (regtest) or the person's Core, tested before it is saved. */
export function BitcoinNodeForm({
  saved,
  fallback,
}: {
  saved: Saved;
  /** What runs when no node is chosen (BitStable's own regtest node; none); null: one is needed. */
  fallback: string | null;
}) {
  const b = saved.saved.bitcoin;
  const managed = fallback !== null;
  const [own, setOwn] = useState(b !== null || !managed);
  const [url, setUrl] = useState(b?.url ?? '');
  const [kind, setKind] = useState<'cookie' | 'password'>(b?.auth.kind ?? 'cookie');
  const [cookieFile, setCookieFile] = useState(b?.auth.kind === 'cookie' ? b.auth.cookieFile : '');
  const [user, setUser] = useState(b?.auth.kind === 'password' ? b.auth.user : '');
  const [password, setPassword] = useState('');
  const [wallet, setWallet] = useState(b?.wallet ?? '');
  const test = useApiMutation('settings.testBitcoinNode');
  const save = useApiMutation('settings.save');
  const setting: BitcoinSetting | null = own
    ? {
        url: url.trim(),
        auth:
          kind === 'cookie'
            ? { kind, cookieFile: cookieFile.trim() }
            : { kind, user: user.trim(), ...(password ? { password } : {}) },
        ...(wallet.trim() && saved.host === 'node' ? { wallet: wallet.trim() } : {}),
      }
    : null;
  const filled =
    setting !== null &&
    setting.url !== '' &&
    (setting.auth.kind === 'cookie' ? setting.auth.cookieFile !== '' : setting.auth.user !== '');
  // Checked from the first character of the address: its problem, then the next field's.
  const inline = useInlineCheck(setting && setting.url !== '' ? { bitcoin: setting } : null);
  const problem = test.error ?? save.error ?? inline;
  const fields = [
    'bitcoin.url',
    'bitcoin.cookieFile',
    'bitcoin.user',
    'bitcoin.password',
    'bitcoin.wallet',
  ];
  const changed = () => {
    test.reset();
    save.reset();
  };
  /** A setter that also drops the last test's and save's outcome. */
  const edit =
    <T,>(set: (v: T) => void) =>
    (v: T) => {
      set(v);
      changed();
    };
  return (
    <form
      className="settings-form"
      data-testid="bitcoin-node-form"
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate({ bitcoin: setting });
      }}
    >
      {managed && (
        <Choice
          legend="Bitcoin node"
          name="bitcoin-node"
          value={own ? 'own' : 'fallback'}
          options={[
            { value: 'fallback', label: fallback, testId: 'bitcoin-node-managed' },
            { value: 'own', label: 'My Bitcoin Core', testId: 'bitcoin-node-own' },
          ]}
          onChange={(v) => {
            setOwn(v === 'own');
            changed();
          }}
        />
      )}
      {own && (
        <>
          <TextField
            id="bitcoin-url"
            label="RPC URL"
            value={url}
            placeholder="http://127.0.0.1:8332"
            problem={under(problem, 'bitcoin.url')}
            onChange={edit(setUrl)}
          />
          <Choice
            legend="Sign in with"
            name="bitcoin-auth"
            value={kind}
            options={[
              { value: 'cookie', label: 'Core’s cookie file', testId: 'bitcoin-auth-cookie' },
              {
                value: 'password',
                label: 'User name and password',
                testId: 'bitcoin-auth-password',
              },
            ]}
            onChange={edit(setKind)}
          />
          {kind === 'cookie' ? (
            <TextField
              id="bitcoin-cookie"
              label="Cookie file"
              hint="Usually .cookie in Core's data folder (regtest/.cookie on regtest)."
              value={cookieFile}
              problem={under(problem, 'bitcoin.cookieFile')}
              onChange={edit(setCookieFile)}
            />
          ) : (
            <>
              <TextField
                id="bitcoin-user"
                label="User name"
                value={user}
                problem={under(problem, 'bitcoin.user')}
                onChange={edit(setUser)}
              />
              <TextField
                id="bitcoin-password"
                label="Password"
                type="password"
                hint={
                  b?.passwordSaved
                    ? 'A password is saved in the key store; type one only to change it.'
                    : 'Kept in the key store, never in the settings file.'
                }
                value={password}
                problem={under(problem, 'bitcoin.password')}
                onChange={edit(setPassword)}
              />
            </>
          )}
          {saved.host === 'node' && (
            <TextField
              id="bitcoin-wallet"
              label="Watch-only wallet"
              hint="Made on the node if it is missing (default bitstable-watch)."
              value={wallet}
              placeholder="bitstable-watch"
              problem={under(problem, 'bitcoin.wallet')}
              onChange={edit(setWallet)}
            />
          )}
        </>
      )}
      <ErrorNote error={unclaimed(problem, fields)} />
      {test.data && (
        <div className="stats" data-testid="bitcoin-node-tested">
          <Stat label="Answered">{test.data.version}</Stat>
          <Stat label="Chain">{test.data.chain}</Stat>
          <Stat label="Blocks">{test.data.blocks.toLocaleString('en-US')}</Stat>
          {test.data.walletLoaded !== null && (
            <Stat label="Watch-only wallet">
              {test.data.walletLoaded ? 'loaded' : 'made at the next start'}
            </Stat>
          )}
        </div>
      )}
      {save.isSuccess && !save.isPending && (
        <p className="ok-text" data-testid="bitcoin-node-saved" role="status">
          {setting ? `Tested and saved: ${setting.url}.` : `Saved: ${fallback ?? ''}.`}
        </p>
      )}
      <div className="actions start">
        {own && (
          <button
            type="button"
            className="button"
            disabled={!filled || test.isPending}
            onClick={() => {
              save.reset();
              if (setting) test.mutate({ bitcoin: setting });
            }}
            data-testid="bitcoin-node-test"
          >
            {test.isPending ? 'Testing…' : 'Test connection'}
          </button>
        )}
        <button
          type="submit"
          className="button primary"
          disabled={
            save.isPending || (own ? !filled || inline !== null : b === null && !save.isSuccess)
          }
          data-testid="bitcoin-node-save"
        >
          {save.isPending ? 'Testing and saving…' : 'Save'}
        </button>
      </div>
    </form>
  );
}

/** The guardian's xpub with its origin: checked as typed, used for new vaults from the next start. */
export function GuardianKeyForm({ saved, network }: { saved: Saved; network: string }) {
  const [key, setKey] = useState(saved.saved.guardianKey ?? '');
  const save = useApiMutation('settings.save');
  const text = key.trim();
  const inline = useInlineCheck(text ? { guardianKey: text } : null);
  const problem = save.error ?? inline;
  const coin = network === 'mainnet' ? 0 : 1;
  return (
    <form
      className="settings-form"
      data-testid="guardian-key-form"
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate({ guardianKey: text || null });
      }}
    >
      <Field
        label="Guardian's extended public key"
        htmlFor="guardian-key"
        hint={`With its origin, as [fingerprint/48'/${coin}'/0'/2']xpub… Vaults opened after the restart use it; existing vaults keep their keys. Empty: ${network === 'regtest' ? 'the playground guardian' : 'none'}.`}
      >
        <textarea
          id="guardian-key"
          className="input code"
          rows={3}
          value={key}
          spellCheck={false}
          aria-invalid={under(problem, 'guardianKey') ? true : undefined}
          aria-describedby={under(problem, 'guardianKey') ? 'guardian-key-problem' : undefined}
          onChange={(e) => {
            setKey(e.target.value);
            save.reset();
          }}
          data-testid="guardian-key"
        />
      </Field>
      <FieldProblem id="guardian-key-problem" text={under(problem, 'guardianKey')} />
      <ErrorNote error={unclaimed(problem, ['guardianKey'])} />
      {save.isSuccess && (
        <p className="ok-text" role="status" data-testid="guardian-key-saved">
          Saved.
        </p>
      )}
      <div className="actions start">
        <button
          type="submit"
          className="button primary"
          disabled={save.isPending || (text !== '' && inline !== null)}
          data-testid="guardian-key-save"
        >
          Save
        </button>
      </div>
    </form>
  );
}

/** Which sources the oracle asks and how many must agree. */
export function OracleForm({
  saved,
  sources,
  threshold,
  maxDeviationBps,
}: {
  saved: Saved;
  sources: { name: string; enabled: boolean }[];
  threshold: number;
  maxDeviationBps: number;
}) {
  const o = saved.saved.oracle;
  const [off, setOff] = useState<string[]>(
    o?.disabled ?? sources.filter((s) => !s.enabled).map((s) => s.name),
  );
  const [agree, setAgree] = useState(String(o?.threshold ?? threshold));
  const save = useApiMutation('settings.save');
  const n = Number(agree);
  const enabled = sources.length - off.length;
  const local =
    !/^\d{1,2}$/.test(agree.trim()) || n < 1
      ? 'Give a whole number of sources, 1 or more.'
      : n > enabled
        ? `Only ${enabled} source${enabled === 1 ? ' is' : 's are'} on: at most ${enabled} can agree.`
        : null;
  const [deviation, setDeviation] = useState(
    ((o?.maxDeviationBps ?? maxDeviationBps) / 100).toFixed(2).replace(/\.?0+$/, ''),
  );
  const deviationBps = percentBps(deviation);
  const deviationProblem =
    deviationBps === null || deviationBps < 1 || deviationBps > 10_000
      ? 'Give a share from 0.01 to 100 %, with at most 2 decimals.'
      : null;
  const setting = {
    disabled: off,
    threshold: local ? null : n,
    maxDeviationBps: deviationProblem ? null : deviationBps,
  };
  const inline = useInlineCheck(local || deviationProblem ? null : { oracle: setting });
  const problem = save.error ?? inline;
  const reason = local ?? under(problem, 'oracle');
  return (
    <form
      className="settings-form"
      data-testid="oracle-form"
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate({ oracle: setting });
      }}
    >
      <fieldset>
        <legend className="small">Sources asked</legend>
        <div className="row gap wrap">
          {sources.map((s) => (
            <label key={s.name} className="check">
              <input
                type="checkbox"
                checked={!off.includes(s.name)}
                onChange={(e) => {
                  setOff(e.target.checked ? off.filter((x) => x !== s.name) : [...off, s.name]);
                  save.reset();
                }}
                data-testid={`oracle-source-${s.name}`}
              />
              <span>{s.name}</span>
            </label>
          ))}
        </div>
      </fieldset>
      <Field label="Sources that must agree" htmlFor="oracle-threshold">
        <input
          id="oracle-threshold"
          className="input"
          inputMode="numeric"
          value={agree}
          aria-invalid={reason ? true : undefined}
          aria-describedby={reason ? 'oracle-threshold-problem' : undefined}
          onChange={(e) => {
            setAgree(e.target.value);
            save.reset();
          }}
          data-testid="oracle-threshold"
        />
      </Field>
      <FieldProblem id="oracle-threshold-problem" text={reason} />
      <TextField
        id="oracle-deviation"
        label="Leave out answers further from the median than (%)"
        value={deviation}
        problem={deviationProblem}
        onChange={(v) => {
          setDeviation(v);
          save.reset();
        }}
      />
      <ErrorNote error={unclaimed(problem, ['oracle'])} />
      {save.isSuccess && (
        <p className="ok-text" role="status" data-testid="oracle-saved">
          Saved.
        </p>
      )}
      <div className="actions start">
        <button
          type="submit"
          className="button primary"
          disabled={save.isPending || reason !== null || deviationProblem !== null}
          data-testid="oracle-save"
        >
          Save
        </button>
      </div>
    </form>
  );
}

/** The saved settings, for the cards that edit them (null while loading or not offered). */
export function useSavedSettings() {
  return useApi('settings.saved', {}, { retry: false });
}

/**
 * Alerts to a webhook (ntfy or Slack): posted by the host, so they arrive with no window open.
 * The address is kept in the key store; a change applies at once.
 */
export function WebhookForm({ saved }: { saved: Saved }) {
  const w = saved.saved.webhook;
  const [format, setFormat] = useState<'ntfy' | 'slack'>(w?.format ?? 'ntfy');
  const [url, setUrl] = useState('');
  const test = useApiMutation('settings.testWebhook');
  const save = useApiMutation('settings.save');
  const typed = url.trim();
  const inline = useInlineCheck(typed ? { webhook: { url: typed, format } } : null);
  const problem = test.error ?? save.error ?? inline;
  const status = (test.data ?? save.data ?? saved).webhookStatus;
  const changed = () => {
    test.reset();
    save.reset();
  };
  const setting = { ...(typed ? { url: typed } : {}), format };
  return (
    <form
      className="settings-form"
      data-testid="webhook-form"
      onSubmit={(e) => {
        e.preventDefault();
        test.reset();
        save.mutate({ webhook: setting });
      }}
    >
      <Choice
        legend="Also post alerts to a webhook"
        name="webhook-format"
        value={format}
        options={[
          { value: 'ntfy', label: 'ntfy', testId: 'webhook-ntfy' },
          { value: 'slack', label: 'Slack (incoming webhook)', testId: 'webhook-slack' },
        ]}
        onChange={(v) => {
          setFormat(v);
          changed();
        }}
      />
      <TextField
        id="webhook-url"
        label="Webhook address"
        hint={
          w
            ? `Saved: ${w.shown} (${w.format}). Type an address only to change it.`
            : format === 'ntfy'
              ? 'Your topic, e.g. https://ntfy.sh/your-topic. Warning, an auction, its settlement and your own ratio alert are posted there.'
              : 'The URL Slack gave the incoming webhook. Warning, an auction, its settlement and your own ratio alert are posted there.'
        }
        value={url}
        problem={under(problem, 'webhook.url')}
        onChange={(v) => {
          setUrl(v);
          changed();
        }}
      />
      <ErrorNote error={unclaimed(problem, ['webhook.url'])} />
      {status.last && (
        <p
          className={status.last.ok ? 'ok-text small' : 'warn-text small'}
          role="status"
          data-testid="webhook-status"
        >
          {status.last.ok
            ? `Delivered “${status.last.title}” at ${new Date(status.last.at).toLocaleTimeString()}.`
            : `Not delivered: “${status.last.title}” at ${new Date(status.last.at).toLocaleTimeString()}: ${status.last.error}.`}{' '}
          {status.sent} sent, {status.failed} failed since BitStable started.
        </p>
      )}
      {save.isSuccess && (
        <p className="ok-text" role="status" data-testid="webhook-saved">
          {save.variables?.webhook ? 'Saved: alerts go to the webhook from now on.' : 'Removed.'}
        </p>
      )}
      <div className="actions start">
        <button
          type="button"
          className="button"
          disabled={test.isPending || (!typed && !w) || inline !== null}
          onClick={() => {
            save.reset();
            test.mutate({ webhook: setting });
          }}
          data-testid="webhook-test"
        >
          {test.isPending ? 'Sending…' : 'Send a test'}
        </button>
        <button
          type="submit"
          className="button primary"
          disabled={save.isPending || (!typed && (!w || w.format === format)) || inline !== null}
          data-testid="webhook-save"
        >
          Save
        </button>
        {w && (
          <button
            type="button"
            className="button ghost"
            onClick={() => {
              test.reset();
              save.mutate({ webhook: null });
            }}
            data-testid="webhook-remove"
          >
            Remove
          </button>
        )}
      </div>
    </form>
  );
}
