/**
 * `npm run check:deps` (issue 16): an install script anywhere in the lockfile must be approved by
 * name and exact version — checked on a fixture lockfile, and on this repository's own.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkInstallScripts } from '../../scripts/check-deps';

const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/deps/package-lock.json', import.meta.url), 'utf8'),
);

describe('install scripts in the dependency tree', () => {
  it('fails on a package with an unapproved install script, naming it, nested ones included', () => {
    const r = checkInstallScripts(fixture, { 'native-thing': '1.2.3' });
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual([
      '@scope/postinstaller@0.4.0 has an install script that is not approved (allowScripts in package.json).',
      'nested-native@2.0.0 has an install script that is not approved (allowScripts in package.json).',
    ]);
  });

  it('fails when an approved package changed version: its new script was not read', () => {
    const r = checkInstallScripts(fixture, {
      'native-thing': '1.2.2',
      '@scope/postinstaller': '0.4.0',
      'nested-native': '2.0.0',
    });
    expect(r.problems).toEqual([
      "native-thing has an install script approved for 1.2.2, but the lockfile has 1.2.3: read the new version's script, then approve it.",
    ]);
  });

  it("this repository's lockfile has only approved install scripts", () => {
    const root = new URL('../../', import.meta.url);
    const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8'));
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
    expect(checkInstallScripts(lock, pkg.allowScripts)).toEqual({ ok: true, problems: [] });
  });
});
