/**
 * `.psbt` files opened with the app (file association, a second launch with a path, File ▸ Open):
 * read as binary (BIP174), base64 text or hex text, and handed to the window as base64 for
 * `psbt.decode`. Plain Node.
 */
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { BitStableError } from '../core/errors';
import type { OpenedPsbt } from '../preload/bridge';

const MAGIC = Buffer.from([0x70, 0x73, 0x62, 0x74, 0xff]); // "psbt" 0xff
/** psbt.decode accepts 2,000,000 base64 characters, i.e. 1.5 MB of PSBT. */
export const MAX_PSBT_BYTES = 1_500_000;

/** The `.psbt` paths among command-line arguments (a second launch, or Windows/Linux "Open with"). */
export function psbtPathsFromArgv(argv: readonly string[]): string[] {
  return argv.filter((a) => !a.startsWith('-') && /\.psbt$/i.test(a));
}

/** Reads a PSBT file in any of the three usual encodings; PSBT_INVALID when it is none. */
export async function readPsbtFile(path: string): Promise<OpenedPsbt> {
  const name = basename(path);
  const fh = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
    throw new BitStableError('PSBT_INVALID', `Could not open ${name} (${err.code ?? 'error'}).`, {
      name,
    });
  });
  let bytes: Buffer;
  try {
    const { size } = await fh.stat();
    if (size > MAX_PSBT_BYTES * 2) {
      throw new BitStableError('PSBT_INVALID', `${name} is too large to be a PSBT.`, {
        name,
        size,
      });
    }
    bytes = await fh.readFile();
  } finally {
    await fh.close();
  }
  const raw = decodePsbt(bytes);
  if (!raw)
    throw new BitStableError('PSBT_INVALID', `${name} is not a PSBT (binary, base64 or hex).`, {
      name,
    });
  if (raw.length > MAX_PSBT_BYTES)
    throw new BitStableError('PSBT_INVALID', `${name} is too large to be a PSBT.`, { name });
  return { name, psbtBase64: raw.toString('base64') };
}

/** The PSBT's bytes from a file's content, or null when it is not a PSBT. */
export function decodePsbt(content: Buffer): Buffer | null {
  if (content.subarray(0, MAGIC.length).equals(MAGIC)) return content;
  const text = content.toString('utf8').trim();
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(text)) {
    const b = Buffer.from(text, 'base64');
    if (b.subarray(0, MAGIC.length).equals(MAGIC)) return b;
  }
  if (/^([0-9a-fA-F]{2})+$/.test(text)) {
    const b = Buffer.from(text, 'hex');
    if (b.subarray(0, MAGIC.length).equals(MAGIC)) return b;
  }
  return null;
}
