/**
 * PSBTs as files (SPEC §4: every PSBT can be exported and imported), and the guardian who holds
 * only an imported xpub: BitStable exports the PSBT, the guardian signs it elsewhere (Sparrow,
 * Electrum, Bitcoin Core, a hardware wallet) and the signed file comes back.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Psbt } from 'bitcoinjs-lib';
import { parseKey, type KeyOrigin, type ParsedKey } from '../bitcoin/keys';
import type { NetworkInfo } from '../config/networks';
import { BitStableError } from '../errors';
import {
  childOfAccount,
  decodePsbt,
  derivationsOf,
  hasValidSignature,
  returnedPsbt,
  sameBytes,
  unsignedTxId,
} from '../keys/psbt-keys';
import type { SignContext, SignOutcome, Signer } from './types';

/** How a PSBT file is written: base64 text (`.txt`, pasteable) or BIP174 binary (`.psbt`). */
export type PsbtFileFormat = 'base64' | 'binary';

// BIP174: every binary PSBT starts with "psbt" 0xff.
const MAGIC = Buffer.from([0x70, 0x73, 0x62, 0x74, 0xff]);
// Far above any vault PSBT; stops a wrong file (a disk image) from being read into memory.
const MAX_FILE_BYTES = 16 * 1024 * 1024;

const invalid = (message: string, data: Record<string, unknown> = {}, cause?: unknown) =>
  new BitStableError('PSBT_INVALID', message, data, { cause });

/** Writes a PSBT to `path` atomically, as base64 text or binary. The PSBT is checked first. */
export async function psbtToFile(
  psbtBase64: string,
  path: string,
  format: PsbtFileFormat,
): Promise<void> {
  if (format !== 'base64' && format !== 'binary') {
    throw new BitStableError('INVALID_ARGUMENT', 'A PSBT file is "base64" or "binary".', {
      format: String(format),
    });
  }
  const psbt = decodePsbt(psbtBase64);
  const bytes = format === 'binary' ? psbt.toBuffer() : Buffer.from(`${psbt.toBase64()}\n`, 'utf8');
  // Written beside the target and renamed, so another program never reads half a PSBT.
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx');
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw fileError('write', path, err);
  }
}

/**
 * Reads what a signer saved (detected by content) and returns it as a base64 PSBT: a PSBT, binary
 * or as base64 or hex text; or, given the PSBT that was `exported`, the signed transaction itself
 * (a binary `.txn` as Electrum exports it, or its hex), matched by txid and returned as that PSBT
 * finalized with the transaction's witnesses.
 */
export async function psbtFromFile(path: string, exported?: string): Promise<string> {
  let bytes: Buffer;
  try {
    if ((await stat(path)).size > MAX_FILE_BYTES) {
      throw invalid(`${path} is too large to be a PSBT.`, { path });
    }
    bytes = await readFile(path);
  } catch (err) {
    if (err instanceof BitStableError) throw err;
    throw fileError('read', path, err);
  }
  return decodePsbtBytes(bytes, path, exported).toBase64();
}

function decodePsbtBytes(bytes: Buffer, path: string, exported?: string): Psbt {
  const notPsbt = (cause?: unknown) =>
    invalid(
      `${basename(path)} is not a PSBT: it is neither a binary PSBT nor PSBT text (base64 or hex)${exported ? ', nor the signed transaction' : ''}.`,
      { path },
      cause,
    );
  try {
    if (bytes.subarray(0, MAGIC.length).equals(MAGIC)) return Psbt.fromBuffer(bytes);
    if (!exported) return decodePsbt(bytes.toString('utf8'));
    const text = bytes.toString('utf8');
    // Text is a PSBT or a transaction in hex; anything else is a binary transaction.
    const printable = /^[\x20-\x7e\s]*$/.test(text);
    return returnedPsbt(printable ? text : bytes.toString('hex'), decodePsbt(exported));
  } catch (err) {
    if (err instanceof BitStableError && err.data.txid !== undefined) throw err;
    throw notPsbt(err);
  }
}

function checkTxidArgument(txid: string): void {
  if (!/^[0-9a-fA-F]{64}$/.test(txid)) {
    throw new BitStableError('INVALID_ARGUMENT', 'The expected txid is not 64 hex digits.', {
      expectedUnsignedTxId: String(txid).slice(0, 80),
    });
  }
}

function fileError(verb: 'read' | 'write', path: string, err: unknown): BitStableError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? 'error';
  const hint =
    code === 'ENOENT'
      ? verb === 'read'
        ? 'The file does not exist.'
        : 'The folder does not exist.'
      : code === 'EACCES' || code === 'EPERM'
        ? 'BitStable may not access it.'
        : `(${code})`;
  return new BitStableError('INVALID_ARGUMENT', `Could not ${verb} ${path}. ${hint}`, {
    path,
    reason: code,
  });
}

/** The txid of a PSBT's unsigned transaction, to recognise the signed file that comes back. */
export function unsignedTxIdOf(psbtBase64: string): string {
  return unsignedTxId(decodePsbt(psbtBase64));
}

/** What a signed guardian file brought back. */
export interface GuardianImport {
  /** The imported PSBT, base64, with the guardian's signatures. */
  psbt: string;
  /** Indexes of the inputs that carry a valid guardian signature. */
  signedInputs: number[];
}

/** The guardian as an imported xpub with origin: it signs by PSBT file export and import. */
export class FileGuardianSigner implements Signer {
  readonly role = 'guardian' as const;
  readonly kind = 'file' as const;
  readonly label = 'Guardian key (signs PSBT files)';
  readonly #key: ParsedKey;

