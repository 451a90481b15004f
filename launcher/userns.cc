#include "launcher/userns.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "launcher/fs_util.h"

namespace cell {
namespace {

absl::Status WriteProcFile(pid_t child, const char* name,
                           const std::string& content) {
  const std::string path = absl::StrCat("/proc/", child, "/", name);
  const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("open ", path));
  const ssize_t n = write(fd, content.data(), content.size());
  const int error = errno;
  close(fd);
  if (n != static_cast<ssize_t>(content.size())) {
    return ErrnoStatus(n < 0 ? error : EIO,
                       absl::StrCat("write '", content, "' to ", path));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteIdentityMaps(pid_t child, uid_t uid, gid_t gid) {
  if (geteuid() != 0) {
    absl::Status status = WriteProcFile(child, "setgroups", "deny");
    if (!status.ok()) return status;
  }
  absl::Status status =
      WriteProcFile(child, "uid_map", absl::StrCat(uid, " ", uid, " 1\n"));
  if (!status.ok()) return status;
  return WriteProcFile(child, "gid_map", absl::StrCat(gid, " ", gid, " 1\n"));
}

}  // namespace cell
