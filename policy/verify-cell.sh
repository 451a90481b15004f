#!/usr/bin/env bash
# Verifies a cell spec end to end with cell-verify, as the main job
# (./verify.sh) and the flake's check (nix/flake.nix) both do:
#
#   policy/verify-cell.sh BINDIR SPEC [CELL-VERIFY FLAG...]
#
# BINDIR holds cell, cell-verify and cell-probe. The spec is resolved by
# `cell check-spec` with a fresh worktree; when the host has no Nix daemon
# (a fresh Debian machine, a Nix build sandbox), a nix-daemon on a private
# store serves the cell. Exit status: cell-verify's (0 pass, 1 a property
# failed, 2 usage or setup error).
set -euo pipefail
bin="${1:?usage: $0 BINDIR SPEC [CELL-VERIFY FLAG...]}"
spec="${2:?usage: $0 BINDIR SPEC [CELL-VERIFY FLAG...]}"
shift 2

work=$(mktemp -d "${TMPDIR:-/tmp}/cell-verify.XXXXXX")
chmod 755 "$work"
daemon_pid=""
cleanup() {
  if [[ -n "$daemon_pid" ]]; then
    kill "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
mkdir "$work/wt"

nix_flags=()
if [[ ! -S /nix/var/nix/daemon-socket/socket ]]; then
  if ! command -v nix-daemon >/dev/null; then
    echo "verify-cell: no Nix daemon on this host and no nix-daemon to start" \
      "one (apt-get install nix-bin, or ./setup.sh)" >&2
    exit 2
  fi
  echo "== no Nix daemon on this host: starting nix-daemon on a private store in $work/nix"
  mkdir -p "$work"/nix/{store,state,log,conf,daemon}
  # Stated, not assumed: only root is trusted, any user may connect.
  printf 'trusted-users = root\nallowed-users = *\n' > "$work/nix/conf/nix.conf"
  NIX_STORE_DIR="$work/nix/store" NIX_STATE_DIR="$work/nix/state" \
  NIX_LOG_DIR="$work/nix/log" NIX_CONF_DIR="$work/nix/conf" \
  NIX_DAEMON_SOCKET_PATH="$work/nix/daemon/socket" \
    nix-daemon > "$work/nix/daemon.log" 2>&1 &
  daemon_pid=$!
  for _ in $(seq 500); do
    [[ -S "$work/nix/daemon/socket" ]] && break
    kill -0 "$daemon_pid" 2>/dev/null || break
    sleep 0.02
  done
  if [[ ! -S "$work/nix/daemon/socket" ]]; then
    echo "verify-cell: nix-daemon did not start:" >&2
    cat "$work/nix/daemon.log" >&2
    exit 2
  fi
  chmod 666 "$work/nix/daemon/socket"
  nix_flags=(--nix-store="$work/nix/store" --nix-daemon-socket="$work/nix/daemon")
fi
# The daemon trusts host root (and a trusted user may build with the
# sandbox off, as root, on the host): run as root, the cell runs as an
# unprivileged host user instead, the safe setup for any root launcher.
user_flags=()
if [[ $(id -u) -eq 0 ]]; then
  cell_user="${CELL_VERIFY_HOST_USER:-nobody}"
  user_flags=(--host-user="$cell_user")
  chown "$cell_user" "$work/wt"
  echo "== run as root: the cell runs as host user '$cell_user' (--host-user)"
fi
# check-spec's output is itself a spec, with this run's paths.
"$bin/cell" check-spec --spec="$spec" --worktree="$work/wt" "${nix_flags[@]}" \
  "${user_flags[@]}" > "$work/spec.json"
# One line: the report below says what each property saw; the whole
# resolved spec is `cell check-spec --spec=SPEC`'s output.
echo "== the spec: $spec, resolved for this run (worktree $work/wt): $(tr -s ' \n' ' ' < "$work/spec.json" | cut -c1-160)..."
echo "== cell-verify $*"
"$bin/cell-verify" --spec="$work/spec.json" "$@"
