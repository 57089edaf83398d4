/**
 * Where updates come from, and the URL of the feed for a version, so the app can fetch the same
 * feed electron-updater reads and check its `.sig`.
 *
 * electron-builder writes the publish settings into `resources/app-update.yml` of the packaged
 * app (provider github with owner/repo, or generic with a url). BITSTABLE_UPDATE_URL replaces it
 * with a generic feed (self-hosting, or a test server).
 */
import yaml from 'js-yaml';
import { z } from 'zod';

export type UpdateSource =
  | { provider: 'github'; owner: string; repo: string; vPrefixedTagName: boolean }
  | { provider: 'generic'; url: string };

const appUpdateSchema = z.union([
  z.looseObject({
    provider: z.literal('github'),
    owner: z.string().regex(/^[A-Za-z0-9_.-]+$/),
    repo: z.string().regex(/^[A-Za-z0-9_.-]+$/),
    vPrefixedTagName: z.boolean().optional(),
  }),
  z.looseObject({ provider: z.literal('generic'), url: z.url({ protocol: /^https?$/ }) }),
]);

/** Reads app-update.yml's text; null when it names a provider this app does not verify. */
export function parseAppUpdateConfig(text: string): UpdateSource | null {
  const parsed = appUpdateSchema.safeParse(yaml.load(text, { schema: yaml.JSON_SCHEMA }));
  if (!parsed.success) return null;
  const c = parsed.data;
  return c.provider === 'github'
    ? {
        provider: 'github',
        owner: c.owner,
        repo: c.repo,
        vPrefixedTagName: c.vPrefixedTagName ?? true,
      }
    : { provider: 'generic', url: c.url };
}

/**
 * A generic feed from BITSTABLE_UPDATE_URL: https, or http to loopback only (a local test
 * server); null when unset, an error sentence when unusable.
 */
export function sourceFromEnv(value: string | undefined): UpdateSource | string | null {
  if (!value) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `BITSTABLE_UPDATE_URL is not a URL: ${value.slice(0, 100)}`;
  }
  const loopback =
    url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    return 'BITSTABLE_UPDATE_URL must be https (or http on this computer, for testing).';
  }
  return { provider: 'generic', url: url.href };
}

/** The feed file electron-updater reads on this platform (channel "latest"). */
export function feedFileName(platform: NodeJS.Platform, arch: string): string {
  if (platform === 'win32') return 'latest.yml';
  if (platform === 'darwin') return 'latest-mac.yml';
  if (arch === 'arm64') return 'latest-linux-arm64.yml';
  if (arch === 'arm') return 'latest-linux-armv7l.yml';
  return 'latest-linux.yml';
}

/** The URL of feed `fileName` of release `version`. */
export function feedUrlFor(source: UpdateSource, version: string, fileName: string): string {
  if (source.provider === 'generic') {
    const base = source.url.endsWith('/') ? source.url : `${source.url}/`;
    return new URL(encodeURIComponent(fileName), base).href;
  }
  const tag = `${source.vPrefixedTagName ? 'v' : ''}${version}`;
  return `https://github.com/${source.owner}/${source.repo}/releases/download/${encodeURIComponent(tag)}/${encodeURIComponent(fileName)}`;
}
