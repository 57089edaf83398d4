#!/usr/bin/env bash
# Install a project-local bitcoind / bitcoin-cli into <repo>/.tools/ (Debian, amd64).
#
# Debian bookworm ships no bitcoind, but Debian's trixie-backports suite has
# `bitcoin-knots` (a Bitcoin Core derivative with the same RPC interface).
# Its binaries need a newer glibc/libstdc++ than bookworm has, so we:
#   1. use a PRIVATE apt configuration (own sources list, lists, cache and an
#      empty dpkg status; the system's apt state is not touched) pointing at the
#      Debian mirror this machine already uses, signature-checked with
#      /usr/share/keyrings/debian-archive-keyring.gpg;
#   2. `apt-get download` bitcoin-knots (trixie-backports) plus libc6,
#      libstdc++6 and libgcc-s1 (trixie) and `dpkg -x` them into
#      .tools/bitcoin-root/;
#   3. make sure the remaining shared libraries (libevent, libzmq5, libsqlite3)
#      are present from the system's own release (apt-get install if missing);
#   4. write wrappers .tools/bin/<tool> that run the binary through the unpacked
#      trixie dynamic loader with an explicit library path. The wrappers locate
#      everything relative to themselves, so the checkout can be moved.
#
# Usage: scripts/install-bitcoind.sh [--force]
#   --force   install into .tools even if a bitcoind is already on PATH or in
#             $BITCOIND, and reinstall even if .tools/bin/bitcoind already works.
#
# Environment:
#   BITCOIND                    if it names an executable, nothing is installed.
#   BITCOIND_DEBIAN_MIRROR      override the Debian mirror URL.
#   BITCOIND_APT_INSECURE=1     LAST RESORT: mark the private trixie sources
#                               [trusted=yes] (no signature check) when the
#                               installed debian-archive-keyring cannot verify
#                               trixie. Off by default.
set -Eeuo pipefail

PROG=install-bitcoind
log() { printf '[%s] %s\n' "$PROG" "$*"; }
warn() { printf '[%s] warning: %s\n' "$PROG" "$*" >&2; }
die() { printf '[%s] error: %s\n' "$PROG" "$*" >&2; exit 1; }
trap 'rc=$?; printf "[%s] error: command failed (exit %s) at line %s: %s\n" "$PROG" "$rc" "$LINENO" "$BASH_COMMAND" >&2; exit "$rc"' ERR

FORCE=0
for arg in "$@"; do
  case "$arg" in
    --force | -f) FORCE=1 ;;
    -h | --help) sed -n '2,/^set -Eeuo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $arg (try --help)" ;;
  esac
done

export DEBIAN_FRONTEND=noninteractive
exec </dev/null # never prompt

SCRIPT_DIR=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")" && pwd)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd)
TOOLS="$REPO_ROOT/.tools"
BIN="$TOOLS/bin"
ROOT="$TOOLS/bitcoin-root"
TOOL_NAMES=(bitcoind bitcoin-cli bitcoin-tx bitcoin-util bitcoin-wallet)

# --- 1. Already done? ------------------------------------------------------
if [[ $FORCE == 0 ]] && [[ -x "$BIN/bitcoind" ]] && ver=$("$BIN/bitcoind" -version 2>/dev/null | head -n1) && [[ -n $ver ]]; then
  log "already installed: $BIN/bitcoind ($ver)"
  exit 0
fi

# --- 2. A bitcoind provided by the user? -------------------------------------
if [[ $FORCE == 0 ]]; then
  if [[ -n ${BITCOIND:-} ]]; then
    if [[ -x $BITCOIND && ! -d $BITCOIND ]]; then
      log "BITCOIND=$BITCOIND is set and executable; not installing (use --force to install into .tools anyway)"
      exit 0
    fi
    warn "BITCOIND=$BITCOIND is not an executable file; ignoring it"
  fi
  if sys_bitcoind=$(command -v bitcoind 2>/dev/null) && [[ $(readlink -f "$sys_bitcoind") != "$(readlink -f "$BIN/bitcoind" 2>/dev/null || true)" ]]; then
    if sys_ver=$("$sys_bitcoind" -version 2>/dev/null | head -n1) && [[ -n $sys_ver ]]; then
      log "bitcoind found on PATH: $sys_bitcoind ($sys_ver); not installing (use --force to install into .tools anyway)"
      exit 0
    fi
    warn "bitcoind on PATH ($sys_bitcoind) does not run; installing a local one"
  fi
