#include "launcher/spec/protect.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/fs_util.h"
#include "base/host_path.h"
#include "base/status_macros.h"
#include "base/test_faults.h"

namespace cell {
namespace {

MountOp Pin(std::string dst) {
  MountOp op;
  op.kind = MountOpKind::kPin;
  op.dst = std::move(dst);
  return op;
}

// Pins for each directory between `root` (a mount point already) and the
// protected path `path` beneath it, outermost first, added to `pins` once.
void AddPins(const std::string& root, const std::string& path,
             std::vector<MountOp>* pins) {
  size_t slash = root.size();
  while ((slash = path.find('/', slash + 1)) != std::string::npos) {
    MountOp pin = Pin(path.substr(0, slash));
    if (std::find(pins->begin(), pins->end(), pin) == pins->end()) {
      pins->push_back(std::move(pin));
    }
  }
}

MountOp ReadOnlyBind(std::string src, std::string dst) {
  MountOp op;
  op.kind = MountOpKind::kRoBind;
  op.src = std::move(src);
  op.dst = std::move(dst);
  return op;
}

// An empty placeholder `name` in `dir`: a directory or a read-only file.
absl::StatusOr<Placeholders::Entry> CreatePlaceholder(int dir,
                                                      const std::string& name,
                                                      bool is_dir) {
  if (is_dir) {
    if (mkdirat(dir, name.c_str(), 0555) != 0) {
      return ErrnoStatus(errno, absl::StrCat("cannot create '", name, "'"));
    }
  } else {
    const int fd =
        openat(dir, name.c_str(),
               O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
    if (fd < 0) {
      return ErrnoStatus(errno, absl::StrCat("cannot create '", name, "'"));
    }
    close(fd);
  }
  struct stat info;
  if (fstatat(dir, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoStatus(errno, absl::StrCat("cannot look at '", name, "'"));
  }
  Placeholders::Entry entry;
  entry.dir.Reset(fcntl(dir, F_DUPFD_CLOEXEC, 0));
  entry.name = name;
  entry.inode = info.st_ino;
  entry.is_dir = is_dir;
  return entry;
}

// The read-only bind that protects worktree path `entry` (field `field`).
absl::StatusOr<std::optional<MountOp>> ProtectInWorktree(
    const std::string& worktree, const std::string& entry,
    const std::string& field, Placeholders* placeholders) {
  const bool want_dir = absl::EndsWith(entry, "/");
  const std::vector<std::string> parts =
      absl::StrSplit(absl::StripSuffix(entry, "/"), '/');
  CELL_ASSIGN_OR_RETURN(UniqueFd dir,
                        OpenWithoutSymlinks(worktree, O_PATH | O_DIRECTORY));
  std::string host = worktree;
  std::string cell(kCellWorktree);
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    const bool last = i + 1 == parts.size();
    host = absl::StrCat(host, "/", part);
    cell = absl::StrCat(cell, "/", part);
    struct stat info;
    if (fstatat(dir.get(), part.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT) {
        return ErrnoStatus(
            errno,
            absl::StrCat("field `", field, "`: cannot look at '", host, "'"));
      }
      // Missing: a placeholder where the path first stops existing, so
      // that nothing on the way can be created either.
      absl::StatusOr<Placeholders::Entry> created =
          CreatePlaceholder(dir.get(), part, !last || want_dir);
      // What the launcher's user may not create, the cell (the same user,
      // or one with fewer rights) cannot either.
      if (absl::IsPermissionDenied(created.status())) return std::nullopt;
      if (!created.ok()) {
        return absl::Status(
            created.status().code(),
            absl::StrCat("field `", field, "`: ", created.status().message()));
      }
      placeholders->Add(*std::move(created));
      return ReadOnlyBind(host, cell);
    }
    if (S_ISLNK(info.st_mode)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "field `", field, "`: '", host,
          "' is a symlink in the worktree, which the cell could have made to "
          "point anywhere; remove it (a protected path must be a real file "
          "or directory)"));
    }
    // A file where a directory was expected (a `.git` file of a git
    // worktree, naming the real git dir): that file is what to protect.
    if (last || !S_ISDIR(info.st_mode)) {
      // A second name for it, made by a cell earlier, would stay writable.
      if (!S_ISDIR(info.st_mode) && info.st_nlink != 1) {
        return absl::FailedPreconditionError(absl::StrCat(
            "field `", field, "`: '", host, "' has ", info.st_nlink,
            " hard links; a cell may have made one to change it where it is "
            "not protected; remove the other links"));
      }
      return ReadOnlyBind(host, cell);
    }
    const int next = openat(dir.get(), part.c_str(),
                            O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) {
      return ErrnoStatus(
          errno, absl::StrCat("field `", field, "`: cannot open '", host, "'"));
    }
    dir.Reset(next);
  }
  return ReadOnlyBind(host, cell);  // Not reached: parts is never empty.
}

}  // namespace

