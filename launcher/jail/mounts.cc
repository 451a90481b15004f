#include "launcher/jail/mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "base/devices.h"
#include "base/kernel_fs.h"
#include "base/mount_flags.h"
#include "base/test_faults.h"
#include "base/unique_fd.h"

namespace cell {
namespace {

// All of this runs in the child between clone and exec: no allocation, no
// locks, errno values as results.

// "/proc/self/fd/N": how mount(2) is pointed at an fd we opened safely.
struct FdPath {
  explicit FdPath(int fd) {
    std::snprintf(text, sizeof(text), "/proc/self/fd/%d", fd);
  }
  char text[32];
};

enum class MissingDirs { kCreate, kFail };

// Opens `rel` (leading '/' ignored) beneath `root_fd` one component at a
// time, never following a symlink (and so with no PATH_MAX limit),
// creating missing directories with `mode` (kCreate). `last_flags` is
// added to O_PATH for every component (O_DIRECTORY: directories only).
// Returns an O_PATH fd or -errno.
int OpenBeneath(int root_fd, const char* rel, mode_t mode, MissingDirs missing,
                int last_flags) {
  int current = fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
  if (current < 0) return -errno;
  const char* p = rel;
  char component[256];
  while (*p != '\0') {
    while (*p == '/') ++p;
    if (*p == '\0') break;
    size_t length = 0;
    while (p[length] != '\0' && p[length] != '/') ++length;
    if (length >= sizeof(component)) {
      close(current);
      return -ENAMETOOLONG;
    }
    std::memcpy(component, p, length);
    component[length] = '\0';
    p += length;
    if (missing == MissingDirs::kCreate &&
        mkdirat(current, component, mode) != 0 && errno != EEXIST) {
      const int error = errno;
      close(current);
      return -error;
    }
    const int next = openat(current, component,
                            O_PATH | last_flags | O_NOFOLLOW | O_CLOEXEC);
    const int error = errno;
    close(current);
    if (next < 0) return -error;
    current = next;
  }
  return current;
}

// Directory `rel` beneath `root_fd` (see OpenBeneath).
int OpenDirBeneath(int root_fd, const char* rel, mode_t mode,
                   MissingDirs missing = MissingDirs::kCreate) {
  return OpenBeneath(root_fd, rel, mode, missing, O_DIRECTORY);
}

// Splits "/a/b/c" into parent "a/b" (written to `parent`) and leaf "c".
int SplitLeaf(const char* dst, char* parent, size_t parent_size,
              const char** leaf) {
  while (*dst == '/') ++dst;
  const char* slash = std::strrchr(dst, '/');
  if (slash == nullptr) {
    parent[0] = '\0';
    *leaf = dst;
    return 0;
  }
  const size_t length = static_cast<size_t>(slash - dst);
  if (length >= parent_size) return ENAMETOOLONG;
  std::memcpy(parent, dst, length);
  parent[length] = '\0';
  *leaf = slash + 1;
  return 0;
}

// Opens the source of a bind without following symlinks anywhere in it
// (resolution made it canonical; a symlink now means it was swapped).
int OpenBindSource(const char* src) {
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS;
  const long fd = syscall(SYS_openat2, AT_FDCWD, src, &how, sizeof(how));
  if (fd >= 0 || errno != ENOSYS) return fd < 0 ? -errno : static_cast<int>(fd);
  const int fallback = open(src, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  return fallback < 0 ? -errno : fallback;
}

// Adds `attributes` (MOUNT_ATTR_RDONLY, _NOSUID, _NODEV) to the mount at
// `leaf` (just mounted) and every submount.
int Restrict(int parent_fd, const char* leaf, uint64_t attributes) {
  // Reopen: an fd from before the mount names the covered inode, not the
  // new mount.
  UniqueFd mounted(openat(parent_fd, leaf, O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (mounted.get() < 0) return errno;
  // They must hold for every submount the recursive bind brought along (a
  // bind of / brings /proc, /sys, /dev/pts...; /proc/sys brings
  // binfmt_misc): mount_setattr with AT_RECURSIVE does that in one call
  // (Linux 5.12+).
  mount_attr attr{};
  attr.attr_set = attributes;
  if (mount_setattr(mounted.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
                    sizeof(attr)) == 0) {
    return 0;
  }
  if (errno != ENOSYS) return errno;
  // Older kernels: remount the top mount only, repeating the flags the
  // kernel locked on the source mount (nosuid, nodev, ...) or it fails with
  // EPERM. Submounts then stay as they were on the host.
  const FdPath mounted_path(mounted.get());
  unsigned long flags =
      MS_REMOUNT | MS_BIND | KeptMountFlags(mounted_path.text);
  if ((attributes & MOUNT_ATTR_RDONLY) != 0) flags |= MS_RDONLY;
  if ((attributes & MOUNT_ATTR_NOSUID) != 0) flags |= MS_NOSUID;
  if ((attributes & MOUNT_ATTR_NODEV) != 0) flags |= MS_NODEV;
  if (mount(nullptr, mounted_path.text, nullptr, flags, nullptr) != 0) {
    return errno;
  }
  return 0;
}

int MakeReadOnly(int parent_fd, const char* leaf) {
  return Restrict(parent_fd, leaf, MOUNT_ATTR_RDONLY);
}

// Decodes mountinfo's octal escapes (\040) of `field` into `out`.
void Unescape(const char* field, size_t length, char* out, size_t size) {
  size_t n = 0;
  for (size_t i = 0; i < length && n + 1 < size; ++i) {
    if (field[i] == '\\' && i + 3 < length) {
      out[n++] =
          static_cast<char>((field[i + 1] - '0') * 64 +
                            (field[i + 2] - '0') * 8 + (field[i + 3] - '0'));
      i += 3;
    } else {
      out[n++] = field[i];
    }
  }
  out[n] = '\0';
}

// The fields of one mountinfo line, split in place (the line is changed).
struct MountLine {
  const char* device = nullptr;  // "major:minor"
  char root[8192];
  char point[8192];
  const char* type = nullptr;
};

bool SplitMountLine(char* line, MountLine* out) {
  // id parent major:minor root mount_point options [optional...] - type ...
  char* fields[6] = {};
  int count = 0;
  char* token = line;
  while (token != nullptr && *token != '\0') {
    char* end = std::strchr(token, ' ');
    if (end != nullptr) *end = '\0';
    if (count >= 6 && std::strcmp(token, "-") == 0) {
      if (end == nullptr) return false;
      out->type = end + 1;
      char* type_end = std::strchr(end + 1, ' ');
      if (type_end != nullptr) *type_end = '\0';
      break;
    }
    if (count < 6) fields[count] = token;
    ++count;
    token = end != nullptr ? end + 1 : nullptr;
  }
  if (count < 6 || out->type == nullptr) return false;
  out->device = fields[2];
  Unescape(fields[3], std::strlen(fields[3]), out->root, sizeof(out->root));
  Unescape(fields[4], std::strlen(fields[4]), out->point, sizeof(out->point));
  return true;
}

// `path` (absolute, in the cell, after the pivot) as a process of the
// cell's credentials reaches it. Returns an O_PATH fd or -errno.
int OpenComponents(const char* path) {
  const int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return -errno;
  const int fd = OpenBeneath(root, path, 0, MissingDirs::kFail, 0);
  close(root);
  return fd;
}

// Calls `visit(line, index)` for each line of /proc/self/mountinfo, from
// fixed buffers; stops early when it returns true. Returns 0, EPERM for a
// line too long to judge, or the errno of reading.
template <typename Visit>
int ForEachMountLine(Visit visit) {
  UniqueFd file(open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC));
  if (file.get() < 0) return errno;
  char chunk[8192];
  char line[8192];
  size_t used = 0;
  bool overlong = false;
  int index = 0;
  while (true) {
    const ssize_t n = read(file.get(), chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return 0;
    for (ssize_t i = 0; i < n; ++i) {
      if (chunk[i] != '\n') {
        if (used + 1 < sizeof(line)) {
          line[used++] = chunk[i];
        } else {
          overlong = true;
        }
        continue;
      }
      line[used] = '\0';
      if (overlong) return EPERM;
      if (visit(line, index++)) return 0;
      used = 0;
    }
  }
}

// Whether a tmpfs (a mask) listed after line `after` sits at `point` or at
// a directory above it: what lies beneath is covered.
bool CoveredByLaterMask(const char* point, int after) {
  bool covered = false;
  const int error = ForEachMountLine([&](char* text, int index) {
    MountLine line;
    if (index <= after || !SplitMountLine(text, &line) ||
        std::strcmp(line.type, "tmpfs") != 0 ||
        std::strcmp(line.point, "/") == 0) {
      return false;
    }
    const size_t length = std::strlen(line.point);
    covered = std::strncmp(point, line.point, length) == 0 &&
              (point[length] == '/' || point[length] == '\0');
    return covered;
  });
  return error == 0 && covered;
}

// One mountinfo line, after the pivot: a kernel file system the cell can
// reach, other than its own /proc, its devpts and allowed device nodes?
bool ReachableKernelMount(char* text, int index) {
  static MountLine line;  // 16 KiB: off the stack; the child is alone.
  if (!SplitMountLine(text, &line)) return true;  // Cannot tell: refuse.
  if (!IsKernelFileSystem(line.type)) return false;
  const char* point = line.point;
  if (std::strcmp(line.type, "proc") == 0) {
    // Its own /proc (root "/"), and the read-only binds of its parts
    // (mount point /proc/R, root R).
    if (std::strcmp(point, "/proc") == 0 && std::strcmp(line.root, "/") == 0) {
      return false;
    }
    if (std::strncmp(point, "/proc/", 6) == 0 &&
        std::strcmp(point + 5, line.root) == 0) {
      return false;
    }
  }
  if (std::strcmp(line.type, "devpts") == 0 &&
      std::strcmp(point, "/dev/pts") == 0) {
    return false;
  }
  unsigned major_number = 0, minor_number = 0;
  if (std::sscanf(line.device, "%u:%u", &major_number, &minor_number) != 2) {
    return true;
  }
  const int fd = OpenComponents(point);
  if (fd == -EACCES) return false;  // The cell cannot reach it either.
  if (fd < 0) {
    // Not where mountinfo says: hidden by a mask above it, or moved since
    // (a race), and then refused.
    return !CoveredByLaterMask(point, index);
  }
  struct stat info;
  const bool ok = fstat(fd, &info) == 0;
  close(fd);
  if (!ok) return true;
  if (info.st_dev != makedev(major_number, minor_number)) {
    return false;  // A mask over it shows another device.
  }
  // A device node bound on its own: allowed ones only (and the cell's
  // /dev/tty).
  if (std::strcmp(line.type, "devtmpfs") == 0 &&
      (S_ISCHR(info.st_mode) || S_ISBLK(info.st_mode))) {
    return !(DeviceAllowedInCell(info) || std::strcmp(point, "/dev/tty") == 0);
  }
  return true;
}

int Bind(int parent_fd, const char* leaf, const MountOp& op, bool read_only) {
  UniqueFd source(OpenBindSource(op.src.c_str()));
  if (source.get() < 0) {
    return (-source.get() == ENOENT && op.optional) ? 0 : -source.get();
  }
  struct stat info;
  if (fstat(source.get(), &info) != 0) return errno;
  // Checked again on what was opened: the path the spec named may have been
  // swapped for another device node (a hard link) since it was resolved.
  if ((S_ISCHR(info.st_mode) || S_ISBLK(info.st_mode)) &&
      !DeviceAllowedInCell(info) && !TestFault(fault::kAllowKernelBinds) &&
      op.src != "/dev/tty") {  // The launcher's own, for the cell's pty.
    return EPERM;
  }
  if (S_ISDIR(info.st_mode)) {
    if (mkdirat(parent_fd, leaf, 0755) != 0 && errno != EEXIST) return errno;
  } else {
    // A file to mount on: made only when missing. An existing one is not
    // opened (it may be the running launcher, ETXTBSY for writing, or a
    // FIFO the cell left there, which an open would wait on).
    struct stat existing;
    if (fstatat(parent_fd, leaf, &existing, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT) return errno;
      const int file =
          openat(parent_fd, leaf,
                 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (file < 0) return errno;
      close(file);
    }
  }
  UniqueFd target(openat(parent_fd, leaf, O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (target.get() < 0) return errno;
  const FdPath source_path(source.get());
  const FdPath target_path(target.get());
  if (mount(source_path.text, target_path.text, nullptr, MS_BIND | MS_REC,
            nullptr) != 0) {
    return errno;
  }
  // No set-user-ID program runs from a bind, and no device node a
  // directory bind carries opens (a bind of / carries the host's
  // terminals and disks; read-only does not stop writes to a device). A
  // device node bound on its own (/dev/null, /dev/kvm) stays usable.
  uint64_t attributes = MOUNT_ATTR_NOSUID;
  const bool device = S_ISCHR(info.st_mode) || S_ISBLK(info.st_mode);
  if (!device && !TestFault(fault::kAllowKernelBinds)) {
    attributes |= MOUNT_ATTR_NODEV;
  }
  if (read_only) attributes |= MOUNT_ATTR_RDONLY;
  return Restrict(parent_fd, leaf, attributes);
}

int MountFresh(int parent_fd, const char* leaf, const char* type,
               unsigned long flags, const char* options) {
  if (mkdirat(parent_fd, leaf, 0755) != 0 && errno != EEXIST) return errno;
  UniqueFd target(
      openat(parent_fd, leaf, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (target.get() < 0) return errno;
  const FdPath target_path(target.get());
  if (mount(type, target_path.text, type, flags, options) != 0) return errno;
  return 0;
}

// What the ops need besides the op itself.
struct ApplyContext {
  int root_fd = -1;
  // An empty regular file in the new root (made on first use, unlinked
  // when the mounts are done), bound over the first masked file.
  int empty_file_fd = -1;
  // That first mask, read-only: later masks are binds of it, which keep
  // its read-only flag without a mount_setattr each.
  int read_only_mask_fd = -1;
  // The directory the last op was applied in: consecutive ops in one
  // directory (/proc/..., /dev/...) skip walking to it again. Forgotten
  // when an op mounts on it or above it.
  char parent[4096] = {};
  int parent_fd = -1;
};

// The name of that file while it exists; nothing in the cell can see it.
constexpr char kEmptyFileName[] = ".cell-empty";

// kRoRebind and kPin: dst, already inside the new root, bound over itself
// (with its submounts), then made read-only for kRoRebind. A missing dst is
// skipped (kernel interfaces vary by configuration).
int Rebind(int parent_fd, const char* leaf, MountOpKind kind) {
  UniqueFd existing(openat(parent_fd, leaf, O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (existing.get() < 0) return errno == ENOENT ? 0 : errno;
  const FdPath path(existing.get());
  if (mount(path.text, path.text, nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    return errno;
  }
  return kind == MountOpKind::kRoRebind ? MakeReadOnly(parent_fd, leaf) : 0;
}

// kMask: an empty read-only directory (a tmpfs) over a directory, the
// empty file bound read-only over anything else. A missing dst is skipped.
int Mask(ApplyContext* context, int parent_fd, const char* leaf) {
  UniqueFd existing(openat(parent_fd, leaf, O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (existing.get() < 0) {
    return errno == ENOENT || errno == EACCES ? 0 : errno;
  }
  struct stat info;
  if (fstat(existing.get(), &info) != 0) return errno;
  // Masked already (a path masked twice: by the plan, and as a kernel
  // submount of a bind): a mount on the empty file itself would make its
  // name a mount point, which then cannot be removed from the root (EBUSY;
  // found in a podman container whose /proc/keys is a bind of /dev/null).
  if (context->empty_file_fd >= 0) {
    struct stat empty;
    if (fstat(context->empty_file_fd, &empty) == 0 &&
        empty.st_dev == info.st_dev && empty.st_ino == info.st_ino) {
      return 0;
    }
  }
  const FdPath target(existing.get());
  if (S_ISDIR(info.st_mode)) {
    return mount("tmpfs", target.text, "tmpfs",
                 MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                 "mode=0555,size=4k,nr_inodes=1") == 0
               ? 0
               : errno;
  }
  if (context->read_only_mask_fd >= 0) {
    const FdPath source(context->read_only_mask_fd);
    return mount(source.text, target.text, nullptr, MS_BIND, nullptr) == 0
               ? 0
               : errno;
  }
  if (context->empty_file_fd < 0) {
    context->empty_file_fd =
        openat(context->root_fd, kEmptyFileName,
               O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
    if (context->empty_file_fd < 0) return errno;
  }
  const FdPath source(context->empty_file_fd);
  if (mount(source.text, target.text, nullptr, MS_BIND, nullptr) != 0) {
    return errno;
  }
  if (const int error = MakeReadOnly(parent_fd, leaf); error != 0) {
    return error;
  }
  context->read_only_mask_fd =
      openat(parent_fd, leaf, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  return context->read_only_mask_fd < 0 ? errno : 0;
}

int WriteFile(int parent_fd, const char* leaf, const MountOp& op) {
  const int fd =
      openat(parent_fd, leaf,
             O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, op.mode);
  if (fd < 0) return errno;
  size_t written = 0;
  while (written < op.content.size()) {
    const ssize_t n =
        write(fd, op.content.data() + written, op.content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      close(fd);
      return error;
    }
    written += static_cast<size_t>(n);
  }
  close(fd);
  return 0;
}

int ApplyOpInParent(ApplyContext* context, const MountOp& op) {
  char parent[4096];
  const char* leaf = nullptr;
  if (const int error =
          SplitLeaf(op.dst.c_str(), parent, sizeof(parent), &leaf);
      error != 0) {
    return error;
  }
  if (*leaf == '\0') return EINVAL;
  if (context->parent_fd < 0 || std::strcmp(context->parent, parent) != 0) {
    if (context->parent_fd >= 0) close(context->parent_fd);
    // Masks and rebinds cover what exists: they never create a directory
    // (in a bind, that would be on the host), and a path that is not there,
    // or that the cell's user cannot reach, has nothing to hide.
    const bool existing_only = op.kind == MountOpKind::kMask ||
                               op.kind == MountOpKind::kRoRebind ||
                               op.kind == MountOpKind::kPin;
    context->parent_fd = OpenDirBeneath(
        context->root_fd, parent, 0755,
        existing_only ? MissingDirs::kFail : MissingDirs::kCreate);
    if (context->parent_fd < 0) {
      const int error = -context->parent_fd;
      context->parent_fd = -1;
      context->parent[0] = '\0';
      if (existing_only && (error == ENOENT || error == EACCES)) return 0;
      return error;
    }
    std::memcpy(context->parent, parent, sizeof(parent));
  }
  const int parent_fd = context->parent_fd;
  char options[64];
  switch (op.kind) {
    case MountOpKind::kTmpfs:
      std::snprintf(options, sizeof(options), "mode=%04o", op.mode);
      return MountFresh(parent_fd, leaf, "tmpfs", MS_NOSUID | MS_NODEV,
                        options);
    case MountOpKind::kBind:
      return Bind(parent_fd, leaf, op, /*read_only=*/false);
    case MountOpKind::kRoBind:
      return Bind(parent_fd, leaf, op, /*read_only=*/true);
    case MountOpKind::kDir: {
      if (mkdirat(parent_fd, leaf, op.mode) != 0 && errno != EEXIST) {
        return errno;
      }
      return 0;
    }
    case MountOpKind::kSymlink:
      return symlinkat(op.src.c_str(), parent_fd, leaf) == 0 ? 0 : errno;
    case MountOpKind::kFile:
      return WriteFile(parent_fd, leaf, op);
    case MountOpKind::kProc:
      return MountFresh(parent_fd, leaf, "proc",
                        MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
    case MountOpKind::kDevpts:
      return MountFresh(parent_fd, leaf, "devpts", MS_NOSUID | MS_NOEXEC,
                        "newinstance,ptmxmode=0666,mode=620");
    case MountOpKind::kRoRebind:
    case MountOpKind::kPin:
      return Rebind(parent_fd, leaf, op.kind);
    case MountOpKind::kMask:
      return Mask(context, parent_fd, leaf);
  }
  return EINVAL;
}

// The helper LockMounts clones: it shares the child's memory (CLONE_VM)
// and so its errno, but nothing else runs meanwhile (the child waits on the
// pipe). Raw syscalls only, and no sanitizer instrumentation: it runs on
// its own stack, which sanitizers do not know.
struct LockHelperArgs {
  int ready_fd;      // Write end: the errno of the unshare.
  int hold_fd;       // Read end: end-of-file once the child has joined.
  int other_fds[2];  // The child's ends, closed in the helper.
};

alignas(64) char lock_helper_stack[32 * 1024];

__attribute__((no_sanitize("address", "undefined"))) int RunLockHelper(
    void* raw) {
  const LockHelperArgs* args = static_cast<const LockHelperArgs*>(raw);
  syscall(SYS_close, args->other_fds[0]);
  syscall(SYS_close, args->other_fds[1]);
  int error = 0;
  if (syscall(SYS_unshare, CLONE_NEWUSER | CLONE_NEWNS) != 0) error = errno;
  syscall(SYS_write, args->ready_fd, &error, sizeof(error));
  // Stay alive (so the namespace does) until the child has joined.
  char byte;
  while (syscall(SYS_read, args->hold_fd, &byte, 1) < 0 && errno == EINTR) {
  }
  return 0;
}

}  // namespace

int PrepareNewRoot(const char* new_root, uid_t uid, gid_t gid, int* root_fd,
                   MountFailure* failure) {
  const unsigned long propagation =
      TestFault(fault::kHostPropagation) ? MS_SLAVE : MS_PRIVATE;
  if (mount(nullptr, "/", nullptr, MS_REC | propagation, nullptr) != 0) {
    *failure = {kMountStepPrivate, errno};
    return failure->error;
  }
  // Owned by the cell's user, which may not be the process mounting it
  // (a root launcher running the cell as another user).
  char options[96];
  std::snprintf(options, sizeof(options), "mode=0755,uid=%u,gid=%u",
                static_cast<unsigned>(uid), static_cast<unsigned>(gid));
  if (mount("tmpfs", new_root, "tmpfs", MS_NOSUID | MS_NODEV, options) != 0) {
    *failure = {kMountStepRoot, errno};
    return failure->error;
  }
  *root_fd = open(new_root, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (*root_fd < 0) {
    *failure = {kMountStepRoot, errno};
    return failure->error;
  }
  return 0;
}

// True when `ancestor` (relative, no leading '/') is `path` or above it.
bool SameOrAbove(const char* ancestor, const char* path) {
  const size_t length = std::strlen(ancestor);
  return length == 0 || (std::strncmp(ancestor, path, length) == 0 &&
                         (path[length] == '\0' || path[length] == '/'));
}

int ApplyOp(ApplyContext* context, const MountOp& op) {
  const int error = ApplyOpInParent(context, op);
  // A mount on the remembered directory or above it: its fd now names
  // what is covered.
  const char* dst = op.dst.c_str();
  while (*dst == '/') ++dst;
  if (context->parent_fd >= 0 && SameOrAbove(dst, context->parent)) {
    close(context->parent_fd);
    context->parent_fd = -1;
  }
  return error;
}

bool ApplyMountOps(int root_fd, const std::vector<MountOp>& ops,
                   MountFailure* failure) {
  ApplyContext context;
  context.root_fd = root_fd;
  auto close_all = [&context] {
    for (const int fd : {context.parent_fd, context.read_only_mask_fd}) {
      if (fd >= 0) close(fd);
    }
  };
  for (size_t i = 0; i < ops.size(); ++i) {
    if (const int error = ApplyOp(&context, ops[i]); error != 0) {
      if (context.empty_file_fd >= 0) close(context.empty_file_fd);
      close_all();
      *failure = {i, error};
      return false;
    }
  }
  close_all();
  if (context.empty_file_fd >= 0) {
    // The binds keep the inode; the name must not stay in the root.
    close(context.empty_file_fd);
    if (unlinkat(root_fd, kEmptyFileName, 0) != 0) {
      *failure = {kMountStepRoot, errno};
      return false;
    }
  }
  return true;
}

int CheckNoHostKernelMounts() {
  if (TestFault(fault::kAllowKernelBinds)) return 0;
  bool reachable = false;
  const int error = ForEachMountLine([&reachable](char* line, int index) {
    reachable = ReachableKernelMount(line, index);
    return reachable;
  });
  if (error != 0) return error;
  return reachable ? EPERM : 0;
}

int PivotInto(int root_fd) {
  // pivot_root(".", ".") stacks the old root on top of the new one; the
  // detach then removes it, leaving no path back to the host's tree.
  // Through the fd: the path to the new root ($JD) is the launcher's,
  // which a cell run as another user may not traverse.
  if (fchdir(root_fd) != 0) return errno;
  if (syscall(SYS_pivot_root, ".", ".") != 0) return errno;
  if (umount2(".", MNT_DETACH) != 0) return errno;
  if (chdir("/") != 0) return errno;
  return 0;
}

int RemountRootReadOnly() {
  // A bind remount changes this mount's flags only, not the tmpfs's
  // superblock nor the mounts on top of it.
  if (mount(nullptr, "/", nullptr,
            MS_REMOUNT | MS_BIND | MS_RDONLY | KeptMountFlags("/"),
            nullptr) != 0) {
    return errno;
  }
  return 0;
}

int UnshareLockedMounts() {
  return unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0 ? 0 : errno;
}

int JoinMountNamespaceOf(pid_t holder) {
  // The holder's user namespace is owned by this process's uid, so this
  // process holds every capability there and may join. Through a pidfd,
  // which needs no /proc; through /proc on kernels before 5.8.
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, holder, 0));
  if (pidfd >= 0) {
    const int joined = setns(pidfd, CLONE_NEWNS);
    const int error = errno;
    close(pidfd);
    if (joined == 0) return 0;
    if (error != EINVAL) return error;
  } else if (errno != ENOSYS) {
    return errno;
  }
  char path[64];
  std::snprintf(path, sizeof(path), "/proc/%d/ns/mnt",
                static_cast<int>(holder));
  const int ns = open(path, O_RDONLY | O_CLOEXEC);
  if (ns < 0) return errno;
  const int error = setns(ns, CLONE_NEWNS) == 0 ? 0 : errno;
  close(ns);
  return error;
}

int LockMounts() {
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) return errno;
  int hold[2];
  if (pipe2(hold, O_CLOEXEC) != 0) {
    const int error = errno;
    close(ready[0]);
    close(ready[1]);
    return error;
  }
  // CLONE_VM: a fork (copying the page tables, then tearing them down)
  // made the whole lock cost about 2 ms of a 9 ms launch on our 2-core VMs;
  // sharing them, about 0.6 ms. Not CLONE_FILES: the helper must drop its
  // copies of the pipe ends for end-of-file to work.
  LockHelperArgs args = {ready[1], hold[0], {ready[0], hold[1]}};
  const pid_t helper =
      clone(&RunLockHelper, lock_helper_stack + sizeof(lock_helper_stack),
            CLONE_VM | SIGCHLD, &args);
  if (helper < 0) {
    const int error = errno;
    for (const int fd : {ready[0], ready[1], hold[0], hold[1]}) close(fd);
    return error;
  }
  close(ready[1]);
  close(hold[0]);
  int error = 0;
  if (read(ready[0], &error, sizeof(error)) != sizeof(error)) error = EIO;
  close(ready[0]);
  if (error == 0) error = JoinMountNamespaceOf(helper);
  close(hold[1]);
  while (waitpid(helper, nullptr, 0) < 0 && errno == EINTR) {
  }
  return error;
}

}  // namespace cell
