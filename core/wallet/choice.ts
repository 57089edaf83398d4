/**
 * Which protocol node this app uses (SPEC §9 Settings → Protocol node): "this computer" (local
 * mode: the node runs in the app) or a node at a URL (the app is a wallet connected to it). The
 * choice is a small file in the app's folder per network, read at start; a change takes effect
 * at the next start, after its connection was tested.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { NetworkName } from '../config/networks';
import { BitStableError } from '../errors';
import { httpUrl } from '../config/http-url';

export type ProtocolChoice = { mode: 'local'; url: null } | { mode: 'remote'; url: string };

const FILE = 'protocol-node.json';
const Stored = z.strictObject({ url: z.string().nullable() });

const pathOf = (dataDir: string, network: NetworkName) => join(dataDir, network, FILE);

/** A protocol node's address as given: http(s), no credentials, no query; no trailing slash. */
export function checkNodeUrl(text: string): string {
  const url = httpUrl(text, { example: 'http://host:port', what: 'A protocol node', data: {} });
  if (url.username || url.password || url.search || url.hash) {
    throw new BitStableError(
      'INVALID_ARGUMENT',
      'Give the node address alone: no user name, password, query or fragment.',
      {},
    );
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

/** The choice made for `network` in Settings; null when none was (the host's default then). */
export function readProtocolChoice(dataDir: string, network: NetworkName): ProtocolChoice | null {
  const path = pathOf(dataDir, network);
  if (!existsSync(path)) return null;
  let parsed: z.infer<typeof Stored>;
  try {
    parsed = Stored.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch {
    throw new BitStableError(
      'INVALID_CONFIG',
      `${path} is not a protocol node choice; delete it to run on this computer, or choose again in Settings.`,
      { path },
    );
  }
  return parsed.url === null
    ? { mode: 'local', url: null }
    : { mode: 'remote', url: checkNodeUrl(parsed.url) };
}

/** Writes the choice atomically (0600). */
export function writeProtocolChoice(
  dataDir: string,
  network: NetworkName,
  url: string | null,
): ProtocolChoice {
  const path = pathOf(dataDir, network);
  mkdirSync(join(dataDir, network), { recursive: true });
  const checked = url === null ? null : checkNodeUrl(url);
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ url: checked })}\n`, { mode: 0o600 });
  renameSync(tmp, path);
  return checked === null ? { mode: 'local', url: null } : { mode: 'remote', url: checked };
}

const NodeInfo = z.object({
  nodeId: z.string(),
  network: z.string(),
  apiVersion: z.int(),
  registration: z.enum(['open', 'invite']),
  protocolKey: z.string(),
  guardianKey: z.string(),
});

/** What "test connection" shows: who answers at `url`, and the key fingerprints to pin. */
export interface TestedNode extends z.infer<typeof NodeInfo> {
  url: string;
  protocolFingerprint: string;
  guardianFingerprint: string;
}

const fingerprint = (key: string) => /^\[([0-9a-f]{8})/.exec(key)?.[1] ?? '';

/**
 * Asks the node at `url` who it is (`node.info`, public), within `timeoutMs`. NODE_UNREACHABLE
 * with the reason when nothing answers, WRONG_NETWORK when it runs another network.
 */
export async function testProtocolNode(
  url: string,
  network: NetworkName,
  timeoutMs = 5_000,
): Promise<TestedNode> {
  const base = checkNodeUrl(url);
  let body: unknown;
  try {
    const res = await fetch(`${base}/rpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'node.info', params: {} }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    body = await res.json();
  } catch (err) {
    const why =
      (err as Error).name === 'TimeoutError'
        ? `no answer within ${timeoutMs / 1000} s`
        : 'nothing answered there';
    throw new BitStableError('NODE_UNREACHABLE', `No BitStable protocol node at ${base}: ${why}.`, {
      url: base,
    });
  }
  const info = NodeInfo.safeParse((body as { result?: unknown } | null)?.result);
  if (!info.success) {
    throw new BitStableError(
      'NODE_UNREACHABLE',
      `${base} answered, but not as a BitStable protocol node.`,
      { url: base },
    );
  }
  if (info.data.network !== network) {
    throw new BitStableError(
      'WRONG_NETWORK',
      `The protocol node at ${base} runs on ${info.data.network}; this app is on ${network}.`,
      { url: base, node: info.data.network },
    );
  }
  return {
    ...info.data,
    url: base,
    protocolFingerprint: fingerprint(info.data.protocolKey),
    guardianFingerprint: fingerprint(info.data.guardianKey),
  };
}