std::vector<MountOp> ProtectViews(const std::string& host_path,
                                  const std::vector<MountOp>& mounts) {
  std::vector<MountOp> ops;
  for (const MountOp& mount : mounts) {
    if (mount.kind != MountOpKind::kBind) continue;
    // By identity, not spelling: a host bind mount of the worktree under
    // another name, or a bind of exactly this file or directory, is a view
    // of it as much as a bind of its parent.
    std::optional<std::string> rest = PathUnderByIdentity(host_path, mount.src);
    if (TestFault(fault::kViewsBySpelling)) {
      rest =
          mount.src != host_path && PathIsSameOrUnder(host_path, mount.src)
              ? std::optional<std::string>(host_path.substr(mount.src.size()))
              : std::nullopt;
    }
    if (!rest.has_value()) continue;
    ops.push_back(ReadOnlyBind(host_path, absl::StrCat(mount.dst, *rest)));
  }
  return ops;
}

Placeholders::~Placeholders() { RemoveAll(); }

void Placeholders::RemoveAll() {
  // Innermost first: a placeholder may have been made inside another.
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    const Entry& entry = *it;
    struct stat info;
    if (fstatat(entry.dir.get(), entry.name.c_str(), &info,
                AT_SYMLINK_NOFOLLOW) != 0 ||
        info.st_ino != entry.inode) {
      continue;  // Replaced meanwhile (by the host user): not ours.
    }
    if (entry.is_dir) {
      unlinkat(entry.dir.get(), entry.name.c_str(), AT_REMOVEDIR);
    } else if (S_ISREG(info.st_mode) && info.st_size == 0) {
      unlinkat(entry.dir.get(), entry.name.c_str(), 0);
    }
  }
  entries_.clear();
}

absl::StatusOr<std::vector<MountOp>> ProtectOps(
    const CellSpec& spec, const std::vector<MountOp>& mounts,
    const std::vector<std::string>& control_files, Placeholders* placeholders) {
  std::vector<MountOp> ops;
  if (TestFault(fault::kWritableControlFiles)) return ops;
  for (size_t i = 0; i < spec.protect.size(); ++i) {
    CELL_ASSIGN_OR_RETURN(
        std::optional<MountOp> op,
        ProtectInWorktree(spec.worktree_path, spec.protect[i],
                          absl::StrCat("protect[", i, "]"), placeholders));
    if (!op.has_value()) continue;
    // Over every read-write view of it: the worktree's, and any bind of a
    // directory holding the worktree.
    std::vector<MountOp> views = ProtectViews(op->src, mounts);
    if (views.empty()) views.push_back(*std::move(op));
    for (MountOp& view : views) ops.push_back(std::move(view));
  }
  for (const std::string& file : control_files) {
    for (MountOp& op : ProtectViews(file, mounts)) ops.push_back(std::move(op));
  }
  // The directories on the way are pinned first, so that none can be
  // renamed away with what it protects and replaced (pins are recursive
  // binds: they would also carry binds made before them).
  std::vector<MountOp> pinned;
  for (const MountOp& op : ops) {
    for (const MountOp& mount : mounts) {
      if (mount.kind == MountOpKind::kBind && mount.dst != op.dst &&
          PathIsSameOrUnder(op.dst, mount.dst)) {
        AddPins(mount.dst, op.dst, &pinned);
      }
    }
  }
  pinned.insert(pinned.end(), ops.begin(), ops.end());
  return pinned;
}

}  // namespace cell
