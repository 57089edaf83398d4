/**
 * The public halves of the release signing keys (Ed25519, raw 32 bytes, base64). An update feed
 * is accepted only when its `.sig` verifies under one of these (feed-signature.ts).
 *
 * Empty until a maintainer runs `npm run release:keygen` and pastes the printed public key here:
 * a build without a key refuses every update and says so in Settings, and the release workflow
 * refuses to build one. More than one key lets a new key be added a release before the old one is
 * retired.
 */
export const UPDATE_PUBLIC_KEYS: readonly string[] = [];