  /** `key` is `[fingerprint/48'/c'/0'/2']xpub` or a KeyOrigin, validated for `network`. */
  constructor(
    key: string | KeyOrigin,
    readonly network: NetworkInfo,
  ) {
    this.#key = parseKey(key, network);
  }

  async fingerprint(): Promise<string> {
    return this.#key.fingerprint;
  }

  async accountKey(): Promise<KeyOrigin> {
    const { fingerprint, path, xpub } = this.#key;
    return { fingerprint, path, xpub };
  }

  /** Always refuses: this guardian signs elsewhere, by file export and import. */
  async signPsbt(_psbtBase64: string, _context: SignContext): Promise<string> {
    throw new BitStableError(
      'SIGNER_REFUSED',
      'The guardian key is not on this computer: export the PSBT to a file, have the guardian sign it, and import the signed file.',
      { role: this.role, kind: this.kind },
    );
  }

  /** The guardian signs elsewhere, by file: the signature is always deferred. */
  async requestSignature(_psbtBase64: string, _context: SignContext): Promise<SignOutcome> {
    return {
      outcome: 'deferred',
      reason: 'The guardian signs the PSBT file elsewhere; import the signed file when it is back.',
    };
  }

  /** Writes the PSBT for the guardian to sign elsewhere. */
  exportPsbt(psbtBase64: string, path: string, format: PsbtFileFormat = 'base64'): Promise<void> {
    return psbtToFile(psbtBase64, path, format);
  }

  /**
   * Reads the guardian's signed file. PSBT_INVALID unless it is the same unsigned transaction
   * (`expectedUnsignedTxId`, see unsignedTxIdOf) and carries at least one valid guardian signature.
   * `exported` is the PSBT that was exported: a signer that also finalized the inputs (Bitcoin
   * Core does by default) drops their BIP32 derivations, and the guardian's keys are then found
   * from the exported PSBT's.
   */
  async importSignedPsbt(
    path: string,
    expectedUnsignedTxId: string,
    exported?: string,
  ): Promise<GuardianImport> {
    checkTxidArgument(expectedUnsignedTxId);
    const psbtBase64 = await psbtFromFile(path, exported);
    return this.checkSignedPsbt(psbtBase64, expectedUnsignedTxId, exported, basename(path), {
      path,
    });
  }

  /**
   * The check of importSignedPsbt on a PSBT already read (base64): the same unsigned transaction
   * as `expectedUnsignedTxId`, and at least one valid guardian signature. `name` names the PSBT in
   * the error sentences ("vault-3.psbt", "The imported PSBT").
   */
  checkSignedPsbt(
    psbtBase64: string,
    expectedUnsignedTxId: string,
    exported?: string,
    name = 'The PSBT',
    data: Record<string, unknown> = {},
  ): GuardianImport {
    return checkSignedBy(
      this.#key,
      'the guardian key',
      this.network,
      psbtBase64,
      expectedUnsignedTxId,
      exported,
      name,
      data,
    );
  }
}

/**
 * Checks a PSBT signed elsewhere by `key` (the guardian's file, or the owner's PSBT from their
 * wallet): the same unsigned transaction as `expectedUnsignedTxId`, and at least one valid
 * signature of `key`; returns which inputs carry one. `who` names the key in the sentences.
 * `exported` is the PSBT that was handed out: a signer that also finalized the inputs drops
 * their BIP32 derivations, and the key's children are then found from the exported PSBT's.
 */
export function checkSignedBy(
  key: ParsedKey,
  who: string,
  network: NetworkInfo,
  psbtBase64: string,
  expectedUnsignedTxId: string,
  exported?: string,
  name = 'The PSBT',
  data: Record<string, unknown> = {},
): GuardianImport {
  checkTxidArgument(expectedUnsignedTxId);
  const expected = expectedUnsignedTxId.toLowerCase();
  const original = exported === undefined ? undefined : decodePsbt(exported);
  if (original && unsignedTxId(original) !== expected) {
    throw new BitStableError(
      'INVALID_ARGUMENT',
      'The exported PSBT given is not for the expected transaction.',
      { expected, exported: unsignedTxId(original) },
    );
  }
  // A PSBT in base64 or hex, or (with the exported PSBT to match it to) the signed transaction.
  const psbt = returnedPsbt(psbtBase64, original, network.bitcoinjs);
  const txid = unsignedTxId(psbt);
  if (txid !== expected) {
    throw invalid(
      `${name} is a PSBT for another transaction (${txid}), not the one exported (${expected}).`,
      { ...data, txid, expected },
    );
  }
  const pubkeysOf = (i: number): Uint8Array[] => {
    const named = [psbt.data.inputs[i], original?.data.inputs[i]].flatMap((input) =>
      input ? derivationsOf(input, key.fingerprint) : [],
    );
    return named.flatMap((d) => {
      const child = childOfAccount(key.node, key.path, d.path);
      return child && sameBytes(child.publicKey, d.pubkey) ? [child.publicKey] : [];
    });
  };
  const signedInputs = psbt.data.inputs.flatMap((_, i) =>
    pubkeysOf(i).some((pubkey) => hasValidSignature(psbt, i, pubkey)) ? [i] : [],
  );
  if (signedInputs.length === 0) {
    const finalized = psbt.data.inputs.some((input) => input.finalScriptWitness);
    throw invalid(
      finalized && !original
        ? `${name} is finalized and no longer says which keys signed it; import it together with the PSBT that was exported.`
        : `${name} carries no valid signature from ${who} ${key.fingerprint}. Have it signed, and send the signed PSBT.`,
      { ...data, fingerprint: key.fingerprint },
    );
  }
  return { psbt: psbt.toBase64(), signedInputs };
}
