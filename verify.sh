#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs the main job: `./verify.sh`.
# For now it builds the launcher and shows its help; once cell-verify lands it
# verifies a default cell end to end.
set -euo pipefail
cd "$(dirname "$0")"
./setup.sh
bazel build //launcher:cell
bazel-bin/launcher/cell --help
