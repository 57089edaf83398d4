/**
 * The release side of signed updates: the key pair and `.sig` format, the signing script's
 * checks, versions, feed URLs and release notes.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { releaseNotesText } from '../../main/updates/controller';
import {
  checkFeedSignature,
  generateSigningKeyPair,
  keyIdOf,
  privateKeyFromPem,
  signFeed,
} from '../../main/updates/feed-signature';
import {
  feedFileName,
  feedUrlFor,
  parseAppUpdateConfig,
  sourceFromEnv,
} from '../../main/updates/source';
import { compareVersions, parseFeed, UpdateVerificationError } from '../../main/updates/verify';
import {
  loadPrivateKey,
  signFeedFile,
  verifyFeedFile,
  writeKeyPair,
} from '../../scripts/sign-release-feed';

const dir = mkdtempSync(join(tmpdir(), 'bitstable-sign-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeRelease(name: string, artifact: Buffer, listedSha512?: string): string {
  const folder = join(dir, name);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'BitStable-1.0.0.AppImage'), artifact);
  const sha = listedSha512 ?? createHash('sha512').update(artifact).digest('base64');
  const feed = join(folder, 'latest-linux.yml');
  writeFileSync(
    feed,
    `version: 1.0.0\nfiles:\n  - url: BitStable-1.0.0.AppImage\n    sha512: ${sha}\n    size: ${artifact.length}\npath: BitStable-1.0.0.AppImage\nsha512: ${sha}\nreleaseDate: '2026-01-01T00:00:00.000Z'\n`,
  );
  return feed;
}

describe('feed signatures', () => {
  const pair = generateSigningKeyPair();
  const key = privateKeyFromPem(pair.privateKeyPem);
  const feed = Buffer.from('version: 1.0.0\n');

  it('verify under the public key and name the key', () => {
    const sig = signFeed('latest.yml', feed, key);
    expect(JSON.parse(sig)).toMatchObject({
      format: 'bitstable-feed-signature',
      algorithm: 'ed25519',
      file: 'latest.yml',
      keyId: pair.keyId,
    });
    expect(checkFeedSignature('latest.yml', feed, sig, [pair.publicKey])).toEqual({
      ok: true,
      keyId: pair.keyId,
    });
    expect(pair.keyId).toBe(keyIdOf(pair.publicKey));
  });

  it('fail for a changed feed, another file name, or an untrusted key', () => {
    const sig = signFeed('latest.yml', feed, key);
    expect(
      checkFeedSignature('latest.yml', Buffer.from('version: 1.0.1\n'), sig, [pair.publicKey]),
    ).toEqual({ ok: false, reason: 'bad-signature' });
    expect(checkFeedSignature('latest-mac.yml', feed, sig, [pair.publicKey])).toEqual({
      ok: false,
      reason: 'wrong-file',
    });
    expect(
      checkFeedSignature('latest.yml', feed, sig, [generateSigningKeyPair().publicKey]),
    ).toEqual({ ok: false, reason: 'unknown-key' });
    expect(checkFeedSignature('latest.yml', feed, '{"format":"x"}', [pair.publicKey])).toEqual({
      ok: false,
      reason: 'malformed',
    });
  });

  it('accept any of several trusted keys (key rotation)', () => {
    const next = generateSigningKeyPair();
    const sig = signFeed('latest.yml', feed, privateKeyFromPem(next.privateKeyPem));
    expect(
      checkFeedSignature('latest.yml', feed, sig, [pair.publicKey, next.publicKey]),
    ).toMatchObject({ ok: true, keyId: next.keyId });
  });

  it('refuse a private key that is not Ed25519', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString();
    expect(() => privateKeyFromPem(ec)).toThrow(/Ed25519/);
  });
});

describe('the signing script', () => {
  it('keygen writes a 0600 private key and never overwrites one', async () => {
    const out = join(dir, 'release-key.pem');
    const { publicKey, keyId } = await writeKeyPair(out);
    expect(keyIdOf(publicKey)).toBe(keyId);
    if (process.platform !== 'win32') expect(statSync(out).mode & 0o777).toBe(0o600);
    await expect(writeKeyPair(out)).rejects.toThrow();
  });

  it('signs a feed from a key in the environment (PEM or base64), and the app’s check accepts it', async () => {
    const pair = generateSigningKeyPair();
    const feed = writeRelease('ok', randomBytes(4096));
    for (const value of [pair.privateKeyPem, Buffer.from(pair.privateKeyPem).toString('base64')]) {
      const key = await loadPrivateKey({ BITSTABLE_UPDATE_SIGNING_KEY: value });
      const sigPath = await signFeedFile(feed, key);
      expect(await verifyFeedFile(feed, [pair.publicKey])).toBe(pair.keyId);
      expect(JSON.parse(readFileSync(sigPath, 'utf8')).file).toBe('latest-linux.yml');
    }
  });

  it('refuses to sign a feed whose listed sha512 is not the artifact beside it', async () => {
    const pair = generateSigningKeyPair();
    const feed = writeRelease(
      'mismatch',
      randomBytes(4096),
      createHash('sha512').update('other').digest('base64'),
    );
    await expect(signFeedFile(feed, privateKeyFromPem(pair.privateKeyPem))).rejects.toThrow(
      /sha512/,
    );
  });

  it('says where the key goes when there is none', async () => {
    await expect(loadPrivateKey({})).rejects.toThrow(/BITSTABLE_UPDATE_SIGNING_KEY/);
  });
});

describe('versions', () => {
  it.each([
    ['1.0.0', '0.9.9', 1],
    ['0.10.0', '0.9.0', 1],
    ['1.0.0', '1.0.0', 0],
    ['1.0.0-beta.2', '1.0.0', -1],
    ['1.0.0-beta.10', '1.0.0-beta.2', 1],
    ['1.0.0-alpha', '1.0.0-alpha.1', -1],
    ['1.0.0-1', '1.0.0-alpha', -1],
    ['v2.0.0', '1.99.99', 1],
  ])('%s against %s', (a, b, sign) => {
    expect(Math.sign(compareVersions(a, b))).toBe(sign);
    expect(Math.sign(compareVersions(b, a))).toBe(-sign || 0);
  });

  it('a feed whose version is not a version is refused', () => {
    const sha = createHash('sha512').update('x').digest('base64');
    const err = (() => {
      try {
        parseFeed(Buffer.from(`version: latest\nfiles:\n  - url: a\n    sha512: ${sha}\n`));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(UpdateVerificationError);
    expect((err as UpdateVerificationError).code).toBe('FEED_INVALID');
  });
});

describe('update sources', () => {
  it('read app-update.yml as electron-builder writes it', () => {
    expect(
      parseAppUpdateConfig(
        'owner: bitstable\nrepo: desktop\nprovider: github\nupdaterCacheDirName: bitstable-updater\n',
      ),
    ).toEqual({
      provider: 'github',
      owner: 'bitstable',
      repo: 'desktop',
      vPrefixedTagName: true,
    });
    expect(
      parseAppUpdateConfig('provider: generic\nurl: https://updates.example.org/bitstable\n'),
    ).toEqual({
      provider: 'generic',
      url: 'https://updates.example.org/bitstable',
    });
    expect(parseAppUpdateConfig('provider: s3\nbucket: x\n')).toBeNull();
  });

  it('name the feed and its URL per platform and version', () => {
    expect(feedFileName('linux', 'x64')).toBe('latest-linux.yml');
    expect(feedFileName('linux', 'arm64')).toBe('latest-linux-arm64.yml');
    expect(feedFileName('darwin', 'arm64')).toBe('latest-mac.yml');
    expect(feedFileName('win32', 'x64')).toBe('latest.yml');
    expect(
      feedUrlFor(
        { provider: 'github', owner: 'o', repo: 'r', vPrefixedTagName: true },
        '1.2.3',
        'latest-linux.yml',
      ),
    ).toBe('https://github.com/o/r/releases/download/v1.2.3/latest-linux.yml');
    expect(
      feedUrlFor({ provider: 'generic', url: 'https://u.example/b' }, '1.2.3', 'latest.yml'),
    ).toBe('https://u.example/b/latest.yml');
  });

  it('accept BITSTABLE_UPDATE_URL over https, or http only on loopback', () => {
    expect(sourceFromEnv(undefined)).toBeNull();
    expect(sourceFromEnv('https://u.example/b/')).toEqual({
      provider: 'generic',
      url: 'https://u.example/b/',
    });
    expect(sourceFromEnv('http://127.0.0.1:8080/')).toMatchObject({ provider: 'generic' });
    expect(typeof sourceFromEnv('http://updates.example.org/')).toBe('string');
  });
});

describe('release notes', () => {
  it('reach the renderer as plain text, never markup', () => {
    expect(
      releaseNotesText(
        '<h2>1.1</h2><p>Fixes &amp; <b>speed</b></p><script>alert(1)</script><img src=x onerror=alert(1)>',
      ),
    ).toBe('1.1\nFixes & speed');
    expect(releaseNotesText([{ version: '1.1.0', note: '<p>a</p>' }])).toBe('1.1.0\na');
    expect(releaseNotesText(null)).toBeUndefined();
  });
});
