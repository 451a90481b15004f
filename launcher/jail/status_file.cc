#include "launcher/jail/status_file.h"

#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "base/host_path.h"

namespace cell {

absl::StatusOr<StatusFile> StatusFile::Open(const std::string& path) {
  if (path.empty()) return StatusFile(UniqueFd());
  // It may lie where a cell writes (a worktree): no symlink or hard link
  // there may make a root launcher truncate another file.
  absl::StatusOr<UniqueFd> fd =
      OpenOutputFile(path, LogFileMode::kTruncate, 0644);
  if (!fd.ok()) {
    return absl::Status(fd.status().code(),
                        absl::StrCat("--status-file: ", fd.status().message()));
  }
  return StatusFile(*std::move(fd));
}

void StatusFile::Write(const nlohmann::json& event) {
  if (fd_.get() < 0) return;
  // Replace, never throw: $TMPDIR may hold bytes that are not UTF-8.
  const std::string line =
      event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
      "\n";
  (void)!write(fd_.get(), line.data(), line.size());
}

}  // namespace cell
