/**
 * Keys at rest on the desktop: the safeStorage cipher under the core's FileKeyStore (with a fake
 * safeStorage that really encrypts, as the OS keychain would), the keychain check that treats
 * Linux's basic_text as no keychain, and the choice of store.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isBitStableError } from '../../core/errors';
import { FileKeyStore } from '../../core/keys/file-keystore';
import {
  chooseKeyStore,
  hasSecrets,
  SafeStorageCipher,
  safeStorageStatus,
  type KeyStoreSituation,
  type SafeStorageLike,
} from '../../main/keystore';

/** A stand-in for the OS keychain: AES-256-GCM under a key only this "user" has. */
class FakeSafeStorage implements SafeStorageLike {
  available = true;
  backend = 'gnome_libsecret';
  private readonly key = randomBytes(32);
  isEncryptionAvailable() {
    return this.available;
  }
  getSelectedStorageBackend() {
    return this.backend;
  }
  encryptString(text: string): Buffer {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([c.update(text, 'utf8'), c.final()]);
    return Buffer.concat([iv, c.getAuthTag(), body]);
  }
  decryptString(data: Buffer): string {
    const d = createDecipheriv('aes-256-gcm', this.key, data.subarray(0, 12));
    d.setAuthTag(data.subarray(12, 28));
    return Buffer.concat([d.update(data.subarray(28)), d.final()]).toString('utf8');
  }
}

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'bitstable-keychain-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function reason(p: Promise<unknown>): Promise<unknown> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isBitStableError(err, 'KEYSTORE_ERROR')).toBe(true);
  return (err as { data: { reason: unknown } }).data.reason;
}

describe('the safeStorage key store', () => {
  it('keeps a secret sealed on disk and gives it back', async () => {
    const dir = tempDir();
    const store = new FileKeyStore(dir, new SafeStorageCipher(new FakeSafeStorage()));
    const seed = randomBytes(64);
    await store.put('protocol-seed.regtest', seed);
    expect(Buffer.from(await store.get('protocol-seed.regtest')).equals(seed)).toBe(true);
    const onDisk = readFileSync(store.pathOf('protocol-seed.regtest'));
    expect(onDisk.includes(seed)).toBe(false);
    expect(onDisk.toString('utf8')).not.toContain(seed.toString('base64'));
    expect(await hasSecrets(dir)).toBe(true);
  });

  it('refuses a key file copied over another secret’s name', async () => {
    const store = new FileKeyStore(tempDir(), new SafeStorageCipher(new FakeSafeStorage()));
    await store.put('owner-mnemonic.regtest', randomBytes(32));
    copyFileSync(store.pathOf('owner-mnemonic.regtest'), store.pathOf('protocol-seed.regtest'));
    expect(await reason(store.get('protocol-seed.regtest'))).toBe('decrypt');
  });

  it('cannot be read by another user’s keychain', async () => {
    const dir = tempDir();
    await new FileKeyStore(dir, new SafeStorageCipher(new FakeSafeStorage())).put(
      'protocol-seed.regtest',
      randomBytes(64),
    );
    const other = new FileKeyStore(dir, new SafeStorageCipher(new FakeSafeStorage()));
    expect(await reason(other.get('protocol-seed.regtest'))).toBe('decrypt');
  });

  it('stores nothing while the keychain is unavailable', async () => {
    const safe = new FakeSafeStorage();
    safe.available = false;
    const dir = tempDir();
    const store = new FileKeyStore(dir, new SafeStorageCipher(safe));
    expect(await reason(store.put('protocol-seed.regtest', randomBytes(64)))).toBe('io');
    expect(await hasSecrets(dir)).toBe(false);
  });

  it('refuses a file another store wrote', async () => {
    const store = new FileKeyStore(tempDir(), new SafeStorageCipher(new FakeSafeStorage()));
    writeFileSync(store.pathOf('x'), '{"version":1,"cipher":"aes-256-gcm"}');
    expect(await reason(store.get('x'))).toBe('decrypt');
  });
});

describe('the keychain check', () => {
  it('counts Linux’s basic_text (a hard-coded key) as no keychain', () => {
    const safe = new FakeSafeStorage();
    safe.backend = 'basic_text';
    expect(safeStorageStatus(safe, 'linux')).toMatchObject({ available: false });
    safe.backend = 'kwallet6';
    expect(safeStorageStatus(safe, 'linux')).toEqual({ available: true, backend: 'kwallet6' });
  });

  it('trusts the Keychain and DPAPI when safeStorage offers them', () => {
    expect(safeStorageStatus(new FakeSafeStorage(), 'darwin')).toEqual({
      available: true,
      backend: 'keychain',
    });
    const off = new FakeSafeStorage();
    off.available = false;
    expect(safeStorageStatus(off, 'win32')).toMatchObject({ available: false });
  });
});

describe('choosing the key store', () => {
  const none = { available: false as const, reason: 'No keyring.' };
  const yes = { available: true as const };
  const fresh = { safeStorage: false, passphrase: false };
  const s = (over: Partial<KeyStoreSituation>): KeyStoreSituation => ({
    network: 'mainnet',
    keychain: yes,
    existing: fresh,
    ...over,
  });

  it.each([
    ['a fresh install with a keychain', s({}), { kind: 'safeStorage' }],
    [
      'a fresh install without one, with a passphrase',
      s({ keychain: none, passphrase: 'pw' }),
      { kind: 'passphrase', passphrase: 'pw' },
    ],
    [
      'regtest without a keychain',
      s({ keychain: none, network: 'regtest' }),
      { kind: 'regtest-generated-passphrase' },
    ],
    [
      'keys in the keychain store',
      s({ existing: { safeStorage: true, passphrase: false }, passphrase: 'pw' }),
      { kind: 'safeStorage' },
    ],
    [
      'keys in a passphrase store, keychain or not',
      s({ existing: { safeStorage: false, passphrase: true }, passphrase: 'pw' }),
      { kind: 'passphrase', passphrase: 'pw' },
    ],
  ])('%s', (_what, situation, expected) => {
    expect(chooseKeyStore(situation)).toEqual(expected);
  });

  it('refuses to keep mainnet keys in plaintext without a keychain or passphrase, and says what to do', () => {
    const choice = chooseKeyStore(s({ keychain: none }));
    expect(choice.kind).toBe('refuse');
    expect(choice.kind === 'refuse' && choice.message).toMatch(/BITSTABLE_PASSPHRASE/);
  });

  it('refuses when the keychain holding the keys is gone (never mints new keys)', () => {
    expect(
      chooseKeyStore(
        s({ keychain: none, existing: { safeStorage: true, passphrase: false }, passphrase: 'pw' }),
      ).kind,
    ).toBe('refuse');
  });

  it('refuses a passphrase store without its passphrase off regtest', () => {
    expect(chooseKeyStore(s({ existing: { safeStorage: false, passphrase: true } })).kind).toBe(
      'refuse',
    );
  });
});
