// $JD: the private per-run directory (mode 0700, under $TMPDIR or /tmp) that
// holds the proxy's config, filter, logs and pid, and the mount point of the
// cell's new root. Removed on every exit path; one left behind by a launcher
// that was SIGKILLed is swept by the next launch once its owner is gone.
//
// Ownership is a flock on $JD/lock held for the launcher's lifetime: the
// kernel drops it when the launcher dies however it dies, so "can I take the
// lock" is exactly "is the owner gone".
#ifndef CELL_LAUNCHER_JAIL_JD_H_
#define CELL_LAUNCHER_JAIL_JD_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cell {

inline constexpr absl::string_view kJobDirPrefix = "cell-jd.";
// Where a $JD is made before it is locked and renamed to kJobDirPrefix.
inline constexpr absl::string_view kJobDirStagingPrefix = "cell-jd-new.";

class JobDir {
 public:
  // Creates `<parent>/cell-jd.XXXXXX` and locks it.
  static absl::StatusOr<JobDir> Create(absl::string_view parent);

  JobDir(JobDir&& other) noexcept;
  JobDir& operator=(JobDir&&) = delete;
  JobDir(const JobDir&) = delete;
  ~JobDir();  // Removes the directory if Remove() was not called.

  const std::string& path() const { return path_; }
  std::string Path(absl::string_view name) const;

  // Removes the directory and everything in it, then releases the lock.
  absl::Status Remove();

 private:
  JobDir(std::string path, int lock_fd)
      : path_(std::move(path)), lock_fd_(lock_fd) {}
  std::string path_;
  int lock_fd_ = -1;
};

// $TMPDIR when set to an absolute path, else /tmp.
std::string JobDirParent();

// Removes `<parent>/cell-jd.*` directories owned by this euid whose lock is
// free (their launcher is gone), and staging `cell-jd-new.*` ones that are
// unlocked and older than a minute (a launcher killed while making one).
// Returns how many were removed; problems with one directory do not stop
// the sweep.
int SweepStaleJobDirs(absl::string_view parent);

}  // namespace cell

#endif  // CELL_LAUNCHER_JAIL_JD_H_
