/**
 * Verification of an update before anything is installed, in plain Node (no Electron):
 *
 *   1. the feed (latest*.yml) comes with a `.sig` that verifies under a shipped public key;
 *   2. the signed feed offers a version newer than the running one (no downgrades, no replays of
 *      an older signed feed);
 *   3. what electron-updater is about to download is what the signed feed lists;
 *   4. the downloaded file has the size and sha512 of its signed entry.
 *
 * Each refusal is an UpdateVerificationError with a stable code and a plain sentence.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import yaml from 'js-yaml';
import { z } from 'zod';
import { checkFeedSignature, type SignatureFailure } from './feed-signature';

export const UPDATE_ERROR_CODES = [
  /** No public key is built into this app, so no update can be trusted. */
  'NO_SIGNING_KEY',
  /** The feed or its signature could not be fetched. */
  'FEED_UNAVAILABLE',
  /** The feed has no `.sig` beside it. */
  'FEED_SIGNATURE_MISSING',
  /** The `.sig` does not verify (changed feed, other key, other file, garbage). */
  'FEED_SIGNATURE_INVALID',
  /** The signed feed is not a feed electron-builder writes. */
  'FEED_INVALID',
  /** The signed feed offers an older version than the one running. */
  'UPDATE_DOWNGRADE',
  /** The feed's signature has expired: a frozen mirror, or an old feed served again. */
  'UPDATE_FEED_EXPIRED',
  /** The signed feed is older than one this app already saw: an old feed served again. */
  'UPDATE_FEED_STALE',
  /** What electron-updater offers differs from the signed feed. */
  'FEED_MISMATCH',
  /** The downloaded file is not listed in the signed feed. */
  'ARTIFACT_NOT_IN_FEED',
  /** The downloaded file's size differs from its signed entry. */
  'ARTIFACT_SIZE_MISMATCH',
  /** The downloaded file's sha512 differs from its signed entry. */
  'ARTIFACT_SHA512_MISMATCH',
] as const;
export type UpdateErrorCode = (typeof UPDATE_ERROR_CODES)[number];

/** A refused update: a stable code, the data that explains it, a plain sentence. */
export class UpdateVerificationError extends Error {
  constructor(
    readonly code: UpdateErrorCode,
    message: string,
    readonly data: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'UpdateVerificationError';
  }
}

const sha512Base64 = z
  .base64()
  .refine((s) => Buffer.from(s, 'base64').length === 64, 'must be a base64 sha512');

/** One file of a feed, as electron-builder writes it. */
const feedFileSchema = z.object({
  url: z.string().min(1).max(500),
  sha512: sha512Base64,
  size: z.int().min(0).optional(),
  blockMapSize: z.int().min(0).optional(),
  isAdminRightsRequired: z.boolean().optional(),
});

/** latest*.yml, as electron-builder writes it (extra fields are kept, not trusted). */
export const feedSchema = z.looseObject({
  version: z.string().min(1).max(100),
  files: z.array(feedFileSchema).min(1).max(50),
  path: z.string().optional(),
  sha512: sha512Base64.optional(),
  releaseDate: z.string().optional(),
  releaseName: z.string().nullable().optional(),
  releaseNotes: z.unknown().optional(),
});
export type UpdateFeed = z.infer<typeof feedSchema>;
export type FeedFile = z.infer<typeof feedFileSchema>;

