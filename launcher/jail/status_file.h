// The --status-file: JSON lines ("started", "exited") that tools read
// instead of stderr. Host side, launcher process.
#ifndef CELL_LAUNCHER_JAIL_STATUS_FILE_H_
#define CELL_LAUNCHER_JAIL_STATUS_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "base/unique_fd.h"
#include "nlohmann/json.hpp"

namespace cell {

// Appends JSON lines to --status-file; tools read it instead of stderr.
class StatusFile {
 public:
  // Truncates `path` (none when empty); never through a link.
  static absl::StatusOr<StatusFile> Open(const std::string& path);
  // One line; nothing without a file.
  void Write(const nlohmann::json& event);

 private:
  explicit StatusFile(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace cell

#endif  // CELL_LAUNCHER_JAIL_STATUS_FILE_H_
