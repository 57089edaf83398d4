/**
 * Key-file behaviours a security review wants to keep holding: scrypt + AES-256-GCM with a fresh
 * salt and IV per file (checked by decrypting with node:crypto directly), the secret's name bound
 * as associated data, 0600 files in a 0700 folder (an existing looser folder is tightened), and a
 * wrong passphrase refused without anything on disk replaced.
 */
import { createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  PassphraseKeyStore,
  REGTEST_SCRYPT,
  type PassphraseEnvelope,
} from '../../core/keys/passphrase-keystore';

const PASSPHRASE = 'correct horse battery staple';
const posix = process.platform !== 'win32';

let root: string;
let dir: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'bitstable-keystore-held-'));
  dir = join(root, 'keys');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const envelopeOf = async (file: string) =>
  JSON.parse(await readFile(file, 'utf8')) as PassphraseEnvelope;

/** Opens an envelope with node:crypto alone: scrypt from its salt and cost, AES-256-GCM, `aad`. */
function openDirectly(envelope: PassphraseEnvelope, passphrase: string, aad: string): Buffer {
  const { N, r, p } = envelope.kdf;
  const key = scryptSync(
    Buffer.from(passphrase.normalize('NFKC')),
    Buffer.from(envelope.salt, 'base64'),
    32,
    { N, r, p, maxmem: 128 * N * r * p + 32 * 1024 * 1024 },
  );
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(envelope.iv, 'base64'), {
    authTagLength: 16,
  });
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(Buffer.from(envelope.tag, 'base64'));
  return Buffer.concat([
    decipher.update(Buffer.from(envelope.ciphertext, 'base64')),
    decipher.final(),
  ]);
}

describe('key files (held)', () => {
  it('seals with scrypt + AES-256-GCM, a fresh salt and IV per file: the same secret twice gives different files', async () => {
    const secret = randomBytes(32);
    const store = new PassphraseKeyStore(dir, PASSPHRASE, { scrypt: REGTEST_SCRYPT });
    const other = new PassphraseKeyStore(join(root, 'other'), PASSPHRASE, {
      scrypt: REGTEST_SCRYPT,
    });
    await store.put('a', secret);
    await store.put('b', secret);
    await other.put('a', secret); // same secret, same name, same passphrase: still a fresh file
    const envelopes = [
      await envelopeOf(store.pathOf('a')),
      await envelopeOf(store.pathOf('b')),
      await envelopeOf(other.pathOf('a')),
    ];
    for (const e of envelopes) {
      expect(e).toMatchObject({ version: 1, cipher: 'aes-256-gcm', kdf: { name: 'scrypt' } });
      expect(Buffer.from(e.salt, 'base64')).toHaveLength(16);
      expect(Buffer.from(e.iv, 'base64')).toHaveLength(12);
    }
    for (const field of ['salt', 'iv', 'ciphertext', 'tag'] as const)
      expect(new Set(envelopes.map((e) => e[field])).size, field).toBe(3);

    // What the file says is really what it is: node:crypto opens it with scrypt and AES-256-GCM.
    expect(openDirectly(envelopes[0]!, PASSPHRASE, 'bitstable-keystore/v1/a')).toEqual(secret);
    expect(openDirectly(envelopes[1]!, PASSPHRASE, 'bitstable-keystore/v1/b')).toEqual(secret);
    expect(openDirectly(envelopes[2]!, PASSPHRASE, 'bitstable-keystore/v1/a')).toEqual(secret);
    // The name is in the authenticated data: under another name the tag does not match.
    expect(() => openDirectly(envelopes[0]!, PASSPHRASE, 'bitstable-keystore/v1/b')).toThrow();
    expect(() => openDirectly(envelopes[0]!, 'wrong', 'bitstable-keystore/v1/a')).toThrow();
    expect(Buffer.from(await store.get('a'))).toEqual(secret);
    expect(Buffer.from(await store.get('b'))).toEqual(secret);
  });

  it('binds the name: a file copied under another name does not open, the original still does', async () => {
    const store = new PassphraseKeyStore(dir, PASSPHRASE, { scrypt: REGTEST_SCRYPT });
    const secret = randomBytes(32);
    await store.put('protocol-seed.regtest', secret);
    const bytes = await readFile(store.pathOf('protocol-seed.regtest'));
    // Placed through the store's own rules (a valid name), as a swapped file would be.
    await writeFile(store.pathOf('protocol-seed.signet'), bytes, { mode: 0o600 });
    await expect(store.get('protocol-seed.signet')).rejects.toMatchObject({
      code: 'KEYSTORE_ERROR',
      data: { name: 'protocol-seed.signet', reason: 'decrypt' },
    });
    expect(Buffer.from(await store.get('protocol-seed.regtest'))).toEqual(secret);
  });

  it.runIf(posix)(
    'writes 0600 files in a 0700 folder, tightening a folder that already existed looser',
    async () => {
      await mkdir(dir, { mode: 0o755 });
      await chmod(dir, 0o755);
      const store = new PassphraseKeyStore(dir, PASSPHRASE, { scrypt: REGTEST_SCRYPT });
      await store.put('a', randomBytes(32));
      await store.put('b', randomBytes(32));
      expect((await stat(dir)).mode & 0o777).toBe(0o700);
      for (const name of ['a', 'b'])
        expect((await stat(store.pathOf(name))).mode & 0o777, name).toBe(0o600);
      expect((await readdir(dir)).sort()).toEqual(['a.secret', 'b.secret']);
    },
  );

  it('refuses a wrong passphrase and replaces nothing: the file bytes stay the same, and it still opens', async () => {
    const secret = randomBytes(32);
    const store = new PassphraseKeyStore(dir, PASSPHRASE, { scrypt: REGTEST_SCRYPT });
    await store.put('seed', secret);
    const file = store.pathOf('seed');
    const bytes = await readFile(file);
    const { mtimeMs, ino } = await stat(file);

    const wrong = new PassphraseKeyStore(dir, 'not the passphrase', { scrypt: REGTEST_SCRYPT });
    await expect(wrong.get('seed')).rejects.toMatchObject({
      code: 'KEYSTORE_ERROR',
      data: { name: 'seed', reason: 'decrypt' },
    });
    // Nor can the wrong passphrase replace it with a secret of its own.
    await expect(wrong.put('seed', randomBytes(32))).rejects.toMatchObject({
      code: 'KEYSTORE_ERROR',
      data: { name: 'seed', reason: 'exists' },
    });
    expect(await wrong.has('seed')).toBe(true);

    expect(await readFile(file)).toEqual(bytes);
    const after = await stat(file);
    expect({ mtimeMs: after.mtimeMs, ino: after.ino }).toEqual({ mtimeMs, ino });
    expect(await readdir(dir)).toEqual(['seed.secret']);
    expect(Buffer.from(await store.get('seed'))).toEqual(secret);
  });
});
