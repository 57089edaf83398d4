/**
 * `npm run check:electron-builder`: validates electron-builder.yml the way electron-builder does
 * before a build (its own JSON schema, app-builder-lib/scheme.json, through its own
 * validateConfiguration), then checks what the schema cannot know: the files the config names
 * exist, every platform's targets are there, the mac build is hardened, native modules are
 * rebuilt, updates publish to GitHub or a generic feed.
 *
 * Needs no Electron binary and no network, so it runs in CI on every push.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import yaml from 'js-yaml';
import { validateConfiguration } from 'app-builder-lib/out/util/config/config';
import type { Configuration } from 'app-builder-lib';

const ROOT = resolve(import.meta.dirname, '..');

type Target = string | { target: string };
const targetNames = (t: unknown): string[] =>
  (Array.isArray(t) ? (t as Target[]) : t ? [t as Target] : []).map((x) =>
    typeof x === 'string' ? x : x.target,
  );

/** Problems electron-builder's schema does not catch; empty when the config is as the app needs. */
export function policyProblems(config: Configuration, root = ROOT): string[] {
  const problems: string[] = [];
  const need = (ok: unknown, what: string) => {
    if (!ok) problems.push(what);
  };
  const buildDir = join(root, config.directories?.buildResources ?? 'build');
  const file = (p: string | null | undefined) => !!p && existsSync(join(root, p));

  need(
    config.appId === 'org.bitstable.desktop',
    'appId must stay org.bitstable.desktop (it names the keychain entry and the data folder).',
  );
  need(
    config.npmRebuild !== false,
    'npmRebuild must be on: better-sqlite3 and node-hid are rebuilt for Electron’s ABI.',
  );
  need(
    existsSync(join(buildDir, 'icon.png')),
    'build/icon.png is missing (npm run release:icon draws it).',
  );

  const linux = targetNames(config.linux?.target);
  need(
    linux.includes('AppImage') && linux.includes('deb'),
    'linux.target must include AppImage and deb.',
  );
  const mac = targetNames(config.mac?.target);
  need(
    mac.includes('dmg') && mac.includes('zip'),
    'mac.target must include dmg and zip (electron-updater installs the zip).',
  );
  need(
    config.mac?.hardenedRuntime === true,
    'mac.hardenedRuntime must be true (notarization requires it).',
  );
  need(
    file(config.mac?.entitlements),
    `mac.entitlements ${String(config.mac?.entitlements)} does not exist.`,
  );
  need(
    config.mac?.notarize !== false,
    'mac.notarize must not be false: it runs when Apple credentials are in the environment.',
  );
  need(targetNames(config.win?.target).includes('nsis'), 'win.target must include nsis.');

  const assoc = Array.isArray(config.fileAssociations)
    ? config.fileAssociations
    : config.fileAssociations
      ? [config.fileAssociations]
      : [];
  need(
    assoc.some((a) => (Array.isArray(a.ext) ? a.ext : [a.ext]).includes('psbt')),
    'fileAssociations must include psbt.',
  );

  const publish = (Array.isArray(config.publish) ? config.publish : [config.publish]).filter(
    Boolean,
  ) as Array<{ provider?: string }>;
  need(publish.length > 0, 'publish must name GitHub Releases or a generic feed.');
  for (const p of publish) {
    need(
      p.provider === 'github' || p.provider === 'generic',
      `publish provider ${String(p.provider)}: the app verifies feeds from github or generic only.`,
    );
  }
  const fuses = config.electronFuses;
  need(fuses?.runAsNode === false, 'electronFuses.runAsNode must be false.');
  need(
    fuses?.enableNodeOptionsEnvironmentVariable === false,
    'electronFuses.enableNodeOptionsEnvironmentVariable must be false.',
  );
  need(
    fuses?.enableNodeCliInspectArguments === false,
    'electronFuses.enableNodeCliInspectArguments must be false.',
  );
  return problems;
}

/** Loads and checks a config file; returns the problems (empty when it is fine). */
export async function checkConfig(path = join(ROOT, 'electron-builder.yml')): Promise<string[]> {
  const config = yaml.load(readFileSync(path, 'utf8')) as Configuration;
  try {
    await validateConfiguration(config, { isEnabled: false, add() {} } as unknown as Parameters<
      typeof validateConfiguration
    >[1]);
  } catch (err) {
    return [(err as Error).message];
  }
  return policyProblems(config);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const path = resolve(process.argv[2] ?? join(ROOT, 'electron-builder.yml'));
  checkConfig(path).then(
    (problems) => {
      if (problems.length) {
        console.error(`${path} is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
        process.exit(1);
      }
      console.log(`${path} is valid for electron-builder and BitStable's release policy.`);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
