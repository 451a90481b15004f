#!/usr/bin/env bash
# No file of the repository (bazel-* and .git aside) names the design
# contract that users never see: docs/spec.md is the reference.
#   no_stale_spec_reference_test.sh docs/BUILD.bazel
# The work tree is found through the runfile's link to the source file.
set -uo pipefail
build_file=$(readlink -f "$1")
root=$(dirname "$(dirname "$build_file")")
if [[ ! -f $root/WORKSPACE || ! -f $root/docs/spec.md ]]; then
  echo "FAIL: cannot find the work tree from $1 (got $root)" >&2
  exit 1
fi
# Spelled in two pieces so that this file does not name it.
name="SPEC"'[.]md'
found=$(cd "$root" && grep -rIn --exclude-dir=.git --exclude-dir='bazel-*' \
  -e "$name" . || true)
if [[ -n $found ]]; then
  echo "FAIL: these lines name the old contract; point them at docs/spec.md:" >&2
  echo "$found" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
echo "PASS: no file under $root names it"
echo "1 passed, 0 failed"
