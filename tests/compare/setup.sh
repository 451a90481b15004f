#!/usr/bin/env bash
# Installs what the side-by-side comparison of cell-probe under foreign
# sandboxes needs, beyond the core ./setup.sh: bubblewrap, firejail, socat,
# ripgrep (Debian), Node and npm if there are none, and Anthropic's sandbox
# runtime `srt` (@anthropic-ai/sandbox-runtime, npm) into a prefix outside the
# repository. Idempotent; run as root. Prints one line per thing found or
# installed, the last one naming the srt binary.
#
#   tests/compare/setup.sh
#   CELL_COMPARE_PREFIX=/opt/cmp tests/compare/setup.sh
#
# Exit status: non-zero only when a Debian package cannot be installed. srt
# failing to install is reported ("srt: not installed: <reason>") and is not
# fatal: the comparison then skips srt.
set -euo pipefail

# The srt release this comparison was checked against (tests/compare/NOTES.md).
SRT_PACKAGE=@anthropic-ai/sandbox-runtime
SRT_VERSION=0.0.83
PREFIX=${CELL_COMPARE_PREFIX:-/var/cache/cell-compare}

PACKAGES=(bubblewrap firejail socat ripgrep)

if [[ $(id -u) -ne 0 ]]; then
  echo "compare-setup: must run as root (it installs Debian packages)" >&2
  exit 1
fi

installed_version() {
  dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null |
    awk '$1 == "install" && $2 == "ok" && $3 == "installed" { print $4 }'
}

# Node and npm: any node/npm on PATH will do (this machine's come from a
# repacked nodejs that bundles npm); only when one is missing do Debian's
# packages come in.
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

missing=()
for package in "${PACKAGES[@]}"; do
  [[ -n $(installed_version "$package") ]] || missing+=("$package")
done

if [[ ${#missing[@]} -gt 0 ]]; then
  export DEBIAN_FRONTEND=noninteractive
  log=$(mktemp)
  trap 'rm -f "$log"' EXIT
  if ! apt-get update -qq >"$log" 2>&1 ||
     ! apt-get install -y -qq --no-install-recommends \
         -o DPkg::Lock::Timeout=300 "${missing[@]}" >>"$log" 2>&1; then
    for package in "${missing[@]}"; do
      [[ -n $(installed_version "$package") ]] ||
        echo "$package: not installed: $(grep -E '^(E|W):' "$log" | tail -n 1 || true)"
    done
    echo "compare-setup: apt-get failed; its log:" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
fi

for package in "${PACKAGES[@]}"; do
  verb=found
  [[ " ${missing[*]} " == *" $package "* ]] && verb=installed
  echo "$package: $verb $(installed_version "$package")"
done
if [[ " ${PACKAGES[*]} " != *" nodejs "* ]]; then
  echo "node: found $(node --version) at $(command -v node)"
fi
if [[ " ${PACKAGES[*]} " != *" npm "* ]]; then
  echo "npm: found $(npm --version) at $(command -v npm)"
fi

# srt, pinned, in its own prefix: never inside a directory a sandboxed
# command may write (srt's README: a writable copy could be rewritten from
# inside and then run unsandboxed).
srt_bin=$PREFIX/node_modules/.bin/srt
srt_pkg=$PREFIX/node_modules/$SRT_PACKAGE/package.json
have=""
if [[ -f $srt_pkg ]]; then
  have=$(node -p 'require(process.argv[1]).version' "$srt_pkg" 2>/dev/null || true)
fi
if [[ $have == "$SRT_VERSION" && -x $srt_bin ]]; then
  srt_verb=found
else
  srt_verb=installed
  npm_log=$(mktemp)
  mkdir -p "$PREFIX"
  # --loglevel=error: the package declares node >= 22.12, and npm warns
  # (EBADENGINE) on older ones; srt runs on Node 20 all the same.
  if ! (cd "$PREFIX" && npm install --prefix "$PREFIX" --save-exact \
          --no-audit --no-fund --no-update-notifier --loglevel=error \
          "$SRT_PACKAGE@$SRT_VERSION") >"$npm_log" 2>&1; then
    reason=$(grep -m 1 -E 'npm (ERR!|error) (code|[a-z])' "$npm_log" || true)
    echo "srt: not installed: npm install $SRT_PACKAGE@$SRT_VERSION failed${reason:+: $reason}"
    rm -f "$npm_log"
    exit 0
  fi
  rm -f "$npm_log"
fi

if ! got=$("$srt_bin" --version 2>&1); then
  echo "srt: not installed: $srt_bin --version failed: $(printf '%s' "$got" | tail -n 1)"
  exit 0
fi
if [[ $got != "$SRT_VERSION" ]]; then
  echo "srt: not installed: $srt_bin reports version '$got', expected $SRT_VERSION"
  exit 0
fi
echo "srt: $srt_verb $SRT_VERSION at $srt_bin"
