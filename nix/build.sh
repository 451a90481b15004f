#!/usr/bin/env bash
# Builds cell, cell-probe and cell-verify with Bazel and installs them into
# PREFIX/bin. Used by the flake's package (nix/package.nix) and tested on
# Debian by //nix:build_script_test, so both run the same steps.
#   nix/build.sh PREFIX [BAZEL_STARTUP_FLAG...]
# Bazel finds abseil, RE2, GoogleTest and nlohmann-json through pkg-config
# (third_party/pkg_config.bzl); nothing is downloaded.
set -euo pipefail
prefix="${1:?usage: nix/build.sh PREFIX [BAZEL_STARTUP_FLAG...]}"
shift
cd "$(dirname "$0")/.."
bazel "$@" build -c opt \
  //launcher:cell //probes:cell-probe //policy:cell-verify
bin="$(bazel "$@" info -c opt bazel-bin 2>/dev/null)"
mkdir -p "$prefix/bin"
# cell-verify finds cell and cell-probe beside itself.
for target in launcher/cell probes/cell-probe policy/cell-verify; do
  install -m 0755 "$bin/$target" "$prefix/bin/$(basename "$target")"
done
echo "installed cell, cell-probe, cell-verify in $prefix/bin"
