#!/bin/sh
# Regenerates the two tables README.md holds from the code, each checked by
# a test that fails while the copy differs:
#   - the exposure-score weights (//policy:score_test prints the table);
#   - the broken-cell matrix (//tests/integration:broken_cells_test writes
#     it to its outputs; needs root, like the test).
set -eu
cd "$(dirname "$0")/.."
bazel test //policy:score_test //tests/integration:broken_cells_test \
  >/dev/null 2>&1 || true
logs="$(bazel info bazel-testlogs)"
outputs="$logs/tests/integration/broken_cells_test/test.outputs"
if [ ! -f "$outputs/broken-cells.md" ] && [ -f "$outputs/outputs.zip" ]; then
  unzip -o -q "$outputs/outputs.zip" -d "$outputs"
fi
python3 - "$logs/policy/score_test/test.log" "$outputs/broken-cells.md" <<'PY'
import sys
score_log, matrix_file = sys.argv[1], sys.argv[2]
readme = open("README.md").read()

# The weights: the table score_test printed, if it printed one (it does
# only when the README's differs).
log = open(score_log).read()
marker = "The whole table, in registry order:\n"
if marker in log:
    rows = []
    for line in log[log.index(marker) + len(marker):].split("\n"):
        if not line.startswith("|"):
            break
        rows.append(line)
    start = readme.index("| property | weight | what it checks |")
    end = readme.index("\n\n", start) + 1
    readme = readme[:start] + "\n".join(rows) + "\n" + readme[end:]
    print("README.md: exposure weights updated")

begin, end = "<!-- broken-cells:begin -->\n", "<!-- broken-cells:end -->"
try:
    table = open(matrix_file).read()
except OSError:
    sys.exit("no broken-cell matrix: did //tests/integration:broken_cells_test run (as root)?")
i, j = readme.find(begin), readme.find(end)
if i < 0 or j < i:
    sys.exit("README.md has no broken-cells markers")
readme = readme[:i + len(begin)] + table + readme[j:]
open("README.md", "w").write(readme)
print("README.md: broken-cell matrix updated")
PY
