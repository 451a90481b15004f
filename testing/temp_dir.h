// A private temporary directory for one test, removed with everything in it
// when the object goes away. Lives under /tmp rather than $TEST_TMPDIR:
// Bazel's paths are too long for Unix socket addresses (108 bytes).
#ifndef CELL_TESTING_TEMP_DIR_H_
#define CELL_TESTING_TEMP_DIR_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cell::testing {

class TempDir {
 public:
  // Creates /tmp/cell-test.XXXXXX with mode 0755 (so that a test can drop
  // to another uid and still reach what it prepares inside).
  static absl::StatusOr<TempDir> Create();

  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  ~TempDir();

  const std::string& path() const { return path_; }
  // path() + "/" + relative.
  std::string Path(absl::string_view relative) const;

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  void Remove();
  std::string path_;
};

// Creates a Unix socket file at `path` (bound, not listening, mode 0666):
// what the launcher checks for in a Nix daemon socket directory.
absl::Status MakeSocketFile(const std::string& path);

// The whole content of the host file `path` (up to 256 MiB), or "" when it
// cannot be read: for comparisons in tests, where "" then fails them.
std::string ReadHostFile(const std::string& path);

}  // namespace cell::testing

#endif  // CELL_TESTING_TEMP_DIR_H_
