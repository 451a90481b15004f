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
bazel build -c opt //launcher:cell //policy:cell-verify //probes:cell-probe
bin="$(bazel info -c opt bazel-bin 2>/dev/null)"

work=$(mktemp -d /tmp/cell-verify-main.XXXXXX)
chmod 755 "$work"
daemon_pid=""
cleanup() {
  [[ -n "$daemon_pid" ]] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
mkdir "$work/wt"

nix_fields=""  # Set when this run starts its own daemon.
if [[ ! -S /nix/var/nix/daemon-socket/socket ]]; then
  echo "== no Nix on this host: starting nix-daemon on a private store in $work/nix"
  mkdir -p "$work"/nix/{store,state,log,conf,daemon}
  NIX_STORE_DIR="$work/nix/store" NIX_STATE_DIR="$work/nix/state" \
  NIX_LOG_DIR="$work/nix/log" NIX_CONF_DIR="$work/nix/conf" \
  NIX_DAEMON_SOCKET_PATH="$work/nix/daemon/socket" \
    nix-daemon > "$work/nix/daemon.log" 2>&1 &
  daemon_pid=$!
  for _ in $(seq 500); do [[ -S "$work/nix/daemon/socket" ]] && break; sleep 0.02; done
  chmod 666 "$work/nix/daemon/socket"
  nix_fields=private
fi
# The shipped example, resolved with this run's paths by `cell check-spec`
# (whose output is itself a spec).
nix_flags=()
if [[ -n "$nix_fields" ]]; then
  nix_flags=(--nix-store="$work/nix/store" --nix-daemon-socket="$work/nix/daemon")
fi
"$bin/launcher/cell" check-spec --spec=examples/default-cell.json \
  --worktree="$work/wt" "${nix_flags[@]}" > "$work/spec.json"
echo "== the spec"
cat "$work/spec.json"
echo "== cell-verify $profile"
status=0
"$bin/policy/cell-verify" --spec="$work/spec.json" "$profile" || status=$?
if [[ "$profile" == "--profile=documented" ]]; then
  echo "== for agents, the agent-strict profile says (static check, advice only):"
  "$bin/policy/cell-verify" --spec="$work/spec.json" --profile=agent-strict \
    --static-only | grep -E "FAIL|WARN" || true
fi
exit $status
