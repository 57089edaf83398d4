/**
 * The rest of the shell: `.psbt` files opened with the app, and the menu (no reload or DevTools
 * in an installed build).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MenuItemConstructorOptions } from 'electron';
import { afterAll, describe, expect, it } from 'vitest';
import { isBitStableError } from '../../core/errors';
import { buildMenuTemplate } from '../../main/menu';
import { decodePsbt, MAX_PSBT_BYTES, psbtPathsFromArgv, readPsbtFile } from '../../main/psbt-file';

const dir = mkdtempSync(join(tmpdir(), 'bitstable-psbt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A PSBT's magic and a few bytes are enough here: psbt.decode does the real parsing.
const PSBT = Buffer.concat([
  Buffer.from('70736274ff', 'hex'),
  Buffer.from('0100520200000001', 'hex'),
]);

describe('.psbt files', () => {
  it.each([
    ['binary', PSBT],
    ['base64', Buffer.from(`${PSBT.toString('base64')}\n`)],
    ['hex', Buffer.from(PSBT.toString('hex').toUpperCase())],
  ])('are read as %s', async (kind, content) => {
    const path = join(dir, `tx-${kind}.psbt`);
    writeFileSync(path, content);
    expect(await readPsbtFile(path)).toEqual({
      name: `tx-${kind}.psbt`,
      psbtBase64: PSBT.toString('base64'),
    });
  });

  it('that are not PSBTs, too large, or missing are refused with PSBT_INVALID', async () => {
    const cases: Array<[string, Buffer | null]> = [
      ['text.psbt', Buffer.from('hello world')],
      ['big.psbt', Buffer.concat([PSBT, Buffer.alloc(MAX_PSBT_BYTES)])],
      ['missing.psbt', null],
    ];
    for (const [name, content] of cases) {
      if (content) writeFileSync(join(dir, name), content);
      const err = await readPsbtFile(join(dir, name)).catch((e: unknown) => e);
      expect(isBitStableError(err, 'PSBT_INVALID')).toBe(true);
    }
    expect(decodePsbt(Buffer.from('cHNidP8='))).not.toBeNull();
  });

  it('are picked out of a second launch’s arguments, flags left alone', () => {
    expect(
      psbtPathsFromArgv([
        '--inspect=9229',
        '/home/a/tx.psbt',
        'C:\\Users\\a\\TX.PSBT',
        'notes.txt',
      ]),
    ).toEqual(['/home/a/tx.psbt', 'C:\\Users\\a\\TX.PSBT']);
  });
});

function labels(items: MenuItemConstructorOptions[]): string[] {
  return items.flatMap((i) => [
    String(i.label ?? i.role ?? i.type),
    ...(Array.isArray(i.submenu) ? labels(i.submenu) : []),
  ]);
}

describe('the menu', () => {
  const actions = { openPsbt() {}, about() {}, checkForUpdates() {} };

  it('has no reload or DevTools in an installed build', () => {
    for (const platform of ['darwin', 'linux', 'win32'] as const) {
      const all = labels(
        buildMenuTemplate(actions, { platform, dev: false, appName: 'BitStable' }),
      );
      expect(all).not.toContain('toggleDevTools');
      expect(all).not.toContain('reload');
      expect(all).toContain('About BitStable');
      expect(all).toContain('Check for Updates…');
      expect(all).toContain('Open PSBT…');
    }
    expect(
      labels(buildMenuTemplate(actions, { platform: 'linux', dev: true, appName: 'BitStable' })),
    ).toContain('toggleDevTools');
  });
});