fi

# --- 3. Preconditions --------------------------------------------------------
[[ $(uname -s) == Linux ]] || die "only Linux is supported (this is $(uname -s)); install Bitcoin Core yourself and set BITCOIND=/path/to/bitcoind"
for cmd in apt-get dpkg flock; do
  command -v "$cmd" >/dev/null 2>&1 || die "'$cmd' not found; this script needs a Debian-based system (install Bitcoin Core yourself and set BITCOIND=/path/to/bitcoind)"
done
ARCH=$(dpkg --print-architecture)
[[ $ARCH == amd64 ]] || die "unsupported architecture '$ARCH' ($(uname -m)); only amd64 is supported. Install Bitcoin Core for your platform and set BITCOIND=/path/to/bitcoind"

CODENAME=$( (. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}") || true)
[[ $CODENAME == bookworm ]] || warn "this script is tested on Debian bookworm; this system is '${CODENAME:-unknown}', trying anyway"

SUDO=()
if [[ $(id -u) != 0 ]]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO=(sudo -n); fi
fi

mkdir -p "$TOOLS"
exec 9>"$TOOLS/.install-bitcoind.lock"
flock -w 600 9 || die "timed out waiting for another install-bitcoind run (lock $TOOLS/.install-bitcoind.lock)"
# Another run may have finished while we waited.
if [[ $FORCE == 0 ]] && [[ -x "$BIN/bitcoind" ]] && ver=$("$BIN/bitcoind" -version 2>/dev/null | head -n1) && [[ -n $ver ]]; then
  log "already installed: $BIN/bitcoind ($ver)"
  exit 0
fi

WORK=$(mktemp -d "$TOOLS/.install-tmp.XXXXXX")
cleanup() { rm -rf -- "$WORK"; }
trap cleanup EXIT
trap 'die "interrupted"' INT TERM HUP
APTLOG="$WORK/apt.log"
show_log() { [[ -s $APTLOG ]] && tail -n 20 "$APTLOG" | sed 's/^/    /' >&2 || true; }

# --- 4. Mirror -----------------------------------------------------------------
find_mirror() {
  local f uri line
  # deb822 *.sources: first "Types: deb" stanza with an http(s) URI and a non-security suite.
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r $f ]] || continue
    uri=$(awk '
      function flush() { if (types ~ /(^| )deb( |$)/ && suites != "" && suites !~ /-security/ && uris ~ /^https?:\/\//) { split(uris, u, " "); print u[1]; found=1; exit } types=""; uris=""; suites="" }
      /^[[:space:]]*#/ { next }
      /^[[:space:]]*$/ { flush(); next }
      tolower($1) == "types:"  { $1=""; types=$0 }
      tolower($1) == "uris:"   { $1=""; sub(/^ +/, ""); uris=$0 }
      tolower($1) == "suites:" { $1=""; suites=$0 }
      END { if (!found) flush() }' "$f")
    [[ -n $uri ]] && { echo "$uri"; return 0; }
  done
  # one-line format.
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -r $f ]] || continue
    while read -r line; do
      line=${line%%#*}
      [[ $line =~ ^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?(https?://[^[:space:]]+)[[:space:]]+([^[:space:]]+) ]] || continue
      [[ ${BASH_REMATCH[3]} == *-security* ]] && continue
      echo "${BASH_REMATCH[2]}"
      return 0
    done <"$f"
  done
  return 1
}
MIRROR=${BITCOIND_DEBIAN_MIRROR:-}
if [[ -z $MIRROR ]]; then
  MIRROR=$(find_mirror) || { MIRROR=http://deb.debian.org/debian; warn "could not read a Debian mirror from /etc/apt; using $MIRROR"; }
fi
MIRROR=${MIRROR%/}
log "using Debian mirror $MIRROR"

KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
if [[ ${BITCOIND_APT_INSECURE:-0} == 1 ]]; then
  warn "BITCOIND_APT_INSECURE=1: trixie packages will NOT be signature-checked"
  SRC_OPTS="[trusted=yes]"
else
  [[ -r $KEYRING ]] || die "$KEYRING not found; install the 'debian-archive-keyring' package (or, as a last resort, rerun with BITCOIND_APT_INSECURE=1)"
  SRC_OPTS="[signed-by=$KEYRING]"
fi

# --- 5. Private apt ---------------------------------------------------------
mkdir -p "$WORK/lists/partial" "$WORK/archives/partial" "$WORK/debs"
: >"$WORK/status"
cat >"$WORK/sources.list" <<EOF
deb $SRC_OPTS $MIRROR trixie main
deb $SRC_OPTS $MIRROR trixie-backports main
EOF
APT_OPTS=(
  -o "Dir::Etc::SourceList=$WORK/sources.list"
  -o Dir::Etc::SourceParts=/dev/null
  -o Dir::Etc::Preferences=/dev/null
  -o Dir::Etc::PreferencesParts=/dev/null
  -o "Dir::State::Lists=$WORK/lists"
  -o "Dir::State::Status=$WORK/status"
  -o "Dir::State::extended_states=$WORK/extended_states"
  -o "Dir::Cache::Archives=$WORK/archives"
  -o Dir::Cache::pkgcache=
  -o Dir::Cache::srcpkgcache=
  -o APT::Default-Release=
  -o "APT::Architecture=$ARCH"
  -o "APT::Architectures=$ARCH"
  -o Acquire::Languages=none
  -o Acquire::Retries=3
)
if [[ $(id -u) == 0 ]]; then APT_OPTS+=(-o APT::Sandbox::User=root); fi # private dirs are not readable by _apt
if [[ $MIRROR == *snapshot.debian.org* ]]; then APT_OPTS+=(-o Acquire::Check-Valid-Until=false); fi

log "fetching trixie / trixie-backports package indexes (private apt state)"
if ! apt-get "${APT_OPTS[@]}" -q update >"$APTLOG" 2>&1 || grep -qE '^(E:|W: GPG error|W: Failed to fetch)' "$APTLOG"; then
  show_log
  if grep -qE 'NO_PUBKEY|EXPKEYSIG|not signed|GPG error' "$APTLOG"; then
    die "could not verify Debian trixie signatures with $KEYRING (is debian-archive-keyring too old? try 'apt-get install debian-archive-keyring' from bookworm-updates, or as a last resort rerun with BITCOIND_APT_INSECURE=1)"
  fi
  die "apt-get update for trixie/trixie-backports from $MIRROR failed (see above)"
fi

PKGS=(bitcoin-knots/trixie-backports libc6/trixie libstdc++6/trixie libgcc-s1/trixie)
log "downloading ${PKGS[*]}"
if ! (cd "$WORK/debs" && apt-get "${APT_OPTS[@]}" -q download "${PKGS[@]}") >"$APTLOG" 2>&1; then
  show_log
  die "apt-get download of ${PKGS[*]} from $MIRROR failed (see above)"
fi

# --- 6. Unpack ------------------------------------------------------------------
STAGE="$WORK/root"
mkdir -p "$STAGE"
for deb in "$WORK"/debs/*.deb; do
  log "unpacking $(basename "$deb")"
  dpkg -x "$deb" "$STAGE" || die "dpkg -x $(basename "$deb") failed"
done
rm -rf "$STAGE/usr/share/doc" "$STAGE/usr/share/man" "$STAGE/usr/share/lintian" "$STAGE/usr/share/locale"

LOADER_REL=usr/lib64/ld-linux-x86-64.so.2
[[ -e "$STAGE/$LOADER_REL" ]] || die "unpacked libc6 has no $LOADER_REL"
[[ -x "$STAGE/usr/bin/bitcoind" ]] || die "bitcoin-knots package has no usr/bin/bitcoind (contents changed?)"
# Symlinks named after each tool, pointing at the loader, so the running
# process is called "bitcoind" (ps/pgrep/killall work) instead of "ld-linux-x86-64".
mkdir -p "$STAGE/libexec"
for t in "${TOOL_NAMES[@]}"; do
  if [[ -x "$STAGE/usr/bin/$t" ]]; then ln -s "../$LOADER_REL" "$STAGE/libexec/$t"; fi
done

# --- 7. System libraries (libevent, zmq, sqlite) ---------------------------------
# sonames the binaries need from the system, and bookworm's packages providing them.
declare -A SONAME_PKG=(
  [libevent_core-2.1.so.7]=libevent-core-2.1-7
  [libevent_extra-2.1.so.7]=libevent-extra-2.1-7
  [libevent_pthreads-2.1.so.7]=libevent-pthreads-2.1-7
  [libevent-2.1.so.7]=libevent-2.1-7
  [libzmq.so.5]=libzmq5
  [libsqlite3.so.0]=libsqlite3-0
)
LDCONFIG=$(command -v ldconfig || echo /sbin/ldconfig)
have_soname() { "$LDCONFIG" -p 2>/dev/null | grep -qF "$1 (libc6,x86-64)"; }
missing=()
for so in "${!SONAME_PKG[@]}"; do
  pkg=${SONAME_PKG[$so]}
  # trixie and later renamed the libevent packages (64-bit time_t transition).
  [[ $CODENAME != bookworm && $pkg == libevent-* ]] && pkg="${pkg}t64"
  have_soname "$so" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if [[ $(id -u) != 0 && ${#SUDO[@]} == 0 ]]; then
    die "missing system libraries; run as root: apt-get install -y ${missing[*]}"
  fi
  log "installing system packages: ${missing[*]}"
  if ! "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >"$APTLOG" 2>&1; then
    log "apt-get install failed; running apt-get update and retrying"
    "${SUDO[@]}" apt-get update -q >"$APTLOG" 2>&1 || { show_log; die "system apt-get update failed"; }
    "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >"$APTLOG" 2>&1 || {
      show_log
      die "could not install system packages: ${missing[*]}"
    }
  fi
fi

# --- 8. Move into place, write wrappers ------------------------------------------
rm -rf -- "$ROOT" "$BIN"
mv -- "$STAGE" "$ROOT"
mkdir -p "$BIN"
for t in "${TOOL_NAMES[@]}"; do
  [[ -x "$ROOT/usr/bin/$t" ]] || continue
  cat >"$BIN/$t" <<EOF
#!/bin/sh
# Generated by scripts/install-bitcoind.sh: runs Debian trixie's $t (bitcoin-knots)
# through the bundled trixie glibc loader. Paths are relative to this file.
here=\$(dirname "\$(readlink -f "\$0")")
root="\$here/../bitcoin-root"
exec "\$root/libexec/$t" --argv0 "$t" \\
  --library-path "\$root/usr/lib/x86_64-linux-gnu:/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu" \\
  "\$root/usr/bin/$t" "\$@"
EOF
  chmod 0755 "$BIN/$t"
done

# --- 9. Verify -------------------------------------------------------------------
if missing_libs=$("$ROOT/$LOADER_REL" --list --library-path "$ROOT/usr/lib/x86_64-linux-gnu:/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu" "$ROOT/usr/bin/bitcoind" 2>&1 | grep 'not found'); then
  die "bitcoind is missing shared libraries: $(echo "$missing_libs" | awk '{print $1}' | xargs)"
fi
ver=$("$BIN/bitcoind" -version 2>&1 | head -n1) || die "$BIN/bitcoind -version failed: $ver"
cli_ver=$("$BIN/bitcoin-cli" -version 2>&1 | head -n1) || die "$BIN/bitcoin-cli -version failed: $cli_ver"
log "installed $ver"
log "installed $cli_ver"
log "binaries: $BIN/bitcoind, $BIN/bitcoin-cli"
