#!/usr/bin/env bash
# Runs every fuzz target under libFuzzer (clang, ASan, UBSan) for a while,
# starting from its seed corpus:
#   tests/fuzz/run_fuzzers.sh [--seconds=N] [--seed=N]
# Targets run side by side, one per core. CI runs it with --seconds=60
# --seed=1 (./test.sh): a fixed seed, so a CI run explores the same inputs
# each time and a red CI is reproducible; a longer run, e.g. an hour each
# with a random seed, is --seconds=3600.
# A crash leaves its input in the work directory and fails the run: add
# that file to the target's corpus (it then replays in every
# `bazel test //...` as NAME_corpus_test) and fix the bug.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=60
seed=0  # libFuzzer: 0 = random
for arg in "$@"; do
  case "$arg" in
    --seconds=*) seconds="${arg#--seconds=}" ;;
    --seed=*) seed="${arg#--seed=}" ;;
    *) echo "usage: $0 [--seconds=N] [--seed=N]" >&2; exit 2 ;;
  esac
done
targets=(launcher/spec:spec launcher/proxy:filter launcher/proxy/builtin:http_head
         launcher/proxy/builtin:dns_message policy:policy
         policy:evaluate probes:parsers)
labels=()
for t in "${targets[@]}"; do labels+=("//${t}_fuzzer"); done
bazel build --config=fuzz "${labels[@]}"
bin="$(bazel info --config=fuzz bazel-bin 2>/dev/null)"
work=$(mktemp -d /tmp/cell-fuzz.XXXXXX)
# One target; its verdict goes to $work/NAME.verdict ("ok" or the log's
# errors), so that targets can run side by side, one per core.
run_target() {
  local pkg="${1%%:*}" name="${1##*:}"
  mkdir -p "$work/$name"
  cp "$pkg/testdata/fuzz/$name/"* "$work/$name/"
  if "$bin/$pkg/${name}_fuzzer" -max_total_time="$seconds" -seed="$seed" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/$name-" \
      "$work/$name" > "$work/$name.log" 2>&1; then
    echo ok > "$work/$name.verdict"
  else
    echo failed > "$work/$name.verdict"
  fi
}
cores=$(nproc)
running=0
for t in "${targets[@]}"; do
  if (( running >= cores )); then wait -n || true; running=$((running - 1)); fi
  run_target "$t" &
  running=$((running + 1))
done
wait
status=0
for t in "${targets[@]}"; do
  pkg="${t%%:*}"; name="${t##*:}"
  if [[ "$(cat "$work/$name.verdict" 2>/dev/null)" == ok ]]; then
    runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$work/$name.log")
    echo "fuzz $name: ${runs:-?} inputs in ${seconds}s, no crash"
  else
    echo "fuzz $name: FAILED; input and log kept in $work:" >&2
    # The error, the stack that led to it (CI keeps only this output) and
    # the input's file name.
    grep -E "ERROR|SUMMARY|Test unit|^ +#[0-9]+ 0x|runtime error" "$work/$name.log" \
      | head -n 60 >&2 || tail -n 40 "$work/$name.log" >&2
    for crash in "$work/$name"-*; do
      [[ -f "$crash" ]] || continue
      echo "input $(basename "$crash") (base64):" >&2
      head -c 4096 "$crash" | base64 -w 0 >&2; echo >&2
    done
    echo "add the input to $pkg/testdata/fuzz/$name/ as a regression test" >&2
    status=1
  fi
done
[[ $status -eq 0 ]] && rm -rf "$work"
exit $status
