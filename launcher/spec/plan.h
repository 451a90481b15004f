// The plan: a pure function from a resolved CellSpec (plus a few host facts)
// to everything the child does between clone and exec — the ordered mount
// operations, the environment, the argv and where to look for argv[0]. No
// syscalls here, so all of it is unit-tested without namespaces; the
// executor in mounts.cc and child.cc just walks it (as bubblewrap does with
// its list of setup ops).
#ifndef CELL_LAUNCHER_SPEC_PLAN_H_
#define CELL_LAUNCHER_SPEC_PLAN_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/mountinfo.h"
#include "launcher/spec/spec.h"

namespace cell {

enum class MountOpKind {
  kTmpfs,    // A fresh tmpfs at dst (mode).
  kBind,     // Bind host src at dst, read-write.
  kRoBind,   // Bind host src at dst, then remount read-only.
  kDir,      // mkdir dst (mode).
  kSymlink,  // Symlink dst -> src.
  kFile,     // Write `content` to a new file dst (mode).
  kProc,     // A fresh proc instance (needs a PID namespace).
  kDevpts,   // A new devpts instance at dst.
  // Inside the new root (src unused): bind dst over itself read-only,
  // submounts included; skipped when dst does not exist (kernel interfaces
  // vary by configuration).
  kRoRebind,
  // Inside the new root: hide dst under an empty read-only file or
  // directory; skipped when dst does not exist.
  kMask,
  // Inside the new root: bind directory dst over itself, read-write. A
  // mount point cannot be renamed or removed inside the cell, so a file
  // protected below it cannot be swapped out by renaming its directory.
  kPin,
};

struct MountOp {
  MountOpKind kind = MountOpKind::kDir;
  std::string src;  // Host path (binds) or link target (symlinks).
  std::string dst;  // Absolute path inside the cell.
  std::string content;
  int mode = 0755;
  // A bind whose source vanished since resolution is skipped, not an error.
  bool optional = false;

  bool operator==(const MountOp& other) const {
    return kind == other.kind && src == other.src && dst == other.dst &&
           content == other.content && mode == other.mode &&
           optional == other.optional;
  }
};

// Host facts the plan depends on, gathered by the caller.
struct HostFacts {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string user_name;            // Empty when the uid has no name.
  std::string group_name;           // Empty when the gid has no name.
  std::optional<std::string> term;  // The launcher's $TERM, if set.
  std::optional<std::string> lang;  // The launcher's $LANG, if set.
};

// One setrlimit() before exec: soft and hard limit alike.
struct RlimitOp {
  std::string name;  // The spec's name, for errors.
  int resource = 0;  // RLIMIT_*.
  uint64_t value = 0;

  bool operator==(const RlimitOp& other) const {
    return name == other.name && resource == other.resource &&
           value == other.value;
  }
};

struct CellPlan {
  std::vector<MountOp> mounts;
  std::vector<std::string> env;  // "NAME=VALUE", in a stable order.
  std::vector<std::string> argv;
  // Paths to try execve() on, in order: argv[0] itself when it contains a
  // '/', else argv[0] in each PATH entry.
  std::vector<std::string> exec_candidates;
  std::string cwd;
  bool pid_namespace = false;
  bool ipc_namespace = false;
  bool keep_capabilities = true;
  bool seccomp =
      false;  // Install launcher/jail/seccomp.h's filter before exec.
  // Remount the root read-only once everything is mounted on it.
  bool read_only_root = false;
  // Applied by the command's process (not the PID-namespace init).
  std::vector<RlimitOp> rlimits;
};

// Kernel interfaces under /proc that every cell gets read-only: a
// root-launched cell's uid is host uid 0, and the kernel's sysctl write
// check looks at that uid, not at capabilities (core_pattern would run a
// worktree script as host root).
inline constexpr const char* kProcReadOnlyPaths[] = {
    "/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs"};
// Kernel interfaces every cell gets masked (the OCI runtimes' set): kernel
// memory, keys, logs and timing side channels.
inline constexpr const char* kProcMaskedPaths[] = {
    "/proc/kcore",      "/proc/keys",        "/proc/kmsg",
    "/proc/timer_list", "/proc/sched_debug", "/proc/latency_stats",
    "/proc/acpi",       "/proc/scsi"};

// The proxy URL inside the cell, e.g. "http://127.0.0.1:3128".
std::string ProxyUrl(int port);

std::string DescribeMountOp(const MountOp& op);

// `command` is the argv to run (the spec's command, or the one given on the
// command line); empty is an error naming both places to set it.
absl::StatusOr<CellPlan> MakePlan(const CellSpec& spec,
                                  const std::vector<std::string>& command,
                                  const HostFacts& host);

// Binds are recursive: a directory that holds a mount of one of the
// kernel's file systems (a chroot's proc, sys, dev/pts) would bring the
// host's interfaces in with it. After each bind in `mounts`, a mask (an
// empty read-only tmpfs) over every such submount of its source (from the
// host's mountinfo, base/mountinfo.h); the outermost only, as a mask hides
// everything beneath it.
void MaskKernelSubmounts(const std::vector<MountEntry>& host_mounts,
                         std::vector<MountOp>* mounts);

// After each bind in `mounts` whose source holds `new_root` (the cell's
// root on the host), a mask where the bind would show it.
void MaskNewRootInBinds(const std::string& new_root,
                        std::vector<MountOp>* mounts);

}  // namespace cell

#endif  // CELL_LAUNCHER_SPEC_PLAN_H_
