import { mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InMemoryKeyStore, type KeyStore } from '../../core/keys/keystore';
import { PassphraseKeyStore, REGTEST_SCRYPT } from '../../core/keys/passphrase-keystore';
import { checkPassphraseStrength } from '../../core/keys/passphrase-strength';

const PASSPHRASE = 'correct horse battery staple';
const posix = process.platform !== 'win32';

let dir: string;
beforeEach(async () => {
  dir = join(await mkdtemp(join(tmpdir(), 'bitstable-keystore-')), 'keys');
});
afterEach(async () => {
  await rm(join(dir, '..'), { recursive: true, force: true });
});

/** Replaces one character of a JSON field's value in the key file: a one-byte change. */
async function tamper(file: string, field: string): Promise<void> {
  const text = await readFile(file, 'utf8');
  const at = text.indexOf(`"${field}": `) + field.length + 4;
  const pos = text[at] === '"' ? at + 1 : at;
  // The first character of a base64 value carries its first byte's top bits, so this always
  // changes the decoded bytes; for a number it changes a digit.
  const ch = text[pos]!;
  const other = /\d/.test(ch) ? String((Number(ch) + 1) % 10) : ch === 'A' ? 'B' : 'A';
  await writeFile(file, text.slice(0, pos) + other + text.slice(pos + 1));
}

