/**
 * Settings saved in the app (issue 15 item 5), on a real regtest bitcoind, a real passphrase key
 * store and real files: "Test connection" says who answers (or why not, under the field), a save
 * tests first and keeps the password in the key store only, bad values are refused under their
 * field with nothing written, a restart is due only when the file changed, and the next start
 * uses what was saved under what the environment sets.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  RPC_PASSWORD_KEY,
  SavedSettingsService,
  readSavedSettings,
  withSavedSettings,
} from '../../core/app/saved-settings';
import { network } from '../../core/config/networks';
import { PassphraseKeyStore, scryptFor } from '../../core/keys/passphrase-keystore';
import type { BitStableError } from '../../core/errors';
import { testAccount } from '../helpers/keys';
import { useRegtestNode } from '../helpers/regtest';

const node = useRegtestNode();
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function fresh() {
  const dataDir = mkdtempSync(join(tmpdir(), 'bitstable-settings-'));
  dirs.push(dataDir);
  const keyStore = new PassphraseKeyStore(join(dataDir, 'regtest', 'keys'), 'not-secret', {
    scrypt: scryptFor('regtest'),
  });
  return { dataDir, keyStore };
}

async function refusal(p: Promise<unknown>): Promise<BitStableError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e as BitStableError,
  );
  if (!err) throw new Error('expected a refusal');
  return err;
}

/** The running bitcoind's own RPC settings, as Settings takes them. */
function realNode() {
  const { url, auth } = node().rpc.config;
  return auth.kind === 'cookie'
    ? { url, auth: { kind: 'cookie' as const, cookieFile: auth.cookieFile } }
    : { url, auth: { kind: 'password' as const, user: auth.user, password: auth.password } };
}

