#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs every test: `./test.sh`.
# Runs //... twice, plainly and under ASan + UBSan, then the installed
# layout and every fuzz target. Extra arguments are test options for both
# `bazel test`s (e.g. --test_filter=...); `bazel info` does not take them.
set -euo pipefail
cd "$(dirname "$0")"
./setup.sh

# One scratch directory: each step's log, and the installed layout's prefix.
prefix=$(mktemp -d /tmp/cell-install.XXXXXX)
trap 'rm -rf "$prefix"' EXIT
chmod 755 "$prefix"

status=0
passed=0
failed=0

# Counts the individual test cases of every test target from the JUnit XML
# Bazel wrote under testlogs dir $1 (one per config), so that a run that
# executed nothing cannot pass unnoticed.
# $2 is the query of the targets that ran (default: every test). A skipped
# case counts as a failure: no skipped test hides in CI.
count_cases() {
  local testlogs=$1 query=${2:-'tests(//...)'} target xml header tests
  local failures errors bad skipped
  for target in $(bazel query --noshow_progress "$query" 2>/dev/null); do
    xml="$testlogs/$(echo "${target#//}" | tr ':' '/')/test.xml"
    if [[ ! -f "$xml" ]]; then
      echo "test.sh: no results for $target in $testlogs" >&2
      failed=$((failed + 1))
      continue
    fi
    # The first <testsuites ...> (gtest) or <testsuite ...> element holds
    # the totals for the target.
    header=$(grep -m1 -oE '<testsuites? [^>]*>' "$xml" || true)
    tests=$(sed -nE 's/.* tests="([0-9]+)".*/\1/p' <<<"$header")
    failures=$(sed -nE 's/.* failures="([0-9]+)".*/\1/p' <<<"$header")
    errors=$(sed -nE 's/.* errors="([0-9]+)".*/\1/p' <<<"$header")
    tests=${tests:-0}
    bad=$(( ${failures:-0} + ${errors:-0} ))
    if [[ $tests -eq 0 ]]; then
      echo "test.sh: $target ran no test case" >&2
      failed=$((failed + 1))
      continue
    fi
    skipped=$(grep -c 'result="skipped"' "$xml" || true)
    if [[ ${skipped:-0} -gt 0 ]]; then
      echo "test.sh: $target skipped $skipped test case(s); a skip is a failure here:" >&2
      grep -oE '<testcase name="[^"]*"[^>]*result="skipped"' "$xml" >&2 || true
    fi
    passed=$((passed + tests - bad - ${skipped:-0}))
    failed=$((failed + bad + ${skipped:-0}))
  done
}

# Runs `bazel test ARG...` with Bazel's output (hundreds of progress lines)
# in a log: a passing run shows only its "Executed N out of M tests" line; a
# failing one shows the log without its progress lines: each failing test's
# log (--test_output=errors in .bazelrc), the errors, and the summary.
bazel_test() {
  local log rc=0
  log=$(mktemp "$prefix/bazel-test.XXXXXX.log")
  echo "test: bazel test $* (the first build takes a while)..."
  bazel test "$@" > "$log" 2>&1 || rc=$?
  grep -E '^Executed [0-9]+ out of [0-9]+ tests?' "$log" || true
  if [[ $rc -ne 0 ]]; then
    echo "test: bazel test $* FAILED (exit $rc); its output, less progress lines:" >&2
    grep -vE '^(\[[0-9,]+ / [0-9,]+\] |Loading: |Loading:$|Analyzing: )' "$log" >&2 || true
  fi
  return $rc
}

bazel_test //... "$@" || status=$?
count_cases "$(bazel info bazel-testlogs 2>/dev/null)"

# The whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer
# (the launcher, cell-verify, every test; the probe stays static and plain,
# see tools/sanitizers/BUILD.bazel). Its own output tree, so the normal
# build above stays cached.
# Tests of the static binaries themselves (a packed cell on another
# machine's layout, the launcher in a minimal container image) are tagged
# static_only: --config=asan links the launcher dynamically, so they run
# in the plain build only.
bazel_test --config=asan --test_tag_filters=-static_only //... "$@" || status=$?
count_cases "$(bazel info --config=asan bazel-testlogs 2>/dev/null)" \
  'tests(//...) except attr(tags, static_only, tests(//...))'


# The installed layout, as the flake's package builds it and its check runs
# it: nix/build.sh installs cell, cell-probe and cell-verify in one bin dir
# ($prefix/bin), and policy/verify-cell.sh verifies the default cell with them.
for step in build verify; do
  if [[ $step == build ]]; then
    nix/build.sh "$prefix" > "$prefix/build.log" 2>&1 && ok=1 || ok=0
    log="$prefix/build.log"
  else
    policy/verify-cell.sh "$prefix/bin" examples/default-cell.json \
      --profile=documented > "$prefix/verify.log" 2>&1 && ok=1 || ok=0
    log="$prefix/verify.log"
  fi
  if [[ $ok -eq 1 ]]; then
    echo "installed layout: $step PASSED"
    passed=$((passed + 1))
  else
    echo "installed layout: $step FAILED; its log:" >&2
    cat "$log" >&2
    failed=$((failed + 1))
    break
  fi
done

# Every fuzz target under libFuzzer + ASan + UBSan for 60 s from its seed
# corpus, with a fixed seed so that a failure reproduces (the corpora also
# replay in `bazel test` as *_corpus_test).
fuzz_log="$prefix/fuzz.log"
tests/fuzz/run_fuzzers.sh --seconds=60 --seed=1 > "$fuzz_log" 2>&1 || true
fuzz_ok=$(grep -c '^fuzz .*no crash$' "$fuzz_log" || true)
fuzz_targets=$(bazel query --noshow_progress 'attr(name, "_fuzzer$", //...)' 2>/dev/null | wc -l)
echo "fuzzing: $fuzz_ok of $fuzz_targets targets ran clean"
passed=$((passed + fuzz_ok))
if [[ $fuzz_targets -eq 0 || $fuzz_ok -ne $fuzz_targets ]]; then
  echo "fuzzing FAILED; its log:" >&2
  cat "$fuzz_log" >&2
  failed=$((failed + (fuzz_targets > fuzz_ok ? fuzz_targets - fuzz_ok : 1)))
fi

echo "test cases: $passed passed, $failed failed"
if [[ $status -eq 0 && $failed -ne 0 ]]; then status=1; fi
exit $status
