#!/usr/bin/env bash
# A real Bazel build, as a newcomer's first one: one genrule in a scratch
# workspace that carries the project's .bazelrc, on a fresh output base,
# with the machine's system bazelrc as installed (Debian's
# /etc/bazel/bazelrc turns on --sandbox_debug, which makes linux-sandbox
# print ~45 lines of tracing per action). Checks that the output holds no
# linux-sandbox tracing, stays short, and that the action still ran in
# linux-sandbox (the build stays hermetic). About 3 s.
#   tools/bazelrc_quiet_test.sh PATH/TO/.bazelrc
set -euo pipefail
rc="${1:?usage: $0 PATH/TO/.bazelrc}"
# Tested with a budget: the genrule's build prints 13 lines here.
max_lines=30

bazel=$(command -v bazel || true)
if [[ -z "$bazel" ]]; then
  echo "FAIL: no bazel on PATH ($PATH)"
  exit 1
fi

tmp=$(mktemp -d "${TEST_TMPDIR:-/tmp}/bazelrc-quiet.XXXXXX")
ws="$tmp/ws"
# Its own server and output base (never the one running this test); the
# user's own ~/.bazelrc is theirs, the system one is what is checked.
startup=(--output_user_root="$tmp/root" --output_base="$tmp/root/base"
  --nohome_rc --max_idle_secs=60)
cleanup() {
  (cd "$ws" && "$bazel" "${startup[@]}" shutdown) >/dev/null 2>&1 || true
  chmod -R u+w "$tmp" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

mkdir "$ws"
cp "$rc" "$ws/.bazelrc"
echo 'workspace(name = "bazelrc_quiet")' > "$ws/WORKSPACE"
cat > "$ws/BUILD.bazel" <<'EOF'
genrule(
    name = "out",
    outs = ["out.txt"],
    cmd = "echo built > $@",
)
EOF

status=0
(cd "$ws" && "$bazel" "${startup[@]}" build //:out) > "$tmp/build.log" 2>&1 ||
  status=$?
lines=$(wc -l < "$tmp/build.log")
tracing=$(grep -c 'src/main/tools/linux-sandbox' "$tmp/build.log" || true)

failed=0
fail() {
  echo "FAIL: $*"
  failed=1
}
[[ $status -eq 0 ]] || fail "bazel build exited $status"
[[ $tracing -eq 0 ]] ||
  fail "$tracing lines of linux-sandbox tracing (is --sandbox_debug on? .bazelrc must say build --nosandbox_debug)"
[[ $lines -le $max_lines ]] || fail "$lines lines of output, more than $max_lines"
grep -qE '^INFO: [0-9]+ processes?: .*[0-9]+ linux-sandbox' "$tmp/build.log" ||
  fail "the genrule did not run in linux-sandbox (no 'N linux-sandbox' in the process summary)"

if [[ $failed -ne 0 ]]; then
  echo "the build's output ($lines lines):"
  sed 's/^/  | /' "$tmp/build.log"
  exit 1
fi
echo "PASS: a fresh build printed $lines lines, no sandbox tracing, and ran sandboxed:"
grep -E '^INFO: [0-9]+ processes?:' "$tmp/build.log"