describe('PassphraseKeyStore', () => {
  it('seals new files at scrypt N = 2^17; a file made at 2^15 (older, or regtest) still opens', async () => {
    const secret = randomBytes(32);
    const store = new PassphraseKeyStore(dir, PASSPHRASE);
    await store.put('new', secret);
    const kdf = (JSON.parse(await readFile(store.pathOf('new'), 'utf8')) as { kdf: { N: number } })
      .kdf;
    expect(kdf.N).toBe(2 ** 17);
    await new PassphraseKeyStore(dir, PASSPHRASE, { scrypt: REGTEST_SCRYPT }).put('old', secret);
    expect(
      (JSON.parse(await readFile(store.pathOf('old'), 'utf8')) as { kdf: { N: number } }).kdf.N,
    ).toBe(2 ** 15);
    expect(Buffer.from(await store.get('old'))).toEqual(secret);
  });

  it('refuses a weak passphrase for keys off regtest, with what would do', () => {
    for (const weak of ['a', 'password123', 'aaaaaaaaaaaaaaaaaaaaaaaa', 'Short1!'])
      expect(() => checkPassphraseStrength(weak, 'mainnet'), weak).toThrowError(
        /too weak for mainnet keys: use 20 characters or more/,
      );
    for (const fine of [PASSPHRASE, 'Tr0ub4dor&3xyz', 'x7#Lq9!mZ2@w'])
      expect(() => checkPassphraseStrength(fine, 'signet'), fine).not.toThrow();
    expect(() => checkPassphraseStrength('a', 'regtest')).not.toThrow();
  });

  it('round-trips a secret through a real directory, and a new instance reads it back', async () => {
    const store = new PassphraseKeyStore(dir, PASSPHRASE);
    const secret = randomBytes(32);
    expect(await store.has('protocol-seed.regtest')).toBe(false);
    await store.put('protocol-seed.regtest', secret);
    expect(await store.has('protocol-seed.regtest')).toBe(true);
    expect(Buffer.from(await store.get('protocol-seed.regtest'))).toEqual(secret);
    const again = new PassphraseKeyStore(dir, PASSPHRASE);
    expect(Buffer.from(await again.get('protocol-seed.regtest'))).toEqual(secret);
    // The atomic write leaves no temp file behind.
    expect(await readdir(dir)).toEqual(['protocol-seed.regtest.secret']);
  });

  it.runIf(posix)('keeps the directory 0700 and each file 0600', async () => {
    const store = new PassphraseKeyStore(dir, PASSPHRASE);
    await store.put('a', randomBytes(32));
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(store.pathOf('a'))).mode & 0o777).toBe(0o600);
  });

  it('writes no plaintext of the secret, and records the KDF and cipher', async () => {
    const store = new PassphraseKeyStore(dir, PASSPHRASE);
    const secret = randomBytes(32);
    const words = 'legal winner thank year wave sausage worth useful legal winner thank yellow';
    await store.put('seed', secret);
    await store.put('words', Buffer.from(words, 'utf8'));
    for (const [name, plain] of [
      ['seed', secret],
      ['words', Buffer.from(words)],
    ] as const) {
      const raw = await readFile(store.pathOf(name));
      expect(raw.includes(plain)).toBe(false);
      for (const encoding of ['hex', 'base64'] as const) {
        expect(raw.toString('utf8')).not.toContain(plain.toString(encoding));
      }
      const envelope = JSON.parse(raw.toString('utf8'));
      expect(envelope).toMatchObject({
        version: 1,
        cipher: 'aes-256-gcm',
        kdf: { name: 'scrypt', N: 2 ** 17, r: 8, p: 1 },
      });
      expect(Buffer.from(envelope.salt, 'base64')).toHaveLength(16);
      expect(Buffer.from(envelope.iv, 'base64')).toHaveLength(12);
    }
    expect(await readFile(store.pathOf('words'), 'utf8')).not.toContain('legal');
  });

  it('refuses a wrong passphrase with KEYSTORE_ERROR', async () => {
    await new PassphraseKeyStore(dir, PASSPHRASE).put('seed', randomBytes(32));
    await expect(new PassphraseKeyStore(dir, 'wrong').get('seed')).rejects.toMatchObject({
      code: 'KEYSTORE_ERROR',
      message: 'The passphrase is wrong, or the key file was changed.',
      data: { name: 'seed', reason: 'decrypt' },
    });
  });

  it.each(['ciphertext', 'tag', 'iv', 'salt', 'N'])(
    'refuses a file with one byte changed in %s with KEYSTORE_ERROR',
    async (field) => {
      const store = new PassphraseKeyStore(dir, PASSPHRASE);
      await store.put('seed', randomBytes(32));
      await tamper(store.pathOf('seed'), field);
      await expect(store.get('seed')).rejects.toMatchObject({ code: 'KEYSTORE_ERROR' });
    },
  );

  it('refuses a file that is not a key file, or a key file renamed to another secret', async () => {
    const store = new PassphraseKeyStore(dir, PASSPHRASE);
    await store.put('one', randomBytes(32));
    await rename(store.pathOf('one'), store.pathOf('two'));
    await expect(store.get('two')).rejects.toMatchObject({ code: 'KEYSTORE_ERROR' });
    await writeFile(store.pathOf('three'), 'not json');
    await expect(store.get('three')).rejects.toMatchObject({ code: 'KEYSTORE_ERROR' });
  });

  it('refuses weak scrypt parameters and an empty passphrase', () => {
    expect(
      () => new PassphraseKeyStore(dir, PASSPHRASE, { scrypt: { N: 2 ** 14, r: 8, p: 1 } }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => new PassphraseKeyStore(dir, '')).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it('never overwrites: of two racing puts one wins and the other is refused', async () => {
    const store = new PassphraseKeyStore(dir, PASSPHRASE);
    const results = await Promise.allSettled([
      store.put('seed', randomBytes(32)),
      store.put('seed', randomBytes(32)),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ code: 'KEYSTORE_ERROR', data: { reason: 'exists' } });
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe.each([
  ['InMemoryKeyStore', (): KeyStore => new InMemoryKeyStore()],
  ['PassphraseKeyStore', (): KeyStore => new PassphraseKeyStore(dir, PASSPHRASE)],
])('%s contract', (_, make) => {
  it('gets a copy, refuses overwrite, reports a missing secret, and deletes', async () => {
    const store = make();
    const secret = Uint8Array.from([1, 2, 3, 4]);
    await store.put('s', secret);
    const copy = await store.get('s');
    copy.fill(0);
    expect(await store.get('s')).toEqual(secret);
    await expect(store.put('s', secret)).rejects.toMatchObject({
      code: 'KEYSTORE_ERROR',
      data: { reason: 'exists' },
    });
    await store.delete('s');
    await store.delete('s');
    expect(await store.has('s')).toBe(false);
    await expect(store.get('s')).rejects.toMatchObject({
      code: 'KEYSTORE_ERROR',
      data: { reason: 'missing' },
    });
  });

  it('refuses names that could leave the directory, and empty secrets', async () => {
    const store = make();
    for (const name of ['../x', '.hidden', 'a/b', 'A', '']) {
      await expect(store.put(name, Uint8Array.of(1))).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
    }
    await expect(store.put('empty', new Uint8Array())).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});
