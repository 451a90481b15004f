// The child's failure report, read on the parent side: one line for the
// user naming what failed and how to fix it.
#include <sys/stat.h>

#include <cstring>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "base/fs_util.h"
#include "base/printable.h"
#include "launcher/jail/child.h"
#include "launcher/jail/interpreter.h"

namespace cell {
namespace {

// A field of the child's report: NUL-terminated within its array (not
// trusted to be), escaped, since it was read from a file in the cell.
std::string Field(const char (&field)[MissingInterpreter::kPathSize]) {
  const std::string text(field, strnlen(field, sizeof(field)));
  return text.empty() ? "'' (an empty path)" : Printable(text);
}

// "--ro-bind=/lib64" for /lib64/ld-linux-x86-64.so.2: the top directory of
// an absolute path the host has, so that binding it brings the path in.
// Empty when the host has nothing there either.
std::string BindExample(absl::string_view path) {
  if (!absl::StartsWith(path, "/")) return "";
  struct stat info;
  if (stat(std::string(path).c_str(), &info) != 0) return "";
  const size_t slash = path.find('/', 1);
  return absl::StrCat("--ro-bind=", path.substr(0, slash));
}

// One line for a command that exists but whose interpreter does not.
std::string DescribeMissingInterpreter(const std::string& program,
                                       const MissingInterpreter& missing) {
  std::string text =
      absl::StrCat("command '", Printable(program), "' exists inside the cell");
  if (missing.kind == InterpreterKind::kUnknown) {
    return absl::StrCat(
        text,
        " but cannot be started (exec says ENOENT): an interpreter it needs "
        "(the ELF interpreter of its PT_INTERP, the program of its #! line "
        "or a binfmt_misc handler) is missing inside the cell; bind it "
        "with --ro-bind or the spec's `mounts`");
  }
  const std::string path(missing.path,
                         strnlen(missing.path, sizeof(missing.path)));
  const std::string named_by(
      missing.named_by, strnlen(missing.named_by, sizeof(missing.named_by)));
  const std::string target(
      missing.link_target,
      strnlen(missing.link_target, sizeof(missing.link_target)));
  const bool elf = missing.kind == InterpreterKind::kElf;
  // "its ELF interpreter X", "its interpreter X (from its #! line)", or
  // the same of its interpreter Y when Y is what names X.
  if (named_by.empty()) {
    absl::StrAppend(&text, " but its ",
                    elf ? "ELF interpreter " : "interpreter ",
                    Field(missing.path), elf ? "" : " (from its #! line)");
  } else {
    absl::StrAppend(&text, " but the ",
                    elf ? "ELF interpreter " : "interpreter ",
                    Field(missing.path), elf ? "" : " (from the #! line)",
                    " of its interpreter ", Field(missing.named_by));
  }
  absl::StrAppend(&text, " does not");
  if (!target.empty()) {
    absl::StrAppend(&text, " (a symlink to ", Field(missing.link_target),
                    ", which is missing inside the cell)");
  }
  if (!elf && absl::EndsWith(path, "\r")) {
    // Not a path anyone means: a file saved with DOS line endings.
    return absl::StrCat(text,
                        "; its #! line ends in a carriage return (DOS line "
                        "endings): convert the file, e.g. with dos2unix");
  }
  std::string example = BindExample(path);
  if (!target.empty()) {
    // What the link points to is what must be bound (a relative target
    // is left to the reader).
    example = BindExample(target);
  }
  if (example.empty()) {
    return absl::StrCat(text,
                        elf ? "; bind it with --ro-bind or the spec's `mounts`"
                            : "; bind it with --ro-bind or the spec's "
                              "`mounts`, or correct the #! line");
  }
  return absl::StrCat(text, target.empty() ? "; bind it" : "; bind its target",
                      " (e.g. ", Printable(example),
                      ", or the spec's `mounts`), or give the cell the "
                      "host's userland with --preset=host");
}

}  // namespace

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
      if (failure.error == ENOENT &&
          failure.interpreter.kind != InterpreterKind::kNone) {
        const std::string candidate =
            failure.index >= 0 && static_cast<size_t>(failure.index) <
                                      plan.exec_candidates.size()
                ? plan.exec_candidates[failure.index]
                : program;
        return DescribeMissingInterpreter(candidate, failure.interpreter);
      }
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
