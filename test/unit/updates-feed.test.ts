/**
 * The signed update feed end to end, over real HTTP: a loopback server (127.0.0.1, port 0) serves
 * releases in the layout electron-builder publishes — latest-linux.yml (version, files[] with
 * url/sha512/size, path, sha512, releaseDate), the artifact beside it — plus our
 * latest-linux.yml.sig. Each folder is one release, good or broken in one way.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UpdateStatus } from '../../preload/bridge';
import {
  UpdateController,
  type OfferedUpdateInfo,
  type ProgressLike,
  type UpdaterLike,
} from '../../main/updates/controller';
import { publicKeyToBase64, signFeed } from '../../main/updates/feed-signature';
import { highestSeenStore } from '../../main/updates/seen';
import {
  fetchSignedFeed,
  UpdateVerificationError,
  verifyArtifact,
  type UpdateErrorCode,
} from '../../main/updates/verify';
import { createPublicKey, type KeyObject } from 'node:crypto';

const CURRENT = '0.1.0';
const FEED = 'latest-linux.yml';
const sha512 = (b: Uint8Array) => createHash('sha512').update(b).digest('base64');

const releaseKey = generateKeyPairSync('ed25519').privateKey;
const otherKey = generateKeyPairSync('ed25519').privateKey;
const TRUSTED = [publicKeyToBase64(createPublicKey(releaseKey))];

/** latest-linux.yml as electron-builder writes it. */
function feedYaml(version: string, artifact: string, hash: string, size: number): string {
  return [
    `version: ${version}`,
    'files:',
    `  - url: ${artifact}`,
    `    sha512: ${hash}`,
    `    size: ${size}`,
    '    blockMapSize: 1234',
    `path: ${artifact}`,
    `sha512: ${hash}`,
    "releaseDate: '2026-03-01T12:00:00.000Z'",
    'releaseNotes: <p>Faster health pass.</p><ul><li>Signed feeds</li></ul>',
    '',
  ].join('\n');
}

let root: string;
let server: Server;
let base: string;

/** Writes one release folder; `mutate` breaks it the way a scenario needs. */
function release(
  name: string,
  options: {
    version?: string;
    artifact?: Buffer;
    feedSha512?: string;
    sign?: KeyObject | null;
    signAs?: string;
    signature?: (good: string) => string;
    editFeedAfterSigning?: (feed: string) => string;
    tamperArtifact?: boolean;
    /** Until when the signature holds (default: 30 days from now). */
    expires?: Date;
  } = {},
): void {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const version = options.version ?? '0.2.0';
  const artifactName = `BitStable-${version}.AppImage`;
  const artifact = options.artifact ?? randomBytes(64 * 1024 + 17);
  const feed = feedYaml(
    version,
    artifactName,
    options.feedSha512 ?? sha512(artifact),
    artifact.length,
  );
  const served = Buffer.from(artifact);
  if (options.tamperArtifact) served[served.length >> 1]! ^= 0x01;
  writeFileSync(join(dir, artifactName), served);
  writeFileSync(
    join(dir, FEED),
    options.editFeedAfterSigning ? options.editFeedAfterSigning(feed) : feed,
  );
  const key = options.sign === undefined ? releaseKey : options.sign;
  if (key) {
    const sig = signFeed(options.signAs ?? FEED, Buffer.from(feed), key, options.expires);
    writeFileSync(join(dir, `${FEED}.sig`), options.signature ? options.signature(sig) : sig);
  }
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'bitstable-updates-'));
  release('good');
  release('tampered', { tamperArtifact: true });
  release('wrong-sha512', { feedSha512: sha512(Buffer.from('some other build')) });
  release('edited-after-signing', {
    editFeedAfterSigning: (f) =>
      f.replace(/sha512: (\S+)/g, `sha512: ${sha512(Buffer.from('evil'))}`),
  });
  release('unsigned', { sign: null });
  release('other-key', { sign: otherKey });
  release('forged', {
    // The trusted key's id, someone else's signature bytes.
    signature: (good) => {
      const forged = JSON.parse(signFeed(FEED, Buffer.from('x'), otherKey)) as {
        signature: string;
      };
      return JSON.stringify({ ...JSON.parse(good), signature: forged.signature });
    },
  });
  release('other-platform', { signAs: 'latest-mac.yml' });
  release('garbage-signature', { signature: () => 'not a signature' });
  release('downgrade', { version: '0.0.9' });
  release('same-version', { version: CURRENT });
  // A feed signed last year for a month: a frozen mirror still serving it.
  release('expired', { expires: new Date(Date.now() - 86_400_000) });
  // The signature's date moved forward by hand: the date is signed, so it no longer verifies.
  release('expiry-edited', {
    expires: new Date(Date.now() - 86_400_000),
    signature: (good) =>
      JSON.stringify({
        ...JSON.parse(good),
        expires: new Date(Date.now() + 86_400_000).toISOString(),
      }),
  });
  // Newer than the running app, older than a feed already seen: an old feed replayed.
  release('replayed', { version: '0.1.5' });

  server = createServer((req, res) => {
    const path = normalize(
      join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)),
    );
    if (!path.startsWith(root) || !existsSync(path) || req.method !== 'GET') {
      res.writeHead(404).end('not found');
      return;
    }
    const body = readFileSync(path);
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((done) => server.close(() => done()));
  rmSync(root, { recursive: true, force: true });
});

