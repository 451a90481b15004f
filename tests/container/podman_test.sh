#!/usr/bin/env bash
# cell inside a real container: rootful podman 4.3 (Debian 12), runc,
# offline, every piece of podman state in a temporary directory. The image
# is busybox-static plus cell's own binaries; each check runs one container
# and prints PASS or FAIL (with the command, exit code and output).
#
# Usage: podman_test.sh CELL CELL_PROBE CELL_VERIFY SECCOMP_NO_USERNS HARDENED_SPEC
set -u
[[ $# -eq 5 ]] || { echo "usage: $0 CELL CELL_PROBE CELL_VERIFY SECCOMP_PROFILE SPEC" >&2; exit 2; }
abspath() { [[ $1 == /* ]] && echo "$1" || echo "$PWD/$1"; }
CELL=$(abspath "$1")
CELL_PROBE=$(abspath "$2")
CELL_VERIFY=$(abspath "$3")
SECCOMP_NO_USERNS=$(abspath "$4")
HARDENED_SPEC=$(abspath "$5")
source "$(dirname "$(abspath "${BASH_SOURCE[0]}")")/podman_env.sh" ||
  { echo "FAIL: cannot read podman_env.sh" >&2; exit 1; }

started=$(now_ms)
require_environment
podman_env_setup
build_image "$HARDENED_SPEC"

# The documented cell with busybox's /bin bound read-only (the image has no
# /usr for --preset=host), and the hardening flags of README.md.
DOC='mkdir -p /tmp/wt && cell run --worktree=/tmp/wt --no-nix --network=none --ro-bind=/bin'
HARD='--pid-namespace --ipc-namespace --capabilities=none --seccomp --read-only-root'
HI="-- /bin/sh -c 'echo hi'"

# expect_hi NAME PODMAN_OPTIONS... -- SCRIPT: the cell exits 0 printing hi.
expect_hi() {
  local name=$1 out rc
  shift
  run_in_container out rc "$@"
  if [[ $rc == 0 && $out == hi ]]; then
    pass "$name"
  else
    fail "$name" "wanted exit 0 and output 'hi'" "$last_command" "$rc" "$out"
  fi
}

# expect_refusal NAME NEEDLES PODMAN_OPTIONS... -- SCRIPT: the launcher
# refuses with exit 125 and one line "cell: ..." holding every needle
# (NEEDLES: one per line).
expect_refusal() {
  local name=$1 needles=$2 out rc needle missing=()
  shift 2
  run_in_container out rc "$@"
  while IFS= read -r needle; do
    [[ -n $needle && $out != *"$needle"* ]] && missing+=("'$needle'")
  done <<<"$needles"
  if [[ $rc != 125 ]]; then
    fail "$name" "wanted the launcher's exit 125" "$last_command" "$rc" "$out"
  elif [[ $(wc -l <<<"$out") -ne 1 || $out != "cell: "* ]]; then
    fail "$name" "wanted one line starting with 'cell: '" "$last_command" "$rc" "$out"
  elif [[ ${#missing[@]} -gt 0 ]]; then
    fail "$name" "the diagnostic lacks ${missing[*]}" "$last_command" "$rc" "$out"
  else
    pass "$name"
  fi
}

# a. Default podman security (masked /proc paths, podman's seccomp filter,
#    its default capabilities): the documented cell works.
expect_hi "a documented cell under default podman security" -- "$DOC $HI"

# b. The hardened cell mounts a new /proc (--pid-namespace), which the
#    kernel refuses while the container's /proc has masked paths (podman
#    and Kubernetes bind /dev/null and read-only tmpfs over /proc/kcore,
#    /proc/sys, ...): the launcher must say so, naming both fixes.
expect_refusal "b hardened cell refused under default podman, fix named" \
  $'--security-opt unmask=/proc/*\nprocMount: Unmasked' \
  -- "$DOC $HARD $HI"

# c. With /proc unmasked the hardened cell works.
expect_hi "c hardened cell with --security-opt unmask=/proc/*" \
  --security-opt='unmask=/proc/*' -- "$DOC $HARD $HI"

# d. cell-verify inside the container on the hardened spec: the JSON
#    report parses and the isolation properties pass; the text report
#    names the container runtime.
check_verify_json() {
  local name="d cell-verify in the container: JSON report, isolation properties pass"
  local out rc verdicts
  run_in_container out rc --security-opt='unmask=/proc/*' -- \
    'mkdir -p /tmp/wt && cell-verify --spec=/opt/cell-test/hardened-cell.json --format=json'
  if [[ $rc != 0 && $rc != 1 ]]; then
    fail "$name" "cell-verify did not run (wanted exit 0 or 1)" "$last_command" "$rc" "$out"
    return
  fi
  # The JSON is stdout; stderr (merged) may hold nothing else.
  if ! verdicts=$(python3 -c '
import json, sys
text = sys.stdin.read()
# stderr (merged) holds one progress line before the report.
report, _ = json.JSONDecoder().raw_decode(text[text.index("\n{") + 1:])
outcome = {r["property"]: r["outcome"] for r in report["results"]}
want = ["pid-namespace", "no-routes", "only-explicit-binds", "seccomp"]
print(" ".join(p + "=" + outcome.get(p, "missing") for p in want))
sys.exit(0 if all(outcome.get(p) == "pass" for p in want) else 1)
' <<<"$out" 2>&1); then
    fail "$name" "JSON unparsable or a property not passing: $verdicts" \
      "$last_command" "$rc" "$out"
  else
    pass "$name ($verdicts)"
  fi
}
check_verify_json

check_verify_text() {
  local name="d cell-verify's text report names the container runtime"
  local out rc
  run_in_container out rc --security-opt='unmask=/proc/*' -- \
    'mkdir -p /tmp/wt && cell-verify --spec=/opt/cell-test/hardened-cell.json'
  if [[ $rc != 0 && $rc != 1 ]]; then
    fail "$name" "cell-verify did not run (wanted exit 0 or 1)" "$last_command" "$rc" "$out"
  elif [[ $out != *"container: podman"* ]]; then
    fail "$name" "the report lacks 'container: podman'" "$last_command" "$rc" "$out"
  else
    pass "$name"
  fi
}
check_verify_text

# e. A read-only container with no writable /tmp: the launcher has nowhere
#    for its run directory and must name both ways out (TMPDIR inside, a
#    --tmpfs for the container).
expect_refusal "e read-only container without a writable /tmp, TMPDIR and --tmpfs named" \
  $'TMPDIR\n--tmpfs' \
  --read-only --read-only-tmpfs=false -- \
  "$DOC $HI"

# f. A seccomp profile that denies new user namespaces (as Docker's and
#    containerd's defaults do without CAP_SYS_ADMIN): the launcher names
#    user namespaces and seccomp.
expect_refusal "f seccomp profile denying user namespaces named" \
  $'user namespaces\nseccomp' \
  --security-opt="seccomp=$SECCOMP_NO_USERNS" -- "$DOC $HI"

# g. Every capability dropped (--cap-drop=ALL): root in the container
#    cannot map the cell's ids; the capabilities to add are named.
expect_refusal "g capabilities dropped, the ones to add named" \
  $'uid_map\n--cap-add=SETUID,SETGID,SETFCAP' \
  --cap-drop=ALL -- "$DOC $HI"

# h. The container in a user namespace of its own (--uidmap, as rootless
#    podman and Kubernetes hostUsers: false): its /proc masks are then
#    locked mounts beneath the cell's binds, and a path masked twice must
#    not stop the launch (it did: "cannot mount the cell's root file
#    system: EBUSY").
expect_hi "h documented cell in a container with its own user namespace" \
  --uidmap=0:100000:65536 --gidmap=0:100000:65536 -- "$DOC $HI"

# i. The same container, /proc unmasked: the hardened cell too.
expect_hi "i hardened cell in a container with its own user namespace, unmasked" \
  --uidmap=0:100000:65536 --gidmap=0:100000:65536 \
  --security-opt='unmask=/proc/*' -- "$DOC $HARD $HI"

# j. A cgroup of the cell's own (limits.memoryMax) where the cgroup is the
#    runtime's, mounted read-only: the container's own limits are named.
expect_refusal "j limits in a container without cgroup delegation, the runtime's limits named" \
  $'limits.memoryMax\n--memory\nresources.limits' \
  -- "$DOC --memory-max=64M $HI"

echo "$((checks - failures)) of $checks checks passed in $(($(now_ms) - started)) ms"
[[ $failures -eq 0 ]]
