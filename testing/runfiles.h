// Finds files a test or tool declared as `data` in its Bazel runfiles tree.
#ifndef CELL_TESTING_RUNFILES_H_
#define CELL_TESTING_RUNFILES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cell::testing {

// Returns the absolute path of `workspace_path` (e.g. "launcher/cell") in
// the runfiles of the running binary. Looks in $RUNFILES_DIR, then
// $TEST_SRCDIR, then <this executable>.runfiles, under the workspace name
// ($TEST_WORKSPACE, default "cell"). NotFound names every place it looked.
absl::StatusOr<std::string> RunfilePath(absl::string_view workspace_path);

// The contents of that runfile (a document a test checks: README.md,
// docs/spec.md).
absl::StatusOr<std::string> ReadRunfile(absl::string_view workspace_path);

}  // namespace cell::testing

#endif  // CELL_TESTING_RUNFILES_H_
