// `npm start`: builds and launches the desktop app in local regtest mode where an Electron binary
// is installed; otherwise runs the same app in the browser (the headless host on local regtest),
// prints its link and opens it where there is a desktop browser, saying why.
import { spawn, spawnSync } from 'node:child_process';
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
  // No desktop window here: the same app in the browser, so that `npm start` always runs it.
  console.log(`BitStable Desktop needs the Electron binary, and it is not installed here, so the
same app starts in your browser instead: the core on local regtest, with the UI at the link below.
(To get the desktop window: ELECTRON_SKIP_BINARY_DOWNLOAD=0 node node_modules/electron/install.js,
then \`npm start\` again.)
`);
  runHeadless(process.argv.slice(2));
} else {
  runDesktop(binary);
}

/** The headless host in the foreground; the printed link opened in a browser where there is one. */
function runHeadless(args) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'headless.ts'), ...args],
    { stdio: ['inherit', 'pipe', 'inherit'], env: process.env },
  );
  let opened = false;
  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    const link = /Open: (http:\/\/\S+)/.exec(chunk.toString())?.[1];
    if (link && !opened) {
      opened = true;
      openInBrowser(link);
    }
  });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
}

function openInBrowser(link) {
  const graphical =
    process.env.DISPLAY || process.env.WAYLAND_DISPLAY || process.platform === 'darwin';
  const opener = process.platform === 'darwin' ? 'open' : 'xdg-open';
  if (!graphical || spawnSync('which', [opener]).status !== 0) {
    console.log(
      '(No desktop browser to open here: open the link above in a browser on this machine.)',
    );
    return;
  }
  spawn(opener, [link], { stdio: 'ignore', detached: true }).unref();
}

function runDesktop(binary) {
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
}
