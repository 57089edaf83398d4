/**
 * Signs a release's update feeds (latest.yml, latest-mac.yml, latest-linux*.yml) with the release
 * key, writing `<feed>.sig` beside each; the app refuses any feed without a good one
 * (main/updates/feed-signature.ts).
 *
 *   npm run release:keygen -- --out ~/bitstable-release-key.pem
 *       a new key pair: the private key to a 0600 file (never into the repo), the public key
 *       printed for main/updates/public-key.ts
 *   npm run release:sign-feed -- release/latest-linux.yml [more feeds…]
 *       the key from BITSTABLE_UPDATE_SIGNING_KEY (the PEM text) or --key FILE /
 *       BITSTABLE_UPDATE_SIGNING_KEY_FILE; artifacts found beside a feed are checked against
 *       their sha512 and size before it is signed
 *   npm run release:verify-feed -- release/latest-linux.yml
 *       checks each feed's .sig with the keys the app ships (or --public-key BASE64)
 *   npm run release:check-key
 *       fails when the app ships no public key (a release would never update)
 */
import { existsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createPublicKey, type KeyObject } from 'node:crypto';
import {
  checkFeedSignature,
  generateSigningKeyPair,
  keyIdOf,
  privateKeyFromPem,
  publicKeyToBase64,
  DEFAULT_FEED_VALIDITY_DAYS,
  signFeed,
} from '../main/updates/feed-signature';
import { UPDATE_PUBLIC_KEYS } from '../main/updates/public-key';
import { parseFeed, sha512OfFile } from '../main/updates/verify';

/** Writes a new private key (0600, never over an existing file); returns the public half. */
export async function writeKeyPair(outPath: string): Promise<{ publicKey: string; keyId: string }> {
  const pair = generateSigningKeyPair();
  // 'wx': refuse to overwrite, losing a release key is not recoverable.
  await writeFile(outPath, pair.privateKeyPem, { mode: 0o600, flag: 'wx' });
  return { publicKey: pair.publicKey, keyId: pair.keyId };
}

/** The signing key from the environment or a file. */
export async function loadPrivateKey(env: NodeJS.ProcessEnv, keyFile?: string): Promise<KeyObject> {
  const file = keyFile ?? env.BITSTABLE_UPDATE_SIGNING_KEY_FILE;
  let pem: string | undefined;
  if (file) pem = await readFile(file, 'utf8');
  else if (env.BITSTABLE_UPDATE_SIGNING_KEY) {
    const value = env.BITSTABLE_UPDATE_SIGNING_KEY.trim();
    // A CI secret may hold the PEM or its base64 (some secret stores dislike newlines).
    pem = value.startsWith('-----BEGIN') ? value : Buffer.from(value, 'base64').toString('utf8');
  }
  if (!pem) {
    throw new Error(
      'No signing key: set BITSTABLE_UPDATE_SIGNING_KEY (PEM) or BITSTABLE_UPDATE_SIGNING_KEY_FILE, or pass --key FILE.',
    );
  }
  return privateKeyFromPem(pem);
}

/**
 * Signs one feed file, after checking that it parses and that every artifact it lists that sits
 * beside it has the listed size and sha512. Returns the .sig path.
 */
export async function signFeedFile(
  feedPath: string,
  key: KeyObject,
  validDays = DEFAULT_FEED_VALIDITY_DAYS,
): Promise<string> {
  const bytes = await readFile(feedPath);
  const feed = parseFeed(bytes);
  for (const file of feed.files) {
    const artifact = join(dirname(feedPath), basename(decodeURIComponent(file.url)));
    if (!existsSync(artifact)) continue;
    const size = (await stat(artifact)).size;
    if (file.size !== undefined && file.size !== size) {
      throw new Error(
        `${basename(feedPath)} lists ${file.url} with ${file.size} bytes, but the file has ${size}.`,
      );
    }
    if ((await sha512OfFile(artifact)) !== file.sha512) {
      throw new Error(
        `${basename(feedPath)} lists a sha512 for ${file.url} that the file does not have.`,
      );
    }
  }
  const sigPath = `${feedPath}.sig`;
  // Apps refuse the feed after this: the release process signs it again before then.
  const expires = new Date(Date.now() + validDays * 86_400_000);
  await writeFile(sigPath, signFeed(basename(feedPath), bytes, key, expires));
  return sigPath;
}

