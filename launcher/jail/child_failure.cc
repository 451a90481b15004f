// The child's failure report, read on the parent side: one line for the
// user naming what failed and how to fix it.
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/fs_util.h"
#include "launcher/jail/child.h"

namespace cell {

std::string DescribeChildFailure(const ChildFailure& failure,
                                 const CellPlan& plan) {
  const std::string error = absl::StrCat(ErrnoName(failure.error), " (",
                                         std::strerror(failure.error), ")");
  const std::string userns_hint =
      "; are user namespaces allowed here? (sysctl user.max_user_namespaces, "
      "kernel.unprivileged_userns_clone, or an AppArmor/seccomp policy may "
      "forbid them)";
  switch (failure.step) {
    case ChildStep::kParentDeathSignal:
      return absl::StrCat("cannot tie the cell to the launcher's life: ",
                          error);
    case ChildStep::kWaitForParent:
      return "the launcher stopped while setting up the cell";
    case ChildStep::kDescriptors:
      return absl::StrCat("cannot close the launcher's descriptors: ", error);
    case ChildStep::kMountPrivate:
      return absl::StrCat("cannot make the cell's mounts private: ", error,
                          userns_hint);
    case ChildStep::kMountRoot:
      return absl::StrCat("cannot mount the cell's root file system: ", error,
                          userns_hint);
    case ChildStep::kMount: {
      if (failure.index < 0 ||
          static_cast<size_t>(failure.index) >= plan.mounts.size()) {
        return absl::StrCat("mount failed: ", error);
      }
      const MountOp& op = plan.mounts[failure.index];
      std::string hint;
      if (failure.error == ENOTDIR || failure.error == ELOOP) {
        hint =
            "; a component of the destination inside the cell is a "
            "symlink or a file (mounts never follow symlinks)";
      } else if (failure.error == ENOENT) {
        hint = "; the source vanished after the spec was checked";
      } else if (failure.error == EEXIST) {
        hint = "; the destination already exists inside the cell";
      }
      return absl::StrCat("cannot set up ", DescribeMountOp(op), ": ", error,
                          hint);
    }
    case ChildStep::kPivotRoot:
      return absl::StrCat("cannot switch to the cell's root: ", error);
    case ChildStep::kLoopback:
      return absl::StrCat("cannot bring up the loopback interface: ", error);
    case ChildStep::kProxyListener:
      return absl::StrCat(
          "cannot listen on the cell's proxy port inside the cell: ", error,
          failure.error == EADDRINUSE || failure.error == EACCES
              ? "; choose another `network.port`"
              : "");
    case ChildStep::kChdir:
      return absl::StrCat("cannot enter ", plan.cwd,
                          " inside the cell: ", error);
    case ChildStep::kCapabilities:
      return absl::StrCat("cannot set the cell's capabilities: ", error);
    case ChildStep::kSignals:
      return absl::StrCat("cannot restore the signal mask: ", error);
    case ChildStep::kSeccomp:
      return absl::StrCat("cannot install the seccomp filter: ", error);
    case ChildStep::kReadOnlyRoot:
      return absl::StrCat("cannot make the cell's root read-only: ", error);
    case ChildStep::kLockMounts:
      return absl::StrCat("cannot lock the cell's mounts: ", error,
                          userns_hint);
    case ChildStep::kRlimit: {
      const std::string name =
          failure.index >= 0 &&
                  static_cast<size_t>(failure.index) < plan.rlimits.size()
              ? plan.rlimits[failure.index].name
              : "?";
      return absl::StrCat("cannot set field `limits.rlimits.", name,
                          "`: ", error);
    }
    case ChildStep::kTerminal:
      return absl::StrCat("cannot give the cell its own terminal (a pty of ",
                          "its /dev/pts): ", error);
    case ChildStep::kSession:
      return absl::StrCat("cannot start the cell's session: ", error);
    case ChildStep::kKernelMounts:
      return failure.error == EPERM
                 ? "refusing to start: a file system of the host's kernel "
                   "(proc, sysfs, ...) would be visible inside the cell; a "
                   "bind's source changed after the spec was checked, or "
                   "holds one that could not be masked. Nothing was run"
                 : absl::StrCat("cannot check the cell's mounts: ", error);
    case ChildStep::kSwitchUser:
      return absl::StrCat("cannot switch to the host user of `hostUser`: ",
                          error);
    case ChildStep::kFork:
      return absl::StrCat("cannot start the command under the cell's init: ",
                          error);
    case ChildStep::kExec: {
      const std::string& program = plan.argv.front();
      if (failure.error == ENOENT) {
        if (program.find('/') != std::string::npos) {
          return absl::StrCat("command '", program,
                              "' not found inside the cell");
        }
        std::string path;
        for (const std::string& entry : plan.env) {
          if (entry.rfind("PATH=", 0) == 0) path = entry.substr(5);
        }
        return absl::StrCat("command '", program,
                            "' not found inside the cell (PATH=", path,
                            "); bind the directory holding it with "
                            "--ro-bind or the spec's `mounts`, or set `path`");
      }
      const std::string candidate =
          failure.index >= 0 && static_cast<size_t>(failure.index) <
                                    plan.exec_candidates.size()
              ? plan.exec_candidates[failure.index]
              : program;
      return absl::StrCat("command '", candidate,
                          "' cannot be executed inside the cell: ", error);
    }
  }
  return absl::StrCat("cell setup failed: ", error);
}

}  // namespace cell
