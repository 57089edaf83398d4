/**
 * electron-builder.yml against electron-builder's own schema and the release policy, the check
 * `npm run check:electron-builder` runs — here too, so every test run catches a broken config.
 * No Electron binary and no network needed.
 */
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkConfig } from '../../scripts/release-check-config';

const dir = mkdtempSync(join(tmpdir(), 'bitstable-builder-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('electron-builder.yml', () => {
  it('is valid for electron-builder and the release policy', async () => {
    expect(await checkConfig()).toEqual([]);
  }, 30_000);

  it('a config electron-builder would reject is reported', async () => {
    const bad = join(dir, 'bad.yml');
    writeFileSync(
      bad,
      'appId: org.bitstable.desktop\nmac:\n  hardenedRuntime: maybe\nnotAnOption: 1\n',
    );
    const problems = await checkConfig(bad);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('notAnOption');
  }, 30_000);

  it('a valid config that drops a platform or the hardened runtime is reported', async () => {
    const weak = join(dir, 'weak.yml');
    writeFileSync(
      weak,
      'appId: org.bitstable.desktop\nlinux:\n  target: [AppImage]\nmac:\n  target: [dmg]\n  hardenedRuntime: false\npublish:\n  provider: s3\n  bucket: b\n',
    );
    expect((await checkConfig(weak)).length).toBeGreaterThanOrEqual(5);
  }, 30_000);
});
