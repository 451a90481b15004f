#!/usr/bin/env bash
# Installs every system package cell needs to build, test and run, on Debian
# 12. Idempotent: packages already present are not touched and the package
# index is refreshed only when something is missing.
#
#   sudo ./setup.sh          # as root (CI runs as root)
#   ./setup.sh --check       # only report what is missing; exit 1 if any
set -euo pipefail

PACKAGES=(
  # Build: Bazel 4.2.3 and what it needs offline (third_party/README.md).
  bazel-bootstrap g++ pkg-config git
  # Libraries, found through pkg-config by the WORKSPACE.
  libabsl-dev libre2-dev libgtest-dev libgmock-dev nlohmann-json3-dev libhttp-parser-dev
  libseccomp-dev
  # Fuzzing and sanitizers (--config=fuzz, --config=asan).
  clang libclang-rt-14-dev
  # What a cell runs with, and what the tests exercise for real.
  tinyproxy nix-bin curl iproute2 util-linux procps
  # Clients whose messages show the proxy's reason for a 403 (tested).
  wget python3
  # Everyday use (tested): the README's first example builds a C project
  # with make in a --preset=host cell; TLS roots are checked against an
  # HTTPS server with a CA made by openssl.
  make openssl ca-certificates
  # JUnit reports are validated as XML in the tests.
  libxml2-utils
  # Benchmarks and side-by-side comparisons (socat: the seed's pipeline).
  hyperfine bubblewrap socat
  # Terminal tests: a full-screen editor inside a cell (issue 16).
  vim tmux
  # Style.
  clang-format
  # Shell completion is tested in zsh too (docs/man).
  zsh
  # Container tests (tests/container): rootful podman with runc, an image
  # of busybox-static, catatonit for podman kube play.
  podman runc busybox-static catatonit
)

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null |
      grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi
if [[ "${1:-}" == "--check" ]]; then
  echo "setup: missing: ${missing[*]}" >&2
  exit 1
fi
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    echo "setup: installing ${missing[*]} with sudo" >&2
    exec sudo "$0" "$@"
  fi
  echo "setup: missing packages: ${missing[*]}" >&2
  echo "setup: run this script as root (e.g. 'su -c ./setup.sh') or install" \
       "them with apt-get." >&2
  exit 1
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian's tinyproxy package enables a system-wide service on port 8888;
# cell starts its own tinyproxy per run and needs none.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active -q tinyproxy 2>/dev/null; then
  systemctl disable --now tinyproxy >/dev/null 2>&1 || true
fi
echo "setup: done"
