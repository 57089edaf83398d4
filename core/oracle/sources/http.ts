/**
 * The HTTP part every exchange adapter shares: GET with the caller's AbortSignal, a body-size
 * cap, and every failure turned into a typed source error. Uses Node's global fetch.
 */
import { isBitStableError } from '../../errors';
import { sourceError } from '../source-error';

// Tickers are a few hundred bytes; a megabyte means something is badly wrong upstream.
const MAX_BODY_BYTES = 256 * 1024;
const USER_AGENT = 'BitStable-Desktop (price oracle)';

/** Joins a base URL and a path without doubling or losing the slash. */
export function joinUrl(baseUrl: string, path: string): string {
  return baseUrl.replace(/\/+$/, '') + '/' + path.replace(/^\/+/, '');
}

/** GETs `url` and returns the parsed JSON body; rejects with ORACLE_SOURCE_ERROR. */
export async function fetchJson(
  source: string,
  url: string,
  signal: AbortSignal,
): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, {
      signal,
      headers: { accept: 'application/json', 'user-agent': USER_AGENT },
    });
  } catch (err) {
    throw abortOr(source, signal, err, () =>
      sourceError(source, 'network', `could not reach ${originOf(url)}.`, {}, err),
    );
  }
  let text: string;
  try {
    text = await readCapped(source, res);
  } catch (err) {
    if (isBitStableError(err)) throw err;
    throw abortOr(source, signal, err, () =>
      sourceError(source, 'network', 'the connection broke while reading the answer.', {}, err),
    );
  }
  if (!res.ok) {
    const said = exchangeMessage(tryParse(text));
    throw sourceError(
      source,
      'http',
      `the server answered HTTP ${res.status}${said ? ` (${said})` : ''}.`,
      { status: res.status },
    );
  }
  const body = tryParse(text);
  if (body === undefined) {
    const html = /^\s*</.test(text);
    throw sourceError(
      source,
      'not-json',
      html ? 'the server sent an HTML page instead of a price.' : 'the answer is not valid JSON.',
    );
  }
  return body;
}

/** A short message from an exchange's own error object, whatever its shape. */
export function exchangeMessage(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const o = body as Record<string, unknown>;
  for (const key of ['msg', 'message', 'reason']) {
    if (typeof o[key] === 'string' && o[key]) return clip(o[key]);
  }
  if (Array.isArray(o.error) && o.error.length > 0) return clip(o.error.map(String).join('; '));
  return undefined;
}

function clip(s: string): string {
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

function tryParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function originOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** When the signal fired, the abort is the real story (timeout or stop), not the socket error. */
function abortOr(source: string, signal: AbortSignal, err: unknown, otherwise: () => Error): Error {
  if (!signal.aborted) return otherwise();
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') {
    return sourceError(source, 'timeout', 'no answer before the timeout.', {}, err);
  }
  return sourceError(source, 'aborted', 'the request was cancelled.', {}, err);
}

async function readCapped(source: string, res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw sourceError(source, 'too-large', `the answer is larger than ${MAX_BODY_BYTES} bytes.`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
