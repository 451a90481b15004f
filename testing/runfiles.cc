#include "testing/runfiles.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace cell::testing {
namespace {

std::string EnvOr(const char* name, absl::string_view fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : std::string(fallback);
}

std::vector<std::string> RunfilesRoots() {
  std::vector<std::string> roots;
  for (const char* name : {"RUNFILES_DIR", "TEST_SRCDIR"}) {
    const std::string dir = EnvOr(name, "");
    if (!dir.empty()) roots.push_back(dir);
  }
  char self[PATH_MAX];
  const ssize_t length = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (length > 0) {
    roots.push_back(absl::StrCat(absl::string_view(self, length), ".runfiles"));
  }
  return roots;
}

}  // namespace

absl::StatusOr<std::string> RunfilePath(absl::string_view workspace_path) {
  if (workspace_path.empty() || workspace_path.front() == '/') {
    return absl::InvalidArgumentError(absl::StrCat(
        "runfile path '", workspace_path,
        "' must be relative to the workspace root, e.g. 'launcher/cell'"));
  }
  const std::string workspace = EnvOr("TEST_WORKSPACE", "cell");
  std::vector<std::string> tried;
  for (const std::string& root : RunfilesRoots()) {
    std::string candidate =
        absl::StrCat(root, "/", workspace, "/", workspace_path);
    struct stat info;
    if (stat(candidate.c_str(), &info) == 0) return candidate;
    tried.push_back(std::move(candidate));
  }
  return absl::NotFoundError(absl::StrCat(
      "runfile '", workspace_path, "' not found (tried: ",
      tried.empty() ? "no runfiles root" : absl::StrJoin(tried, ", "),
      "); add it to the target's `data`"));
}

absl::StatusOr<std::string> ReadRunfile(absl::string_view workspace_path) {
  absl::StatusOr<std::string> path = RunfilePath(workspace_path);
  if (!path.ok()) return path.status();
  std::ifstream in(*path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read runfile ", *path));
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace cell::testing
