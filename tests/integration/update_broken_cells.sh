#!/bin/sh
# Regenerates README.md's broken-cell matrix from a run of
# //tests/integration:broken_cells_test (which fails while the two differ).
set -eu
cd "$(dirname "$0")/../.."
bazel test //tests/integration:broken_cells_test >/dev/null 2>&1 || true
outputs="$(bazel info bazel-testlogs)/tests/integration/broken_cells_test/test.outputs"
table="$outputs/broken-cells.md"
if [ ! -f "$table" ]; then
  unzip -o -q "$outputs/outputs.zip" -d "$outputs" 2>/dev/null || true
fi
if [ ! -f "$table" ]; then
  echo "no matrix in $outputs: did the test run? (bazel test //tests/integration:broken_cells_test)" >&2
  exit 1
fi
python3 - "$table" <<'PY'
import sys
table = open(sys.argv[1]).read()
readme = open("README.md").read()
begin, end = "<!-- broken-cells:begin -->\n", "<!-- broken-cells:end -->"
i, j = readme.find(begin), readme.find(end)
if i < 0 or j < i:
    sys.exit("README.md has no broken-cells markers")
open("README.md", "w").write(readme[:i + len(begin)] + table + readme[j:])
print("README.md: broken-cell matrix updated")
PY