const feedUrl = (scenario: string) => `${base}/${scenario}/${FEED}`;

/** What the app does: verify the signed feed, download the artifact, verify it. */
async function verifyRelease(scenario: string): Promise<string> {
  const offer = await fetchSignedFeed({
    feedUrl: feedUrl(scenario),
    publicKeys: TRUSTED,
    currentVersion: CURRENT,
    fetch,
  });
  expect(offer.kind).toBe('newer');
  const entry = offer.feed.files[0]!;
  const res = await fetch(`${base}/${scenario}/${entry.url}`);
  const file = join(mkdtempSync(join(tmpdir(), 'bitstable-dl-')), entry.url);
  writeFileSync(file, Buffer.from(await res.arrayBuffer()));
  await verifyArtifact(file, offer.feed, entry.url);
  return offer.feed.version;
}

async function refusal(p: Promise<unknown>): Promise<UpdateErrorCode> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UpdateVerificationError);
  return (err as UpdateVerificationError).code;
}

describe('the update verifier', () => {
  it('accepts a correctly signed feed and its artifact', async () => {
    expect(await verifyRelease('good')).toBe('0.2.0');
  });

  it('rejects an artifact with one byte changed', async () => {
    expect(await refusal(verifyRelease('tampered'))).toBe('ARTIFACT_SHA512_MISMATCH');
  });

  it('rejects a signed feed whose sha512 is not the artifact’s', async () => {
    expect(await refusal(verifyRelease('wrong-sha512'))).toBe('ARTIFACT_SHA512_MISMATCH');
  });

  it('rejects a feed whose sha512 was changed after signing', async () => {
    expect(await refusal(verifyRelease('edited-after-signing'))).toBe('FEED_SIGNATURE_INVALID');
  });

  it('rejects a feed with no signature', async () => {
    expect(await refusal(verifyRelease('unsigned'))).toBe('FEED_SIGNATURE_MISSING');
  });

  it.each([
    ['other-key', 'unknown-key'],
    ['forged', 'bad-signature'],
    ['other-platform', 'wrong-file'],
    ['garbage-signature', 'malformed'],
  ])('rejects a wrong signature (%s)', async (scenario, reason) => {
    const err = await verifyRelease(scenario).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpdateVerificationError);
    expect((err as UpdateVerificationError).code).toBe('FEED_SIGNATURE_INVALID');
    expect((err as UpdateVerificationError).data.reason).toBe(reason);
  });

  it('rejects a downgrade, even correctly signed', async () => {
    expect(await refusal(verifyRelease('downgrade'))).toBe('UPDATE_DOWNGRADE');
  });

  it('treats the running version as no update', async () => {
    const offer = await fetchSignedFeed({
      feedUrl: feedUrl('same-version'),
      publicKeys: TRUSTED,
      currentVersion: CURRENT,
      fetch,
    });
    expect(offer.kind).toBe('current');
  });

  it('trusts nothing when the app ships no key', async () => {
    expect(
      await refusal(
        fetchSignedFeed({
          feedUrl: feedUrl('good'),
          publicKeys: [],
          currentVersion: CURRENT,
          fetch,
        }),
      ),
    ).toBe('NO_SIGNING_KEY');
  });

  it('says so when the server is unreachable or the feed is missing', async () => {
    expect(
      await refusal(
        fetchSignedFeed({
          feedUrl: `${base}/nowhere/${FEED}`,
          publicKeys: TRUSTED,
          currentVersion: CURRENT,
          fetch,
        }),
      ),
    ).toBe('FEED_UNAVAILABLE');
  });
});