/** Verifies one feed's .sig under `publicKeys`; throws with the reason when it does not. */
export async function verifyFeedFile(
  feedPath: string,
  publicKeys: readonly string[],
): Promise<string> {
  const bytes = await readFile(feedPath);
  const sigPath = `${feedPath}.sig`;
  if (!existsSync(sigPath)) throw new Error(`${basename(sigPath)} is missing.`);
  const check = checkFeedSignature(
    basename(feedPath),
    bytes,
    await readFile(sigPath, 'utf8'),
    publicKeys,
  );
  if (!check.ok)
    throw new Error(`${basename(feedPath)}: the signature does not verify (${check.reason}).`);
  parseFeed(bytes);
  return check.keyId;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      key: { type: 'string' },
      'public-key': { type: 'string', multiple: true },
      'valid-days': { type: 'string' },
    },
  });
  switch (command) {
    case 'keygen': {
      if (!values.out) throw new Error('keygen needs --out FILE (outside the repository).');
      const out = resolve(values.out);
      if (out.startsWith(resolve(import.meta.dirname, '..'))) {
        throw new Error('Keep the release key outside the repository.');
      }
      const { publicKey, keyId } = await writeKeyPair(out);
      console.log(
        `Private key written to ${out} (mode 0600). Keep it offline; store it as the CI secret BITSTABLE_UPDATE_SIGNING_KEY.`,
      );
      console.log(
        `Public key (key id ${keyId}) — add it to UPDATE_PUBLIC_KEYS in main/updates/public-key.ts:`,
      );
      console.log(`  '${publicKey}',`);
      return 0;
    }
    case 'sign': {
      if (positionals.length === 0)
        throw new Error('sign needs the feed files, e.g. release/latest-linux.yml.');
      const key = await loadPrivateKey(env, values.key);
      const publicKey = publicKeyToBase64(createPublicKey(key));
      if (!UPDATE_PUBLIC_KEYS.includes(publicKey)) {
        console.warn(
          `warning: key ${keyIdOf(publicKey)} is not in main/updates/public-key.ts; this build's apps will refuse these feeds.`,
        );
      }
      const days = Number(values['valid-days'] ?? DEFAULT_FEED_VALIDITY_DAYS);
      if (!Number.isInteger(days) || days < 1 || days > 365)
        throw new Error('--valid-days must be a whole number of days from 1 to 365.');
      for (const feed of positionals)
        console.log(`signed ${await signFeedFile(feed, key, days)} (valid ${days} days)`);
      return 0;
    }
    case 'verify': {
      const keys = values['public-key'] ?? UPDATE_PUBLIC_KEYS;
      if (keys.length === 0)
        throw new Error(
          'No public key: the app ships none (main/updates/public-key.ts) and none was given.',
        );
      for (const feed of positionals)
        console.log(`${feed}: good signature by key ${await verifyFeedFile(feed, keys)}`);
      return 0;
    }
    case 'check-key': {
      if (UPDATE_PUBLIC_KEYS.length === 0) {
        console.error(
          'main/updates/public-key.ts has no key: run `npm run release:keygen -- --out FILE` and add the public key.',
        );
        return 1;
      }
      console.log(`The app trusts ${UPDATE_PUBLIC_KEYS.map(keyIdOf).join(', ')}.`);
      return 0;
    }
    default:
      console.error(
        'usage: sign-release-feed.ts keygen --out FILE | sign FEED… [--key FILE] | verify FEED… | check-key',
      );
      return 2;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`error: ${(err as Error).message}`);
      process.exit(1);
    },
  );
}
