// `npm start`: launches the desktop app in local regtest mode where an Electron binary is
// installed; otherwise says plainly what to do instead.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function electronBinary() {
  try {
    const path = require('electron'); // the package exports the binary's path
    return typeof path === 'string' && existsSync(path) ? path : null;
  } catch {
    return null;
  }
}

const binary = electronBinary();
if (!binary) {
  console.log(`BitStable Desktop needs the Electron binary, and it is not installed here.

  To install it (needs access to Electron's download host):
    ELECTRON_SKIP_BINARY_DOWNLOAD=0 node node_modules/electron/install.js

  Without Electron, everything else still works:
    npm test                 the core against a real regtest bitcoind
    npm run headless         the same app in your browser (arrives with the UI issue)
`);
  process.exit(1);
}

const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
run('npx', ['electron-vite', 'build']);
run(binary, ['.']);
