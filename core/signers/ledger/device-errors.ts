/**
 * Ledger failures → typed errors with sentences the UI can show. A raw status word never
 * reaches a message; it is kept in `data.statusWord` for the log.
 *
 * Status words are those of the Bitcoin app (LedgerHQ/app-bitcoin-new, src/boilerplate/sw.h)
 * and of the device OS as listed in @ledgerhq/errors `StatusCodes`.
 */
import { BitStableError, type ErrorCode } from '../../errors';

/** The device request that failed; some status words mean different things per request. */
export type DeviceOp = 'app' | 'fingerprint' | 'xpub' | 'register' | 'address' | 'sign' | 'open';

export interface DeviceErrorContext {
  op: DeviceOp;
  /** True when a registration HMAC was sent, so 0xB008 means the device rejected it. */
  hmacSent?: boolean;
}

/** Status words we name, with the code and sentence they become. */
const STATUS_WORDS: Record<number, { code: ErrorCode; text: string }> = {
  // SW_DENY (app) / CONDITIONS_OF_USE_NOT_SATISFIED (OS): the person pressed Reject.
  0x6985: {
    code: 'DEVICE_REJECTED',
    text: 'You rejected the request on the Ledger. Nothing was signed or changed.',
  },
  // USER_REFUSED_ON_DEVICE (OS), e.g. declining to open an app.
  0x5501: { code: 'DEVICE_REJECTED', text: 'You declined the request on the Ledger.' },
  // LOCKED_DEVICE (OS) and SW_SECURITY_STATUS_NOT_SATISFIED (app, PIN not validated).
  0x5515: {
    code: 'DEVICE_LOCKED',
    text: 'The Ledger is locked. Unlock it with your PIN, then try again.',
  },
  0x6982: {
    code: 'DEVICE_LOCKED',
    text: 'The Ledger is locked. Unlock it with your PIN, then try again.',
  },
  // SW_CLA_NOT_SUPPORTED / CLA_NOT_SUPPORTED_BOOTLOADER / SW_INS_NOT_SUPPORTED / app not open.
  0x6e00: { code: 'DEVICE_WRONG_APP', text: wrongApp() },
  0x6e01: { code: 'DEVICE_WRONG_APP', text: wrongApp() },
  0x6d00: { code: 'DEVICE_WRONG_APP', text: wrongApp() },
  0x6511: { code: 'DEVICE_WRONG_APP', text: wrongApp() },
  // SW_INCORRECT_DATA: the app refused what it was sent (e.g. a policy without this device's key).
  0x6a80: {
    code: 'DEVICE_ERROR',
    text: 'The Ledger refused the request as invalid. Check that this is the Ledger holding the vault owner key.',
  },
  // SW_NOT_SUPPORTED
  0x6a82: {
    code: 'DEVICE_ERROR',
    text: 'The Bitcoin app on the Ledger does not support this request. Update it in Ledger Live.',
  },
  // SW_BAD_STATE: "aborted due to unexpected state" — an app-internal failure, not a policy error.
  0xb007: {
    code: 'DEVICE_ERROR',
    text: 'The Bitcoin app on the Ledger stopped in an unexpected state. Quit and reopen the app, then try again.',
  },
};

function wrongApp(): string {
  return 'The Ledger is not running the Bitcoin app. Unlock it and open the Bitcoin app (version 2.1 or later), then try again.';
}

const hex = (sw: number) => `0x${sw.toString(16).padStart(4, '0')}`;

// SW_SIGNATURE_FAIL (0xB008): the app's HMAC check on a registered policy failed, or a
// non-standard policy came with no HMAC at all (app-bitcoin-new get_wallet_address.c, sign_psbt.c).
function signatureFail(ctx: DeviceErrorContext): BitStableError {
  if (ctx.hmacSent) {
    return new BitStableError(
      'DEVICE_HMAC_MISMATCH',
      'This Ledger no longer recognises the vault registration BitStable saved for it (the device was reset, restored, or holds another seed). BitStable has forgotten that registration: register the vault on the Ledger once more, then try again.',
      { statusWord: hex(0xb008), op: ctx.op },
    );
  }
  return new BitStableError(
    'DEVICE_POLICY_NOT_REGISTERED',
    'The vault is not registered on this Ledger yet. Register it once (you will check the three keys on the device), then try again.',
    { statusWord: hex(0xb008), op: ctx.op },
  );
}

/** Maps a status word from the device to a typed error. */
export function statusWordError(statusWord: number, ctx: DeviceErrorContext): BitStableError {
  if (statusWord === 0xb008) return signatureFail(ctx);
  const known = STATUS_WORDS[statusWord];
  if (known)
    return new BitStableError(known.code, known.text, { statusWord: hex(statusWord), op: ctx.op });
  return new BitStableError(
    'DEVICE_ERROR',
    'The Ledger answered with an error BitStable does not know. Unplug it, plug it back in, open the Bitcoin app and try again.',
    { statusWord: hex(statusWord), op: ctx.op },
  );
}