/** Parses feed bytes (YAML) into a checked feed; FEED_INVALID otherwise. */
export function parseFeed(bytes: Uint8Array): UpdateFeed {
  let doc: unknown;
  try {
    // JSON_SCHEMA: plain scalars only (no dates, no custom tags), as electron-builder writes them.
    doc = yaml.load(Buffer.from(bytes).toString('utf8'), { schema: yaml.JSON_SCHEMA });
  } catch (err) {
    throw new UpdateVerificationError('FEED_INVALID', 'The update feed is not valid YAML.', {
      reason: (err as Error).message.slice(0, 200),
    });
  }
  const parsed = feedSchema.safeParse(doc);
  if (!parsed.success) {
    throw new UpdateVerificationError(
      'FEED_INVALID',
      'The update feed is not in the format electron-builder writes.',
      {
        issues: parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`),
      },
    );
  }
  if (parseVersion(parsed.data.version) === null) {
    throw new UpdateVerificationError(
      'FEED_INVALID',
      `The update feed's version "${parsed.data.version}" is not a version number.`,
    );
  }
  return parsed.data;
}

interface SemVer {
  core: [number, number, number];
  pre: string[];
}

/** Parses a semantic version (an optional leading "v", build metadata ignored); null if not one. */
export function parseVersion(version: string): SemVer | null {
  const m =
    /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?$/.exec(
      version,
    );
  if (!m) return null;
  const core = [Number(m[1]), Number(m[2]), Number(m[3])] as [number, number, number];
  if (!core.every(Number.isSafeInteger)) return null;
  return { core, pre: m[4] ? m[4].split('.') : [] };
}

/** Semantic-version precedence: negative when a < b, 0 when equal, positive when a > b. */
export function compareVersions(a: string, b: string): number {
  const x = parseVersion(a);
  const y = parseVersion(b);
  if (!x || !y) throw new Error(`Cannot compare "${a}" with "${b}": not versions.`);
  for (let i = 0; i < 3; i++) if (x.core[i] !== y.core[i]) return x.core[i]! - y.core[i]!;
  // A pre-release is older than its release.
  if (!x.pre.length || !y.pre.length) return (x.pre.length ? -1 : 0) + (y.pre.length ? 1 : 0);
  for (let i = 0; i < Math.max(x.pre.length, y.pre.length); i++) {
    const p = x.pre[i];
    const q = y.pre[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    if (p === q) continue;
    const pn = /^\d+$/.test(p);
    const qn = /^\d+$/.test(q);
    if (pn && qn) return Number(p) - Number(q);
    if (pn !== qn) return pn ? -1 : 1;
    return p < q ? -1 : 1;
  }
  return 0;
}

/** What the signed feed means for the running app. */
export type Offer = { kind: 'newer'; feed: UpdateFeed } | { kind: 'current'; feed: UpdateFeed };

/**
 * Refuses a downgrade, and a feed older than the newest this app has seen offered (an old but
 * still newer feed replayed: 1.1.5 offered when 1.3.0 is out); tells a newer version from the
 * one already running.
 */
export function checkOffer(
  feed: UpdateFeed,
  currentVersion: string,
  highestSeen: string | null = null,
): Offer {
  if (highestSeen !== null && compareVersions(feed.version, highestSeen) < 0) {
    throw new UpdateVerificationError(
      'UPDATE_FEED_STALE',
      `The update feed offers version ${feed.version}, but ${highestSeen} was offered before: an old feed is being served again, so BitStable will not install it.`,
      { offered: feed.version, highestSeen },
    );
  }
  const order = compareVersions(feed.version, currentVersion);
  if (order < 0) {
    throw new UpdateVerificationError(
      'UPDATE_DOWNGRADE',
      `The update feed offers version ${feed.version}, older than this app (${currentVersion}). BitStable never downgrades itself.`,
      { offered: feed.version, current: currentVersion },
    );
  }
  return order === 0 ? { kind: 'current', feed } : { kind: 'newer', feed };
}

/** Verifies feed bytes against their `.sig` text (null when there was none); returns the feed. */
export function verifySignedFeed(input: {
  fileName: string;
  feed: Uint8Array;
  signature: string | null;
  publicKeys: readonly string[];
  now?: number;
}): UpdateFeed {
  if (input.publicKeys.length === 0) throw noSigningKey();
  if (input.signature === null) {
    throw new UpdateVerificationError(
      'FEED_SIGNATURE_MISSING',
      `The update feed ${input.fileName} is not signed, so BitStable will not install it.`,
      { file: input.fileName },
    );
  }
  const check = checkFeedSignature(
    input.fileName,
    input.feed,
    input.signature,
    input.publicKeys,
    input.now,
  );
  if (!check.ok && check.reason === 'expired') {
    throw new UpdateVerificationError(
      'UPDATE_FEED_EXPIRED',
      `The update feed ${input.fileName} was signed to be believed until ${check.expires}, and that has passed: the update server is serving an old feed, so BitStable will not install it.`,
      { file: input.fileName, expires: check.expires },
    );
  }
  if (!check.ok) {
    throw new UpdateVerificationError(
      'FEED_SIGNATURE_INVALID',
      `The signature of the update feed ${input.fileName} does not verify (${SIGNATURE_REASONS[check.reason]}), so BitStable will not install it.`,
      { file: input.fileName, reason: check.reason },
    );
  }
  return parseFeed(input.feed);
}

function noSigningKey(): UpdateVerificationError {
  return new UpdateVerificationError(
    'NO_SIGNING_KEY',
    'This build of BitStable has no update signing key, so it cannot trust any update. Download new versions from the project page.',
  );
}

const SIGNATURE_REASONS: Record<SignatureFailure, string> = {
  malformed: 'the signature file is malformed',
  'wrong-file': 'it was made for another feed file',
  'unknown-key': 'it was made with a key this app does not trust',
  'bad-signature': 'the feed was changed after it was signed, or the signature is wrong',
  expired: 'it has expired',
};

/** What electron-updater says it will download (its UpdateInfo, reduced to what we compare). */
export interface OfferedUpdate {
  version: string;
  files: ReadonlyArray<{ url: string; sha512: string; size?: number }>;
}

/**
 * Refuses when electron-updater's view of the update (fetched separately, perhaps through another
 * path) is not exactly the signed feed's version and files.
 */
export function checkOfferMatchesFeed(offered: OfferedUpdate, feed: UpdateFeed): void {
  if (offered.version !== feed.version) {
    throw new UpdateVerificationError(
      'FEED_MISMATCH',
      `The updater offers version ${offered.version} but the signed feed says ${feed.version}.`,
      { offered: offered.version, signed: feed.version },
    );
  }
  for (const f of offered.files) {
    const signed = feed.files.find((s) => s.url === f.url);
    if (
      !signed ||
      signed.sha512 !== f.sha512 ||
      (f.size !== undefined && signed.size !== undefined && signed.size !== f.size)
    ) {
      throw new UpdateVerificationError(
        'FEED_MISMATCH',
        `The updater's file ${f.url} is not the one in the signed feed.`,
        {
          url: f.url,
        },
      );
    }
  }
}

/** sha512 of a file, base64 (the encoding electron-builder's feeds use). */
export async function sha512OfFile(path: string): Promise<string> {
  const hash = createHash('sha512');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('base64');
}

/**
 * Verifies a downloaded artifact against the signed feed: it must match the size and sha512 of
 * the feed entry named `url` (or, with no url, of any entry). Returns that entry.
 */
export async function verifyArtifact(
  path: string,
  feed: UpdateFeed,
  url?: string,
): Promise<FeedFile> {
  const candidates = url === undefined ? feed.files : feed.files.filter((f) => f.url === url);
  if (candidates.length === 0) {
    throw new UpdateVerificationError(
      'ARTIFACT_NOT_IN_FEED',
      `The signed feed does not list ${url}.`,
      { url },
    );
  }
  const size = (await stat(path)).size;
  const sized = candidates.filter((f) => f.size === undefined || f.size === size);
  if (sized.length === 0) {
    throw new UpdateVerificationError(
      'ARTIFACT_SIZE_MISMATCH',
      `The downloaded update is ${size} bytes, not the ${candidates[0]!.size} bytes the signed feed lists. It was not installed.`,
      { size, expected: candidates[0]!.size },
    );
  }
  const actual = await sha512OfFile(path);
  const match = sized.find((f) => f.sha512 === actual);
  if (!match) {
    throw new UpdateVerificationError(
      'ARTIFACT_SHA512_MISMATCH',
      'The downloaded update does not have the sha512 the signed feed lists: it was changed or damaged on the way. It was not installed.',
      { sha512: actual, expected: sized.map((f) => f.sha512) },
    );
  }
  return match;
}

/** A fetch that returns status and bytes (global fetch, or Electron's net.fetch). */
export type FetchLike = (
  url: string,
) => Promise<{ status: number; ok: boolean; arrayBuffer(): Promise<ArrayBuffer> }>;

/** Feeds are small; anything larger is refused before it is read into memory twice. */
const MAX_FEED_BYTES = 1024 * 1024;

/**
 * Fetches `feedUrl` and `feedUrl.sig`, verifies the signature, parses the feed and checks it is
 * not a downgrade.
 */
export async function fetchSignedFeed(input: {
  feedUrl: string;
  publicKeys: readonly string[];
  currentVersion: string;
  fetch: FetchLike;
  /** The newest version a verified feed offered this app before (null: none yet). */
  highestSeen?: string | null;
  now?: number;
}): Promise<Offer> {
  const fileName = decodeURIComponent(new URL(input.feedUrl).pathname.split('/').pop() ?? '');
  if (input.publicKeys.length === 0) throw noSigningKey();
  const feed = await fetchBytes(input.fetch, input.feedUrl, false);
  const sig = await fetchBytes(input.fetch, `${input.feedUrl}.sig`, true);
  const verified = verifySignedFeed({
    fileName,
    feed: feed!,
    signature: sig === null ? null : Buffer.from(sig).toString('utf8'),
    publicKeys: input.publicKeys,
    ...(input.now !== undefined ? { now: input.now } : {}),
  });
  return checkOffer(verified, input.currentVersion, input.highestSeen ?? null);
}

async function fetchBytes(
  fetch: FetchLike,
  url: string,
  missingOk: boolean,
): Promise<Uint8Array | null> {
  let res: Awaited<ReturnType<FetchLike>>;
  try {
    res = await fetch(url);
  } catch (err) {
    throw new UpdateVerificationError(
      'FEED_UNAVAILABLE',
      `Could not reach the update server (${(err as Error).message}).`,
      { url },
    );
  }
  if (missingOk && (res.status === 404 || res.status === 410)) return null;
  if (!res.ok) {
    throw new UpdateVerificationError(
      'FEED_UNAVAILABLE',
      `The update server answered ${res.status} for ${url}.`,
      {
        url,
        status: res.status,
      },
    );
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (bytes.length > MAX_FEED_BYTES) {
    throw new UpdateVerificationError(
      'FEED_INVALID',
      `The update feed at ${url} is too large to be a feed.`,
      { url },
    );
  }
  return bytes;
}