/**
 * Stands in for electron-updater: reads the (unverified) feed the way it does, compares versions,
 * downloads the file into a cache folder, reports progress and the downloaded path.
 */
class FakeUpdater implements UpdaterLike {
  downloads = 0;
  installs = 0;
  private info: OfferedUpdateInfo | null = null;
  private listeners: Record<string, Array<(arg: never) => void>> = {};
  readonly cache = mkdtempSync(join(tmpdir(), 'bitstable-cache-'));

  constructor(private readonly scenario: () => string) {}

  on(event: 'download-progress', listener: (p: ProgressLike) => void): unknown;
  on(event: 'update-downloaded', listener: (e: { downloadedFile: string }) => void): unknown;
  on(event: string, listener: (arg: never) => void): unknown {
    (this.listeners[event] ??= []).push(listener);
    return this;
  }

  private emit(event: string, arg: unknown): void {
    for (const l of this.listeners[event] ?? []) (l as (a: unknown) => void)(arg);
  }

  async checkForUpdates() {
    const text = await (await fetch(feedUrl(this.scenario()))).text();
    this.info = yaml.load(text) as OfferedUpdateInfo;
    const [a, b] = [this.info.version, CURRENT].map((v) => v.split('.').map(Number)) as [
      number[],
      number[],
    ];
    const newer = a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!;
    return { isUpdateAvailable: newer > 0, updateInfo: this.info };
  }

  async downloadUpdate() {
    this.downloads++;
    const file = this.info!.files[0]!;
    const body = Buffer.from(
      await (await fetch(`${base}/${this.scenario()}/${file.url}`)).arrayBuffer(),
    );
    this.emit('download-progress', {
      percent: 50,
      transferred: body.length / 2,
      total: body.length,
      bytesPerSecond: 1e6,
    });
    this.emit('download-progress', {
      percent: 100,
      transferred: body.length,
      total: body.length,
      bytesPerSecond: 1e6,
    });
    const path = join(this.cache, file.url);
    writeFileSync(path, body);
    this.emit('update-downloaded', { ...this.info, downloadedFile: path });
    return [path];
  }

  quitAndInstall() {
    this.installs++;
  }
}

function controllerFor(
  scenario: string,
  options: {
    verifyWith?: string;
    disabledReason?: string;
    highestSeen?: ReturnType<typeof highestSeenStore>;
  } = {},
) {
  const updater = new FakeUpdater(() => scenario);
  const statuses: UpdateStatus[] = [];
  let stopped = 0;
  const controller = new UpdateController({
    updater,
    currentVersion: CURRENT,
    publicKeys: TRUSTED,
    // What the app fetches to verify; normally the same URL electron-updater read.
    feedUrl: () => feedUrl(options.verifyWith ?? scenario),
    fetch,
    onStatus: (s) => statuses.push(s),
    beforeInstall: async () => {
      stopped++;
    },
    ...(options.disabledReason ? { disabledReason: options.disabledReason } : {}),
    ...(options.highestSeen ? { highestSeen: options.highestSeen } : {}),
  });
  return { controller, updater, statuses, stopped: () => stopped };
}

