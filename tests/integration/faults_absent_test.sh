#!/bin/sh
# The shipped `cell` holds no test-only fault point (base/test_faults.h):
# the fault build names CELL_TEST_FAULTS, the shipped one must not. Both
# are checked, so that this test fails if the name ever changes.
set -eu
cell="$1"
faulty="$2"
if grep -q CELL_TEST_FAULTS "$cell"; then
  echo "FAIL: $cell contains the test-only fault switch CELL_TEST_FAULTS" >&2
  exit 1
fi
if ! grep -q CELL_TEST_FAULTS "$faulty"; then
  echo "FAIL: $faulty (the fault build) does not name CELL_TEST_FAULTS;" \
    "update this test with the switch's new name" >&2
  exit 1
fi
echo "PASS: $cell has no fault points; $faulty has"
