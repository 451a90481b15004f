#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs the main job: verify a default
# cell end to end.   ./verify.sh [--profile=documented|agent-strict]
#
# A default cell: a worktree, the Nix store read-only and the Nix daemon,
# egress only through the filtering proxy (no filter: allow-all, which the
# report flags as a warning). cell-verify checks the spec against the policy,
# runs cell-probe inside a real cell built from it, and judges every
# documented property. On a host with Nix the host's daemon serves the cell;
# elsewhere (a fresh Debian machine) a nix-daemon on a private store does.
set -euo pipefail
cd "$(dirname "$0")"
profile="--profile=documented"
for arg in "$@"; do
  case "$arg" in
    --profile=*) profile="$arg" ;;
    *) echo "usage: $0 [--profile=documented|agent-strict]" >&2; exit 2 ;;
  esac
done
./setup.sh

work=$(mktemp -d /tmp/cell-verify-main.XXXXXX)
trap 'rm -rf "$work"' EXIT
# Bazel's output (a screenful of progress lines on a fresh output base) goes
# to a log that is shown only when the build fails.
echo "verify: building cell, cell-verify, cell-probe (the first build takes a few minutes)..."
build_status=0
bazel build -c opt //launcher:cell //policy:cell-verify //probes:cell-probe \
  > "$work/build.log" 2>&1 || build_status=$?
if [[ $build_status -ne 0 ]]; then
  echo "verify: the build failed (bazel exited $build_status); its output:" >&2
  cat "$work/build.log" >&2
  exit $build_status
fi
bin="$(bazel info -c opt bazel-bin 2>/dev/null)"

# cell-verify sits beside cell and cell-probe in bazel-bin only through
# runfiles; give the script one directory holding all three.
tools="$work/bin"
mkdir "$tools"
ln -s "$bin/launcher/cell" "$bin/probes/cell-probe" "$bin/policy/cell-verify" "$tools/"
status=0
policy/verify-cell.sh "$tools" examples/default-cell.json "$profile" || status=$?
if [[ "$profile" == "--profile=documented" ]]; then
  echo "== for agents, the agent-strict profile says (static check, advice only):"
  policy/verify-cell.sh "$tools" examples/default-cell.json \
    --profile=agent-strict --static-only | grep -E "FAIL|WARN" || true
fi
exit $status
