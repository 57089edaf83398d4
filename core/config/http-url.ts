/**
 * An http(s) address typed by the user (a protocol node, a webhook): parsed, or refused with a
 * sentence that says how to write it.
 */
import { BitStableError } from '../errors';

export function httpUrl(
  text: string,
  o: {
    /** How to write it, e.g. "http://host:port". */
    example: string;
    /** What is reached, e.g. "A protocol node". */
    what: string;
    data: Record<string, unknown>;
  },
): URL {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new BitStableError(
      'INVALID_ARGUMENT',
      `"${text.slice(0, 80)}" is not an address; write it as ${o.example}.`,
      o.data,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new BitStableError(
      'INVALID_ARGUMENT',
      `${o.what} is reached over http:// or https://.`,
      o.data,
    );
  return url;
}
