#!/usr/bin/env bash
# examples/kubernetes under `podman kube play` (Debian 12's podman 4.3), as
# far as it goes: the agent Pod and the cell-verify Job's Pod, with the
# test image (busybox-static and cell's binaries) in place of the example's
# registry image. What podman 4.3 ignores or refuses is listed in
# examples/kubernetes/README.md; the checks below assert what it honours.
#
# Usage: kube_play_test.sh CELL CELL_PROBE CELL_VERIFY IN_POD_SCRIPT AGENT_POD_YAML VERIFY_JOB_YAML
set -u
[[ $# -eq 6 ]] || { echo "usage: $0 CELL CELL_PROBE CELL_VERIFY IN_POD POD_YAML JOB_YAML" >&2; exit 2; }
abspath() { [[ $1 == /* ]] && echo "$1" || echo "$PWD/$1"; }
CELL=$(abspath "$1")
CELL_PROBE=$(abspath "$2")
CELL_VERIFY=$(abspath "$3")
IN_POD=$(abspath "$4")
POD_YAML=$(abspath "$5")
JOB_YAML=$(abspath "$6")
source "$(dirname "$(abspath "${BASH_SOURCE[0]}")")/podman_env.sh" ||
  { echo "FAIL: cannot read podman_env.sh" >&2; exit 1; }

started=$(now_ms)
require_environment catatonit xmllint
podman_env_setup
build_image "$IN_POD"

# The example with the test image, pulled never (it is only local).
localize() {
  sed -e "s|^\( *\)image: .*|\1image: $IMAGE|" \
    -e 's|^\( *\)imagePullPolicy: .*|\1imagePullPolicy: Never|' "$@"
}

# podman 4.3 ignores procMount (and seccompProfile): `privileged: true` is
# the one Pod field it honours that unmasks /proc, so it stands in for
# procMount: Unmasked where a check needs the hardened cell to run.
procmount_stand_in() {
  sed -e 's|^\( *\)procMount: Unmasked$|\1privileged: true|'
}

# play NAME YAML: plays it, waits for the container NAME, sets play_rc,
# exit_code, logs (stdout) and play_out.
play() {
  local container=$1 yaml=$2
  play_out=$(pm kube play --network=none "$yaml" 2>&1)
  play_rc=$?
  exit_code=$(pm wait "$container" 2>&1)
  logs=$(pm logs "$container" 2>/dev/null)
  last_command="podman kube play --network=none $yaml (container $container)"
}

remove_pods() {
  pm pod rm -af -t 0 >/dev/null 2>&1
  pm volume rm -af >/dev/null 2>&1
}

# expect_line NAME PREFIX WANTED: the in-pod line starting with PREFIX is
# exactly WANTED, or (when WANTED starts with ~) contains it.
expect_line() {
  local name=$1 prefix=$2 wanted=$3 got
  got=$(grep -m1 "^$prefix rc=" <<<"$logs")
  if [[ $wanted == "~"* && $got == *"${wanted:1}"* ]] || [[ $got == "$wanted" ]]; then
    pass "$name"
  else
    fail "$name" "wanted '$wanted', got '$got'" "$last_command" "$exit_code" "$logs"
  fi
}

# 1. The agent Pod as written, its command replaced by in_pod.sh (which
#    reports what the container got, then runs cells).
localize -e 's|^\( *\)command: .*|\1command: ["/bin/sh", "/opt/cell-test/in_pod.sh"]|' \
  "$POD_YAML" >"$W/agent-pod.yaml"
play cell-agent-agent "$W/agent-pod.yaml"
if [[ $play_rc -ne 0 || $exit_code != 0 ]]; then
  fail "agent Pod plays and its container exits 0" "kube play rc=$play_rc" \
    "$last_command" "$exit_code" "$play_out"$'\n'"$logs"
else
  pass "agent Pod plays and its container exits 0"
  expect_line "runAsUser: 1000 honoured" uid "uid rc=0: 1000"
  expect_line "allowPrivilegeEscalation: false honoured (NoNewPrivs 1)" no-new-privs "no-new-privs rc=0: 1"
  expect_line "capabilities drop ALL honoured (no effective capability)" cap-eff "cap-eff rc=0: 0000000000000000"
  expect_line "capabilities drop ALL honoured (empty bounding set)" cap-bnd "cap-bnd rc=0: 0000000000000000"
  expect_line "readOnlyRootFilesystem honoured" root-write "~Read-only file system"
  expect_line "emptyDir at /tmp writable (cell's TMPDIR)" tmp-write "tmp-write rc=0: writable"
  expect_line "emptyDir at /work writable (the worktree)" work-write "work-write rc=0: writable"
  expect_line "ConfigMap spec and filter mounted at /etc/cell" spec-readable "spec-readable rc=0: readable"
  expect_line "ConfigMap volume read-only" spec-write "~can't create /etc/cell/agent.json"
  expect_line "the documented cell runs in the Pod" documented-cell "documented-cell rc=0: hi"
  # podman 4.3 ignores procMount: /proc stays masked, and the hardened cell
  # of the ConfigMap's spec is refused, naming the Kubernetes fix.
  expect_line "hardened cell under masked /proc refused, procMount: Unmasked named" \
    spec-cell "~procMount: Unmasked"
  info=$(pm inspect cell-agent-agent --format \
    'ReadonlyRootfs={{.HostConfig.ReadonlyRootfs}} SecurityOpt={{.HostConfig.SecurityOpt}} User={{.Config.User}}' 2>&1)
  if [[ $info == *"ReadonlyRootfs=true"* && $info == *no-new-privileges* && $info == *"User=1000:1000"* ]]; then
    pass "podman applied ReadonlyRootfs, no-new-privileges and user 1000:1000 ($info)"
  else
    fail "podman's container configuration" "wanted ReadonlyRootfs=true, no-new-privileges, User=1000:1000" \
      "podman inspect cell-agent-agent" "-" "$info"
  fi
  echo "INFO seccomp in the Pod: $(grep -m1 '^seccomp-mode' <<<"$logs") (podman's own filter: seccompProfile is ignored by podman 4.3)"
fi
remove_pods

# 2. The agent Pod's own command (the hardened cell of the ConfigMap's spec:
#    proxy network, host preset, protect, own PID and IPC namespaces, no
#    capabilities, seccomp, read-only root) with `echo hi` for the agent,
#    /proc unmasked by the stand-in.
localize "$POD_YAML" | procmount_stand_in |
  sed -e 's|"--", "claude"\]|"--", "/bin/sh", "-c", "echo hi"]|' >"$W/agent-pod-unmasked.yaml"
play cell-agent-agent "$W/agent-pod-unmasked.yaml"
if [[ $play_rc -eq 0 && $exit_code == 0 && $logs == hi ]]; then
  pass "agent Pod's hardened cell (its spec from the ConfigMap) runs with /proc unmasked"
else
  fail "agent Pod's hardened cell runs with /proc unmasked" \
    "wanted exit 0 and 'hi' (kube play rc=$play_rc)" "$last_command" "$exit_code" \
    "$play_out"$'\n'"$logs"$'\n'"$(pm logs cell-agent-agent 2>&1 >/dev/null)"
fi
remove_pods

# 3. The cell-verify Job. podman 4.3 plays no Job (nor a ConfigMap without
#    a Pod using it): the Job's Pod template becomes a Pod (its spec
#    de-indented), with the ConfigMap and the stand-in for procMount.
job_out=$(pm kube play --network=none "$JOB_YAML" 2>&1)
echo "INFO podman kube play of the Job as written: rc=$? ($job_out)"
remove_pods
awk '
/^kind: Job$/ {job = 1; print "kind: Pod"; next}
job && /^spec:/ {skip = 1; next}
job && skip && /^    spec:$/ {skip = 0; print "spec:"; body = 1; next}
job && skip {next}
job && body {sub(/^    /, ""); print; next}
{print}' "$JOB_YAML" | localize | procmount_stand_in >"$W/verify-pod.yaml"
play cell-verify-cell-verify "$W/verify-pod.yaml"
printf '%s\n' "$logs" >"$W/junit.xml"
junit_problem=""
if [[ $play_rc -ne 0 || $exit_code != 0 ]]; then
  junit_problem="wanted cell-verify to exit 0 (kube play rc=$play_rc)"
elif ! xml_error=$(xmllint --noout "$W/junit.xml" 2>&1); then
  junit_problem="the JUnit report is not well-formed XML: $xml_error"
elif ! grep -q '<testsuite name="cell-verify.agent-strict" [^>]*failures="0" errors="0"' "$W/junit.xml"; then
  junit_problem="the testsuite is not agent-strict with 0 failures and 0 errors"
else
  for property in pid-namespace no-routes only-explicit-binds seccomp root-read-only; do
    grep -q "<testcase [^>]*name=\"$property\"" "$W/junit.xml" ||
      junit_problem="no testcase for $property"
  done
fi
if [[ -z $junit_problem ]]; then
  pass "cell-verify Job's Pod: agent-strict passes, JUnit report well-formed"
else
  fail "cell-verify Job's Pod" "$junit_problem" "$last_command" "$exit_code" \
    "$play_out"$'\n'"$logs"$'\n'"$(pm logs cell-verify-cell-verify 2>&1 >/dev/null)"
fi
remove_pods

echo "$((checks - failures)) of $checks checks passed in $(($(now_ms) - started)) ms"
[[ $failures -eq 0 ]]
