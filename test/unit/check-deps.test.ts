/**
 * `npm run check:deps` (issue 16): an install script anywhere in the lockfile must be reviewed by
 * name and exact version — checked on a fixture lockfile, and on this repository's own.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkInstallScripts } from '../../scripts/check-deps';

const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/deps/package-lock.json', import.meta.url), 'utf8'),
);
const allow = { 'native-thing': true, '@scope/postinstaller': false, 'nested-native': true };

describe('install scripts in the dependency tree', () => {
  it('fails on a package with an install script nobody reviewed, naming it, nested ones included', () => {
    const r = checkInstallScripts(fixture, { 'native-thing@1.2.3': 'builds a binding' }, allow);
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual([
      '@scope/postinstaller@0.4.0 has an install script that nobody reviewed (reviewedInstallScripts and allowScripts in package.json).',
      'nested-native@2.0.0 has an install script that nobody reviewed (reviewedInstallScripts and allowScripts in package.json).',
    ]);
  });

  it('fails when a reviewed package changed version (its new script was not read), or npm does not know of it', () => {
    const r = checkInstallScripts(
      fixture,
      {
        'native-thing@1.2.2': 'builds a binding',
        '@scope/postinstaller@0.4.0': 'denied',
        'nested-native@2.0.0': 'builds',
      },
      { '@scope/postinstaller': false },
    );
    expect(r.problems).toEqual([
      "native-thing has an install script reviewed for 1.2.2, but the lockfile has 1.2.3: read the new version's script, then review it in reviewedInstallScripts.",
      'nested-native is reviewed but not in allowScripts (true to let it run, false to deny it).',
    ]);
    expect(
      checkInstallScripts(
        fixture,
        {
          'native-thing@1.2.3': 'builds a binding',
          '@scope/postinstaller@0.4.0': 'denied',
          'nested-native@2.0.0': 'builds',
        },
        allow,
      ),
    ).toEqual({ ok: true, problems: [] });
  });

  it("this repository's lockfile has only reviewed install scripts", () => {
    const root = new URL('../../', import.meta.url);
    const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8'));
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
    expect(checkInstallScripts(lock, pkg.reviewedInstallScripts, pkg.allowScripts)).toEqual({
      ok: true,
      problems: [],
    });
  });
});