describe('the update controller', () => {
  it('downloads a verified update in the background and installs it only on the user’s word', async () => {
    const { controller, updater, statuses, stopped } = controllerFor('good');
    expect((await controller.install()).ok).toBe(false);

    const status = await controller.check();
    expect(status).toMatchObject({
      state: 'ready',
      version: '0.2.0',
      releaseDate: '2026-03-01T12:00:00.000Z',
    });
    expect(status.releaseNotes).toBe('Faster health pass.\n• Signed feeds');
    expect(statuses.map((s) => s.state)).toEqual([
      'checking',
      'available',
      'downloading',
      'downloading',
      'downloading',
      'ready',
    ]);
    expect(statuses.filter((s) => s.state === 'downloading').map((s) => s.percent)).toEqual([
      0, 50, 100,
    ]);
    expect(updater.installs).toBe(0);

    expect(await controller.install()).toMatchObject({ ok: true });
    expect(stopped()).toBe(1);
    expect(updater.installs).toBe(1);
  });

  it('refuses a tampered download, deletes it, and never installs it', async () => {
    const { controller, updater } = controllerFor('tampered');
    expect(await controller.check()).toMatchObject({
      state: 'error',
      code: 'ARTIFACT_SHA512_MISMATCH',
    });
    expect(existsSync(join(updater.cache, 'BitStable-0.2.0.AppImage'))).toBe(false);
    expect((await controller.install()).ok).toBe(false);
    expect(updater.installs).toBe(0);
  });

  it.each([
    ['unsigned', 'FEED_SIGNATURE_MISSING'],
    ['other-key', 'FEED_SIGNATURE_INVALID'],
    ['edited-after-signing', 'FEED_SIGNATURE_INVALID'],
  ])('does not even download when the feed is %s', async (scenario, code) => {
    const { controller, updater } = controllerFor(scenario);
    expect(await controller.check()).toMatchObject({ state: 'error', code });
    expect(updater.downloads).toBe(0);
  });

  it('refuses when the updater was served another feed than the signed one', async () => {
    // electron-updater read "wrong-sha512"'s feed; the signed feed of that version is "good"'s.
    const { controller, updater } = controllerFor('wrong-sha512', { verifyWith: 'good' });
    expect(await controller.check()).toMatchObject({ state: 'error', code: 'FEED_MISMATCH' });
    expect(updater.downloads).toBe(0);
  });

  it('reports no update for an older or the same version', async () => {
    for (const scenario of ['downgrade', 'same-version']) {
      const { controller, updater } = controllerFor(scenario);
      expect(await controller.check()).toMatchObject({ state: 'none' });
      expect(updater.downloads).toBe(0);
    }
  });

  it('does nothing when updates are disabled, and says why', async () => {
    const { controller } = controllerFor('good', {
      disabledReason: 'This build has no update signing key.',
    });
    expect(await controller.check()).toEqual({
      state: 'disabled',
      message: 'This build has no update signing key.',
    });
  });

  it('refuses to install a verified download that changed on disk since', async () => {
    const { controller, updater } = controllerFor('good');
    await controller.check();
    const file = join(updater.cache, 'BitStable-0.2.0.AppImage');
    const bytes = readFileSync(file);
    bytes[0]! ^= 0xff;
    writeFileSync(file, bytes);
    expect(await controller.install()).toMatchObject({ ok: false });
    expect(controller.status()).toMatchObject({ state: 'error', code: 'ARTIFACT_SHA512_MISMATCH' });
    expect(updater.installs).toBe(0);
  });

  it('refuses a feed whose signature has expired (a frozen or replaying mirror), and one whose date was moved', async () => {
    expect(await refusal(verifyRelease('expired'))).toBe('UPDATE_FEED_EXPIRED');
    const moved = await fetchSignedFeed({
      feedUrl: feedUrl('expiry-edited'),
      publicKeys: TRUSTED,
      currentVersion: CURRENT,
      fetch,
    }).catch((e: unknown) => e as UpdateVerificationError);
    expect(moved).toMatchObject({
      code: 'FEED_SIGNATURE_INVALID',
      data: { reason: 'bad-signature' },
    });
    // The good feed, checked from a clock 31 days on: expired too.
    expect(
      await refusal(
        fetchSignedFeed({
          feedUrl: feedUrl('good'),
          publicKeys: TRUSTED,
          currentVersion: CURRENT,
          fetch,
          now: Date.now() + 31 * 86_400_000,
        }),
      ),
    ).toBe('UPDATE_FEED_EXPIRED');
  });

  it('refuses an older feed than one already seen, kept across restarts (1.1.5 offered when 1.3.0 is out)', async () => {
    const seen = highestSeenStore(
      join(mkdtempSync(join(tmpdir(), 'bitstable-seen-')), 'seen.json'),
    );
    const check = (scenario: string) =>
      fetchSignedFeed({
        feedUrl: feedUrl(scenario),
        publicKeys: TRUSTED,
        currentVersion: CURRENT,
        fetch,
        highestSeen: seen.get(),
      }).then((o) => {
        seen.set(o.feed.version);
        return o.feed.version;
      });
    expect(await check('good')).toBe('0.2.0');
    expect(await refusal(check('replayed'))).toBe('UPDATE_FEED_STALE');
    seen.set('0.1.0'); // never lowers it
    expect(seen.get()).toBe('0.2.0');
  });

  it('the controller remembers the newest feed it verified and refuses an older one after it', async () => {
    const seen = highestSeenStore(
      join(mkdtempSync(join(tmpdir(), 'bitstable-seen-')), 'seen.json'),
    );
    expect(await controllerFor('good', { highestSeen: seen }).controller.check()).toMatchObject({
      state: 'ready',
    });
    expect(seen.get()).toBe('0.2.0');
    expect(await controllerFor('replayed', { highestSeen: seen }).controller.check()).toMatchObject(
      { state: 'error', code: 'UPDATE_FEED_STALE' },
    );
  });
});
