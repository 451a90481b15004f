#!/usr/bin/env bash
# Builds cell, cell-probe and cell-verify with Bazel and installs them into
# PREFIX/bin, their man pages into PREFIX/share/man (made from their --help
# and docs/spec.md, //docs/man) and the shell completion into
# PREFIX/share/bash-completion and PREFIX/share/zsh. Used by the flake's
# package (nix/package.nix) and tested on Debian by //nix:build_script_test,
# so both run the same steps.
#   nix/build.sh PREFIX [BAZEL_STARTUP_FLAG...]
# Bazel finds abseil, RE2, GoogleTest and nlohmann-json through pkg-config
# (third_party/pkg_config.bzl); nothing is downloaded.
set -euo pipefail
prefix="${1:?usage: nix/build.sh PREFIX [BAZEL_STARTUP_FLAG...]}"
shift
cd "$(dirname "$0")/.."
bazel "$@" build -c opt \
  //launcher:cell //probes:cell-probe //policy:cell-verify \
  //docs/man:man_pages //docs/man:completions
bin="$(bazel "$@" info -c opt bazel-bin 2>/dev/null)"
mkdir -p "$prefix/bin"
# cell-verify finds cell and cell-probe beside itself.
for target in launcher/cell probes/cell-probe policy/cell-verify; do
  install -m 0755 "$bin/$target" "$prefix/bin/$(basename "$target")"
done
mkdir -p "$prefix/share/man/man1" "$prefix/share/man/man5" \
  "$prefix/share/bash-completion/completions" "$prefix/share/zsh/site-functions"
install -m 0644 "$bin/docs/man/cell.1" "$bin/docs/man/cell-verify.1" \
  "$prefix/share/man/man1/"
install -m 0644 "$bin/docs/man/cell-spec.5" "$prefix/share/man/man5/"
# bash-completion loads a command's file by its name: one for each.
for name in cell cell-verify; do
  install -m 0644 "$bin/docs/man/cell.bash" \
    "$prefix/share/bash-completion/completions/$name"
done
install -m 0644 "$bin/docs/man/_cell" "$prefix/share/zsh/site-functions/_cell"
echo "installed cell, cell-probe, cell-verify in $prefix/bin," \
  "their man pages and completion in $prefix/share"
