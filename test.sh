#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs every test: `./test.sh`.
# Extra arguments go to `bazel test` (e.g. ./test.sh --config=asan).
set -euo pipefail
cd "$(dirname "$0")"
./setup.sh

status=0
bazel test //... "$@" || status=$?

# One closing line counting the individual test cases of every test target
# (from the JUnit XML Bazel writes for each), so a run that executed nothing
# cannot pass unnoticed.
passed=0
failed=0
for target in $(bazel query --noshow_progress 'tests(//...)' 2>/dev/null); do
  xml="bazel-testlogs/$(echo "${target#//}" | tr ':' '/')/test.xml"
  if [[ ! -f "$xml" ]]; then
    echo "test.sh: no results for $target" >&2
    failed=$((failed + 1))
    continue
  fi
  # The first <testsuites ...> (gtest) or <testsuite ...> element holds the
  # totals for the target.
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
  passed=$((passed + tests - bad))
  failed=$((failed + bad))
done
# The installed layout, as the flake's package builds it and its check runs
# it: nix/build.sh installs cell, cell-probe and cell-verify in one bin dir,
# and policy/verify-cell.sh verifies the default cell with them.
prefix=$(mktemp -d /tmp/cell-install.XXXXXX)
trap 'rm -rf "$prefix"' EXIT
chmod 755 "$prefix"
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

# Every fuzz target under libFuzzer + ASan + UBSan for 20 s from its seed
# corpus (the corpora also replay in `bazel test` as *_corpus_test).
fuzz_log="$prefix/fuzz.log"
tests/fuzz/run_fuzzers.sh --seconds=20 > "$fuzz_log" 2>&1 || true
fuzz_ok=$(grep -c '^fuzz .*no crash$' "$fuzz_log" || true)
echo "fuzzing: $fuzz_ok of 4 targets ran clean"
passed=$((passed + fuzz_ok))
if [[ $fuzz_ok -ne 4 ]]; then
  echo "fuzzing FAILED; its log:" >&2
  cat "$fuzz_log" >&2
  failed=$((failed + 4 - fuzz_ok))
fi

echo "test cases: $passed passed, $failed failed"
if [[ $status -eq 0 && $failed -ne 0 ]]; then status=1; fi
exit $status