describe('settings saved in the app', () => {
  it('tests a Bitcoin node: who answers, and why one does not, under the field', async () => {
    const { dataDir, keyStore } = fresh();
    const empty = await withSavedSettings(dataDir, 'regtest', keyStore, {}, {});
    const s = new SavedSettingsService(dataDir, 'regtest', keyStore, empty.applied);

    const ok = await s.testBitcoinNode({ ...realNode(), wallet: 'nowhere' });
    expect(ok.chain).toBe('regtest');
    expect(ok.blocks).toBe((await node().rpc.call<{ blocks: number }>('getblockchaininfo')).blocks);
    expect(ok.version).toMatch(/Satoshi|Knots/);
    expect(ok.walletLoaded).toBe(false);

    // Nothing listens on this port (the node's own port plus one is its P2P port off: closed).
    const closed = await refusal(s.testBitcoinNode({ ...realNode(), url: 'http://127.0.0.1:9' }));
    expect(closed.code).toBe('NODE_UNREACHABLE');
    expect(closed.message).toContain('http://127.0.0.1:9');

    const wrongCookie = join(dataDir, 'wrong.cookie');
    writeFileSync(wrongCookie, '__cookie__:not-the-one');
    const refused = await refusal(
      s.testBitcoinNode({ url: realNode().url, auth: { kind: 'cookie', cookieFile: wrongCookie } }),
    );
    expect(refused.code).toMatch(/AUTH|UNAUTHORIZED/);

    const missing = await refusal(
      s.testBitcoinNode({
        url: realNode().url,
        auth: { kind: 'cookie', cookieFile: join(dataDir, 'no-such.cookie') },
      }),
    );
    expect(missing.message).toContain('no-such.cookie');

    const badUrl = await refusal(
      s.testBitcoinNode({ ...realNode(), url: 'http://user:pw@127.0.0.1:8332' }),
    );
    expect(badUrl.code).toBe('INVALID_ARGUMENT');
    expect(badUrl.data.field).toBe('bitcoin.url');
    expect(badUrl.message).toBe(
      'Put the credentials in the user name and password fields, not in the URL.',
    );

    const noPassword = await refusal(
      s.testBitcoinNode({ url: realNode().url, auth: { kind: 'password', user: 'me' } }),
    );
    expect(noPassword.data.field).toBe('bitcoin.password');
  });

  it('saves after a test, keeps the password in the key store only, and says a restart is due', async () => {
    const { dataDir, keyStore } = fresh();
    const started = await withSavedSettings(dataDir, 'regtest', keyStore, {}, {});
    const s = new SavedSettingsService(dataDir, 'regtest', keyStore, started.applied);
    expect((await s.view()).restartNeeded).toBe(false);

    // A node that does not answer is not saved.
    await refusal(s.save({ bitcoin: { ...realNode(), url: 'http://127.0.0.1:9' } }));
    expect(readSavedSettings(dataDir, 'regtest').bitcoin).toBeNull();

    // A dry run checks and writes nothing.
    const dry = await s.save({ bitcoin: realNode() }, { dryRun: true });
    expect(dry.restartNeeded).toBe(false);
    expect(readSavedSettings(dataDir, 'regtest').bitcoin).toBeNull();

    const withPassword = {
      url: realNode().url,
      auth: { kind: 'password' as const, user: 'someone', password: 'hunter2-not-real' },
    };
    // Wrong credentials are refused by the node: not saved either.
    await refusal(s.save({ bitcoin: withPassword }));
    expect(await keyStore.has(RPC_PASSWORD_KEY)).toBe(false);

    const view = await s.save({ bitcoin: realNode() });
    expect(view.restartNeeded).toBe(true);
    expect(view.saved.bitcoin?.url).toBe(realNode().url);
    const file = readFileSync(join(dataDir, 'regtest', 'settings.json'), 'utf8');
    if (realNode().auth.kind === 'password') {
      expect(view.saved.bitcoin?.passwordSaved).toBe(true);
      const auth = node().rpc.config.auth;
      expect(file).not.toContain(auth.kind === 'userpass' ? auth.password : '');
    }

    // The next start uses the saved node where the environment names none…
    const next = await withSavedSettings(dataDir, 'regtest', keyStore, {}, {});
    expect(next.connections.bitcoin).toMatchObject({ kind: 'rpc', rpc: { url: realNode().url } });
    const restarted = new SavedSettingsService(dataDir, 'regtest', keyStore, next.applied);
    expect((await restarted.view()).restartNeeded).toBe(false);
    // …and the environment's wins where it names one, and Settings says so.
    const fromEnv = await withSavedSettings(
      dataDir,
      'regtest',
      keyStore,
      {
        bitcoin: {
          kind: 'rpc',
          rpc: { url: 'http://127.0.0.1:1', auth: realNode().auth as never },
        },
      },
      { BITSTABLE_RPC_URL: 'http://127.0.0.1:1' },
    );
    expect(fromEnv.connections.bitcoin).toMatchObject({ rpc: { url: 'http://127.0.0.1:1' } });
    expect(fromEnv.applied.fromEnvironment).toEqual(['BITSTABLE_RPC_URL']);

    // Back to BitStable's own node.
    expect((await restarted.save({ bitcoin: null })).restartNeeded).toBe(true);
    expect(readSavedSettings(dataDir, 'regtest').bitcoin).toBeNull();
  });

  it('checks the guardian key and the oracle as the next start will, under their field', async () => {
    const { dataDir, keyStore } = fresh();
    const started = await withSavedSettings(dataDir, 'regtest', keyStore, {}, {});
    const s = new SavedSettingsService(dataDir, 'regtest', keyStore, started.applied);
    const guardian = testAccount('settings-guardian', network('regtest'));

    const notKey = await refusal(s.save({ guardianKey: 'xpub-nonsense' }));
    expect(notKey.data.field).toBe('guardianKey');
    const mainnet = testAccount('settings-guardian', network('mainnet'));
    const wrongNet = await refusal(s.save({ guardianKey: mainnet.expression }));
    expect(wrongNet.data.field).toBe('guardianKey');
    expect(readSavedSettings(dataDir, 'regtest').guardianKey).toBeNull();

    await s.save({ guardianKey: guardian.expression });
    const next = await withSavedSettings(dataDir, 'regtest', keyStore, {}, {});
    expect(next.connections.guardian).toBe(guardian.expression);

    const tooMany = await refusal(
      s.save({
        oracle: {
          disabled: ['kraken', 'coinbase', 'bitstamp'],
          threshold: 9,
          maxDeviationBps: null,
        },
      }),
    );
    expect(tooMany.data.field).toBe('oracle');
    expect(readSavedSettings(dataDir, 'regtest').oracle).toBeNull();
    await s.save({ oracle: { disabled: ['kraken'], threshold: 1, maxDeviationBps: 350 } });
    const withOracle = await withSavedSettings(dataDir, 'regtest', keyStore, {}, {});
    expect(withOracle.connections.oracleOverrides).toEqual({
      sources: {
        binance: { enabled: true },
        coinbase: { enabled: true },
        kraken: { enabled: false },
        bitstamp: { enabled: true },
        simulated: { enabled: true },
      },
      threshold: 1,
      maxDeviationBps: 350,
    });

    // A wallet host's guardian is its node's.
    const wallet = new SavedSettingsService(
      dataDir,
      'regtest',
      keyStore,
      started.applied,
      'wallet',
    );
    const notHere = await refusal(wallet.save({ guardianKey: guardian.expression }));
    expect(notHere.message).toMatch(/protocol node/);
  });

  it('keeps your own ratio alert for the window and the webhook, at once and above liquidation only', async () => {
    const { dataDir, keyStore } = fresh();
    const started = await withSavedSettings(dataDir, 'regtest', keyStore, {}, {});
    const s = new SavedSettingsService(dataDir, 'regtest', keyStore, started.applied);
    const atAuction = await refusal(s.save({ ratioAlertBps: 15_000 }));
    expect(atAuction.data.field).toBe('ratioAlertBps');
    expect(atAuction.message).toBe(
      'Give a ratio above 150.00 %: under it a vault is already at auction.',
    );
    expect(s.ratioAlertBps()).toBeNull();
    const view = await s.save({ ratioAlertBps: 18_000 });
    expect(view.saved.ratioAlertBps).toBe(18_000);
    // Read at each look: no restart.
    expect(view.restartNeeded).toBe(false);
    expect(s.ratioAlertBps()).toBe(18_000);
    expect((await s.save({ ratioAlertBps: null })).saved.ratioAlertBps).toBeNull();
  });
});