// Transport error names (@ledgerhq/errors) and ids (TransportError.id) by what they mean.
// Matched by name, not instanceof: each transport package bundles its own copy of the errors.
const NOT_FOUND = new Set([
  'DisconnectedDevice',
  'DisconnectedDeviceDuringOperation',
  'CantOpenDevice',
  'NoDevice',
  'NoDeviceFound',
]);
const TIMEOUT = new Set(['TransportExchangeTimeoutError', 'TimeoutTagged', 'ListenTimeout']);
const BUSY = new Set(['TransportRaceCondition', 'TransportLocked']);
// Node socket errors from the Speculos HTTP transport (axios).
const SOCKET_NOT_FOUND = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH']);
const SOCKET_TIMEOUT = new Set(['ECONNABORTED', 'ETIMEDOUT']);

type Loose = {
  name?: unknown;
  id?: unknown;
  code?: unknown;
  statusCode?: unknown;
  message?: unknown;
};

const notFound = (data: Record<string, unknown>, cause: unknown) =>
  new BitStableError(
    'DEVICE_NOT_FOUND',
    'No Ledger found. Connect it by USB, unlock it with your PIN and open the Bitcoin app, then try again.',
    data,
    { cause },
  );

/** Maps anything a Ledger call threw to a typed error; BitStableErrors pass through. */
export function deviceError(err: unknown, ctx: DeviceErrorContext): BitStableError {
  if (err instanceof BitStableError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as Loose;
  const name = typeof e.name === 'string' ? e.name : '';
  const id = typeof e.id === 'string' ? e.id : '';
  const code = typeof e.code === 'string' ? e.code : '';
  const detail =
    typeof e.message === 'string' ? e.message.slice(0, 300) : String(err).slice(0, 300);

  if (typeof e.statusCode === 'number') {
    const mapped = statusWordError(e.statusCode, ctx);
    return new BitStableError(mapped.code, mapped.message, mapped.data, { cause: err });
  }
  // Unplugged (or the app closed) while a request was on its way: say that nothing happened.
  if (name === 'DisconnectedDeviceDuringOperation' || /stream has been aborted/i.test(detail)) {
    return new BitStableError(
      'DEVICE_NOT_FOUND',
      `The Ledger was disconnected during the request${ctx.op === 'sign' ? '; nothing was signed' : ctx.op === 'register' ? '; nothing was registered' : ''}. Connect it, unlock it and open the Bitcoin app, then try again.`,
      { op: ctx.op, reason: name || 'stream-aborted' },
      { cause: err },
    );
  }
  if (NOT_FOUND.has(name) || NOT_FOUND.has(id))
    return notFound({ op: ctx.op, reason: name || id }, err);
  if (SOCKET_NOT_FOUND.has(code)) {
    return new BitStableError(
      'DEVICE_NOT_FOUND',
      'Could not reach the Speculos emulator. Start Speculos with its API port (e.g. --api-port 5000) and give the same port in BITSTABLE_LEDGER (speculos:<port>).',
      { op: ctx.op, reason: code },
      { cause: err },
    );
  }
  if (TIMEOUT.has(name) || TIMEOUT.has(id) || SOCKET_TIMEOUT.has(code)) {
    return new BitStableError(
      'DEVICE_TIMEOUT',
      'The Ledger did not answer in time. Check that it is unlocked with the Bitcoin app open and not showing another request, then try again.',
      { op: ctx.op, reason: name || id || code },
      { cause: err },
    );
  }
  if (BUSY.has(name) || BUSY.has(id)) {
    return new BitStableError(
      'DEVICE_ERROR',
      'The Ledger is busy with another request. Finish or cancel it on the device, then try again.',
      { op: ctx.op, reason: name || id },
      { cause: err },
    );
  }
  // ledger-bitcoin's own check of an address the device returned (AppClient.validateAddress).
  if (detail.startsWith('Third party address validation mismatch')) {
    return new BitStableError(
      'DEVICE_ERROR',
      'The Ledger derived a different vault address than BitStable. Do not use the address; check that the vault keys are the ones you registered.',
      { op: ctx.op, reason: 'address-mismatch', detail },
      { cause: err },
    );
  }
  return new BitStableError(
    'DEVICE_ERROR',
    'Talking to the Ledger failed. Unplug it, plug it back in, open the Bitcoin app and try again.',
    { op: ctx.op, detail },
    { cause: err },
  );
}
