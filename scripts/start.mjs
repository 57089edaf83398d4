// `npm start`: builds and launches the desktop app in local regtest mode where an Electron binary
// is installed; otherwise says plainly what to do instead.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

// Resolved like the electron package's index.js, but without require('electron'), which tries
// to download the binary when it is missing.
function electronBinary() {
  let dir;
  try {
    dir = dirname(require.resolve('electron/package.json'));
  } catch {
    return null;
  }
  const pathFile = join(dir, 'path.txt');
  const name = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : null;
  const dist = process.env.ELECTRON_OVERRIDE_DIST_PATH ?? join(dir, 'dist');
  if (!name && !process.env.ELECTRON_OVERRIDE_DIST_PATH) return null;
  const path = join(dist, name ?? 'electron');
  return existsSync(path) ? path : null;
}

const binary = electronBinary();
if (!binary) {
  console.log(`BitStable Desktop needs the Electron binary, and it is not installed here.

  To install it (needs access to Electron's download host):
    ELECTRON_SKIP_BINARY_DOWNLOAD=0 node node_modules/electron/install.js
  then run \`npm start\` again.

  Without Electron, the same app runs in your browser:
    npm run headless         the core on local regtest, with the UI at the printed link
    npm test                 the tests, against a real regtest bitcoind
`);
  process.exit(1);
}

const run = (cmd, args, env = process.env) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
// Native modules must match Electron's ABI, not Node's: say so instead of a crash at start.
const probe = spawnSync(binary, ['-e', "require('better-sqlite3')(':memory:').close()"], {
  env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
  encoding: 'utf8',
});
if (probe.status !== 0) {
  console.log(`The native modules (better-sqlite3, node-hid) are built for Node ${process.version}; rebuilding them for Electron now.
  (To run the Node tests afterwards: npm rebuild better-sqlite3 node-hid usb)`);
  run('npm', ['run', 'electron:rebuild']);
}

run('npx', ['electron-vite', 'build']);
// Local regtest unless told otherwise (BITSTABLE_NETWORK); extra arguments go to the app.
run(binary, ['.', ...process.argv.slice(2)], {
  ...process.env,
  BITSTABLE_NETWORK: process.env.BITSTABLE_NETWORK ?? 'regtest',
});
