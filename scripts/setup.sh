#!/usr/bin/env bash
# Sets up a Debian/Ubuntu machine for BitStable Desktop: system packages, npm dependencies, and a
# local bitcoind for regtest mode. Safe to run again. Non-interactive (works in CI).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# Native modules build from source: node-hid (Ledger USB) needs libusb and libudev headers;
# better-sqlite3 needs a C++ toolchain. Chromium runs the end-to-end tests (Playwright's own
# browser download does not work everywhere; Debian's package does). Electrum (4.3, Python) is
# the second wallet of the interop test: a guardian signing BitStable PSBTs from the kit.
# PostgreSQL (15) backs the protocol node's second storage; the tests start private clusters.
packages=(build-essential python3 libusb-1.0-0-dev libudev-dev chromium electrum postgresql)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Electron's own binary download reaches outside the npm registry; skip it by default (the app
# runs headless without it). Set ELECTRON_SKIP_BINARY_DOWNLOAD=0 to try the download.
electron_skip_given="${ELECTRON_SKIP_BINARY_DOWNLOAD+given}"
export ELECTRON_SKIP_BINARY_DOWNLOAD="${ELECTRON_SKIP_BINARY_DOWNLOAD:-1}"
echo "setup: installing npm dependencies (native modules build from source, about two minutes)"
npm ci --no-audit --no-fund
# .npmrc sets ignore-scripts, so no package's install script ran: build the approved native
# modules by name (allowScripts in package.json, checked by npm run check:deps).
npm rebuild --ignore-scripts=false better-sqlite3 node-hid usb esbuild

bash scripts/install-bitcoind.sh

# On a desktop, fetch Electron's binary for `npm start` (from Electron's own download host). Where
# that is unreachable the app still runs in a browser: `npm run headless`.
if [ -z "${CI:-}" ] && [ -z "$electron_skip_given" ] && [ ! -f node_modules/electron/path.txt ]; then
  echo "setup: downloading the Electron binary for the desktop app"
  if ! ELECTRON_SKIP_BINARY_DOWNLOAD=0 timeout 300 node node_modules/electron/install.js >/dev/null 2>&1; then
    echo "setup: Electron could not be downloaded here; use \`npm run headless\` to run the app in a browser"
  fi
fi
echo "setup: done"
