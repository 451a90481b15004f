#include "launcher/jail/userns.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "base/fs_util.h"
#include "base/test_faults.h"

namespace cell {
namespace {

absl::Status WriteProcFile(pid_t child, const char* name,
                           const std::string& content) {
  return WriteControlFile(absl::StrCat("/proc/", child, "/", name), content);
}

}  // namespace

absl::Status WriteIdentityMaps(pid_t child, uid_t uid, gid_t gid,
                               Setgroups setgroups) {
  if (geteuid() != 0 || setgroups == Setgroups::kDeny) {
    absl::Status status = WriteProcFile(child, "setgroups", "deny");
    if (!status.ok()) return status;
  }
  // Inside, the ids are the caller's own (1:1).
  const bool root_inside = TestFault(fault::kMapRootInside);
  absl::Status status = WriteProcFile(
      child, "uid_map", absl::StrCat(root_inside ? 0 : uid, " ", uid, " 1\n"));
  if (!status.ok()) return status;
  return WriteProcFile(child, "gid_map",
                       absl::StrCat(root_inside ? 0 : gid, " ", gid, " 1\n"));
}

}  // namespace cell
