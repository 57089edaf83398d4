/**
 * A KeyStore that keeps one sealed file per secret in a private directory. What seals the bytes
 * is a SecretCipher (a passphrase here; Electron safeStorage in main/), so this file only deals
 * with the file system: permissions, atomic writes, never overwriting.
 */
import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { BitStableError } from '../errors';
import {
  checkSecret,
  checkSecretName,
  existsError,
  keyStoreError,
  type KeyStore,
  type SecretCipher,
} from './keystore';

const errno = (err: unknown) => (err as NodeJS.ErrnoException | undefined)?.code;

/** Secrets as sealed files in `dir` (mode 0700), one file per secret (mode 0600). */
export class FileKeyStore implements KeyStore {
  constructor(
    readonly dir: string,
    private readonly cipher: SecretCipher,
  ) {}

  /** The file that holds the secret `name`. */
  pathOf(name: string): string {
    return join(this.dir, `${checkSecretName(name)}.secret`);
  }

  async has(name: string): Promise<boolean> {
    try {
      await stat(this.pathOf(name));
      return true;
    } catch (err) {
      if (errno(err) === 'ENOENT') return false;
      throw this.ioError(name, 'read', err);
    }
  }

  async get(name: string): Promise<Uint8Array> {
    let sealed: Uint8Array;
    try {
      sealed = await readFile(this.pathOf(name));
    } catch (err) {
      if (errno(err) === 'ENOENT') {
        throw keyStoreError('missing', name, `No secret named "${name}" is stored in ${this.dir}.`);
      }
      throw this.ioError(name, 'read', err);
    }
    return this.cipher.open(sealed, name);
  }

  async put(name: string, secret: Uint8Array): Promise<void> {
    const file = this.pathOf(name);
    checkSecret(name, secret);
    if (await this.has(name)) throw existsError(name);
    const sealed = await this.cipher.seal(secret, name);
    await this.ensureDir(name);
    // A leading dot keeps temp files out of the name space (names start with a letter or digit).
    const tmp = join(this.dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await writeDurably(tmp, sealed);
      await publish(tmp, file, name);
      await syncDir(this.dir);
    } catch (err) {
      if (err instanceof BitStableError) throw err;
      throw this.ioError(name, 'write', err);
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  async delete(name: string): Promise<void> {
    try {
      await unlink(this.pathOf(name));
      await syncDir(this.dir);
    } catch (err) {
      if (errno(err) !== 'ENOENT') throw this.ioError(name, 'delete', err);
    }
  }

  private async ensureDir(name: string): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      // mkdir's mode is filtered by the umask and ignored for an existing directory.
      await chmod(this.dir, 0o700);
    } catch (err) {
      throw this.ioError(name, 'create the directory for', err);
    }
  }

  private ioError(name: string, verb: string, err: unknown) {
    return keyStoreError(
      'io',
      name,
      `Could not ${verb} the key file for "${name}" in ${this.dir} (${errno(err) ?? 'error'}). Check that the folder exists and is yours.`,
      err,
    );
  }
}

/** Writes a new file (0600) and flushes it to disk before anyone can see it under its name. */
async function writeDurably(path: string, bytes: Uint8Array): Promise<void> {
  const fh = await open(path, 'wx', 0o600);
  try {
    // The open mode is filtered by the umask; make it exactly owner read/write.
    await fh.chmod(0o600);
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Gives the temp file its final name atomically, refusing if the name is taken: link() fails
 * with EEXIST where rename() would silently replace, which matters when two starts race to
 * create the same seed. File systems without hard links fall back to check-then-rename.
 */
async function publish(tmp: string, file: string, name: string): Promise<void> {
  try {
    await link(tmp, file);
    return;
  } catch (err) {
    if (errno(err) === 'EEXIST') throw existsError(name);
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV'].includes(errno(err) ?? '')) {
      throw err;
    }
  }
  const taken = await stat(file).then(
    () => true,
    () => false,
  );
  if (taken) throw existsError(name);
  await rename(tmp, file);
}

/**
 * Flushes the directory entry so a new or removed file survives a power cut. Best effort: some
 * platforms and file systems (Windows, some network mounts) cannot fsync a directory.
 */
async function syncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // The file itself was fsynced; only the directory entry's durability is left to the OS.
  }
}
