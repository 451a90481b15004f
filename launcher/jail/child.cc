#include "launcher/jail/child.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/fs_util.h"
#include "base/test_faults.h"
#include "launcher/jail/fd_passing.h"
#include "launcher/jail/mounts.h"
#include "launcher/jail/net.h"
#include "launcher/jail/seccomp.h"
#include "launcher/jail/traced_exit.h"

namespace cell {
namespace {

// --- Child side (between clone and exec): syscalls only. ---

[[noreturn]] void Fail(const ChildConfig& config, ChildStep step, int error,
                       int64_t index = 0,
                       const MissingInterpreter* interpreter = nullptr) {
  ChildFailure failure;
  failure.step = step;
  failure.error = error;
  failure.index = index;
  if (interpreter != nullptr) failure.interpreter = *interpreter;
  // A short write to a pipe of this size is atomic; nothing else to do if
  // the parent is gone.
  (void)!write(config.failure_fd, &failure, sizeof(failure));
  _exit(125);
}

// capabilities = all: every capability of the namespace stays effective
// across exec, also for a non-root uid, through the ambient set (which
// requires each to be permitted and inheritable first).
// capabilities = none: empty every set, including the bounding set so that
// even uid 0 gains nothing at exec, and set no_new_privs.
int SetCapabilities(bool keep, int cap_last) {
  __user_cap_header_struct header;
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0;
  __user_cap_data_struct data[2];
  if (syscall(SYS_capget, &header, data) != 0) return errno;
  if (keep) {
    data[0].inheritable = data[0].permitted;
    data[1].inheritable = data[1].permitted;
    if (syscall(SYS_capset, &header, data) != 0) return errno;
    for (int cap = 0; cap <= cap_last; ++cap) {
      const bool permitted = (data[cap / 32].permitted >> (cap % 32)) & 1;
      if (!permitted) continue;
      if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) {
        return errno;
      }
    }
    return 0;
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
    return errno;
  }
  for (int cap = 0; cap <= cap_last; ++cap) {
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
      return errno;
    }
  }
  std::memset(data, 0, sizeof(data));
  if (syscall(SYS_capset, &header, data) != 0) return errno;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno;
  return 0;
}

// close_range(2) where the kernel has it (5.9, CLOEXEC flag 5.11), else one
// fcntl per possible descriptor up to the soft limit.
int MarkInheritedCloseOnExec(int max_fds) {
  if (TestFault(fault::kKeepDescriptors)) return 0;
  if (syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC) == 0) return 0;
  for (int fd = 3; fd < max_fds; ++fd) {
    const int flags = fcntl(fd, F_GETFD);
    if (flags >= 0 && fcntl(fd, F_SETFD, flags | FD_CLOEXEC) != 0) {
      return errno;
    }
  }
  return 0;
}

void CloseFrom(int first, int max_fds) {
  if (syscall(SYS_close_range, static_cast<unsigned>(first), ~0u, 0) == 0) {
    return;
  }
  for (int fd = first; fd < max_fds; ++fd) close(fd);
}

// Becomes the cell's user (its ids are mapped; the supplementary groups
// were set by the launcher before the clone, and the map denies setgroups).
// Changing the effective uid clears the parent-death signal and the
// dumpable flag: both are set again, and a launcher that died in between
// (its pidfd readable) ends the child here.
int SwitchToCellUser(const ChildConfig& config) {
  if (setresgid(config.cell_gid, config.cell_gid, config.cell_gid) != 0 ||
      setresuid(config.cell_uid, config.cell_uid, config.cell_uid) != 0) {
    return errno;
  }
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) return errno;
  if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0) return errno;
  pollfd launcher = {config.launcher_pidfd, POLLIN, 0};
  if (poll(&launcher, 1, 0) != 0) _exit(125);
  close(config.launcher_pidfd);
  return 0;
}

volatile pid_t g_init_command_pid = 0;

void InitForwardSignal(int signal_number) {
  if (g_init_command_pid > 0) ForwardSignal(g_init_command_pid, signal_number);
}

// Only interrupts ppoll: the loop reaps.
void InitChildEnded(int) {}

// PID 1 of the cell's PID namespace: forwards signals to the command,
// reaps every orphan, and exits with the command's status (128+N for a
// signal: PID 1 cannot die of a signal it sends itself). When it exits the
// kernel kills everything left in the namespace. The command's exit is
// also seen through a pidfd, for when a tracer hides it (traced_exit.h).
[[noreturn]] void RunInit(const ChildConfig& config, pid_t command) {
  g_init_command_pid = command;
  struct sigaction action;
  std::memset(&action, 0, sizeof(action));
  action.sa_handler = InitForwardSignal;
  sigemptyset(&action.sa_mask);
  for (const int signal_number : kForwardedSignals) {
    sigaction(signal_number, &action, nullptr);
  }
  action.sa_handler = InitChildEnded;
  sigaction(SIGCHLD, &action, nullptr);
  // SIGCHLD only inside ppoll, so that none is lost between a reap and
  // the wait.
  sigset_t running = config.restore_mask;
  sigaddset(&running, SIGCHLD);
  sigset_t waiting = config.restore_mask;
  sigdelset(&waiting, SIGCHLD);
  sigprocmask(SIG_SETMASK, &running, nullptr);
  const int pidfd = OpenPidfd(command);
  while (true) {
    int status = 0;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      if (pid == command) _exit(ExitCodeOf(status));
    }
    if (pid < 0 && errno == ECHILD) _exit(125);
    pollfd event = {pidfd, POLLIN, 0};
    if (ppoll(&event, pidfd >= 0 ? 1 : 0, nullptr, &waiting) <= 0) continue;
    pid = waitpid(command, &status, WNOHANG);
    if (pid == command) _exit(ExitCodeOf(status));
    if (pid == 0) {
      // The command exited and a tracer keeps it from us. Everything else
      // in the namespace ends now rather than when the init exits: the
      // tracer's end hands the command's exit back to its parent.
      kill(-1, SIGKILL);
      while ((pid = waitpid(command, &status, 0)) < 0 && errno == EINTR) {
      }
      _exit(pid == command ? ExitCodeOf(status) : 125);
    }
  }
}

// Waits for the launcher's go (the id maps are written), dying with it.
void AwaitParent(const ChildConfig& config) {
  // Die with the launcher, however it dies. Set before waiting for the
  // parent: if it is already gone, the read below sees end-of-file.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) {
    Fail(config, ChildStep::kParentDeathSignal, errno);
  }
  char go = 0;
  while (read(config.sync_fd, &go, 1) < 0 && errno == EINTR) {
  }
  if (go != 1) _exit(125);  // The parent failed or died; it reports.
  close(config.sync_fd);
  // Nothing the launcher inherited may reach the command: an fd to a host
  // directory would let it openat() its way out of the mount namespace.
  // Close-on-exec, because the failure pipe and the listener channel are
  // still needed until exec.
  if (const int error = MarkInheritedCloseOnExec(config.max_fds); error != 0) {
    Fail(config, ChildStep::kDescriptors, error);
  }
  if (TestFault(fault::kLeakHostDirectory)) {
    // The host's / still, before the pivot: the leak runc's CVE-2024-21626
    // was made of.
    (void)open("/", O_PATH | O_DIRECTORY);
  }
}

// The new root: mounted, the user switched, pivoted into, read-only when
// asked. From here on the child holds every capability of its user
// namespace.
void BuildRoot(const ChildConfig& config) {
  const CellPlan& plan = *config.plan;
  MountFailure mount_failure;
  int root_fd = -1;
  const bool prepared =
      PrepareNewRoot(config.new_root.c_str(), config.cell_uid, config.cell_gid,
                     &root_fd, &mount_failure) == 0;
  // As the cell's user from here on, when the launcher (root) runs it as
  // another: the binds are opened with that user's rights.
  if (prepared && config.switch_user) {
    if (const int error = SwitchToCellUser(config); error != 0) {
      Fail(config, ChildStep::kSwitchUser, error);
    }
  }
  if (!prepared || !ApplyMountOps(root_fd, plan.mounts, &mount_failure)) {
    if (mount_failure.index == kMountStepPrivate) {
      Fail(config, ChildStep::kMountPrivate, mount_failure.error);
    }
    if (mount_failure.index == kMountStepRoot) {
      Fail(config, ChildStep::kMountRoot, mount_failure.error);
    }
    Fail(config, ChildStep::kMount, mount_failure.error,
         static_cast<int64_t>(mount_failure.index));
  }
  if (const int error = PivotInto(root_fd); error != 0) {
    Fail(config, ChildStep::kPivotRoot, error);
  }
  if (const int error = CheckNoHostKernelMounts(); error != 0) {
    Fail(config, ChildStep::kKernelMounts, error);
  }
  close(root_fd);
  if (plan.read_only_root) {
    if (const int error = RemountRootReadOnly(); error != 0) {
      Fail(config, ChildStep::kReadOnlyRoot, error);
    }
  }
}

// Loopback up, the proxy listener and the pty master handed to the
// launcher. Returns the pty's slave (-1 without a terminal).
int HandOverEndpoints(const ChildConfig& config) {
  // (The host's loopback, shared under the fault, is up already.)
  if (!TestFault(fault::kShareNetworkNamespace)) {
    if (const int error = BringUpLoopback(); error != 0) {
      Fail(config, ChildStep::kLoopback, error);
    }
  }
  if (config.listener_channel_fd >= 0) {
    if (const int error =
            SendProxyListener(config.listener_channel_fd, config.proxy_port);
        error != 0) {
      Fail(config, ChildStep::kProxyListener, error);
    }
  }
  // The cell's own pty, in its devpts; the launcher relays it.
  int slave = -1;
  if (config.terminal.enabled) {
    int master = -1;
    if (const int error = OpenCellPty(config.terminal, &master, &slave);
        error != 0) {
      Fail(config, ChildStep::kTerminal, error);
    }
    const int error = SendFd(config.terminal_channel_fd, master);
    close(master);
    close(config.terminal_channel_fd);
    if (error != 0) Fail(config, ChildStep::kTerminal, error);
  }
  return slave;
}

// Puts the init out of the command's reach: a command with every
// capability of the cell's user namespace could otherwise ptrace the init
// and make it exit with any status (the launcher would report that as the
// command's), or stop it. The init never execs, so its memory belongs to
// the host's user namespace, where the command has no capability;
// non-dumpable, it then refuses ptrace and /proc/1/* to the command.
void SealInit() {
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) _exit(125);
}

// With a PID namespace: forks the command, and this process becomes the
// cell's init (never returns there). The mounts are locked against the
// command when it keeps CAP_SYS_ADMIN: by the init, or here without one.
void SplitInitAndLockMounts(const ChildConfig& config, int slave) {
  const CellPlan& plan = *config.plan;
  // Only a command that keeps CAP_SYS_ADMIN over the cell's mount namespace
  // could remount; without it the lock is not needed, and would hand the
  // command (as owner of the nested user namespace) the mount rights it lost.
  const bool lock_mounts = plan.keep_capabilities;
  if (!plan.pid_namespace) {
    if (!lock_mounts) return;
    if (const int error = LockMounts(); error != 0) {
      Fail(config, ChildStep::kLockMounts, error);
    }
    return;
  }
  // The init is the lock's holder (it needs nothing of the cell's user
  // namespace), so the command is PID 2 and no helper runs. `locked`
  // carries the init's unshare result, then its seal; `joined` the
  // command's join (see SealInit).
  int locked[2] = {-1, -1};
  int joined[2] = {-1, -1};
  if (lock_mounts &&
      (pipe2(locked, O_CLOEXEC) != 0 || pipe2(joined, O_CLOEXEC) != 0)) {
    Fail(config, ChildStep::kLockMounts, errno);
  }
  const pid_t command = fork();
  if (command < 0) Fail(config, ChildStep::kFork, errno);
  if (command > 0) {
    // Only the command holds the failure pipe from here on, so the
    // launcher sees end-of-file exactly when the command is exec'd. The
    // init never execs: it closes every other inherited fd itself.
    close(config.failure_fd);
    // The init must not keep the caller's terminal either: the command
    // could make it act for it.
    if (StartCellSession(config.terminal, slave, ControllingTerminal::kNone) !=
        0) {
      _exit(125);
    }
    if (lock_mounts) {
      const int error = UnshareLockedMounts();
      (void)!write(locked[1], &error, sizeof(error));
      // The command joins the locked namespace through the init's
      // /proc entry, which sealing closes: wait for it (or its end).
      close(joined[1]);
      char byte;
      (void)!read(joined[0], &byte, 1);
    }
    SealInit();
    if (lock_mounts) {
      const char sealed = 1;
      (void)!write(locked[1], &sealed, 1);
    }
    if (config.command_channel_fd >= 0) {
      const int pidfd = OpenPidfd(command);
      if (pidfd >= 0) (void)SendFd(config.command_channel_fd, pidfd);
    }
    CloseFrom(3, config.max_fds);
    RunInit(config, command);
  }
  if (lock_mounts) {
    close(locked[1]);
    close(joined[0]);
    int error = 0;
    if (read(locked[0], &error, sizeof(error)) != sizeof(error)) error = EIO;
    if (error == 0) error = JoinMountNamespaceOf(1);
    (void)!write(joined[1], "j", 1);
    close(joined[1]);
    // Nothing of the command runs until the init is sealed.
    char sealed = 0;
    if (error == 0 && read(locked[0], &sealed, 1) != 1) error = EIO;
    close(locked[0]);
    if (error != 0) Fail(config, ChildStep::kLockMounts, error);
  }
}

// The command's process only: its cwd, session, rlimits (an init limited
// to a few descriptors or processes could not reap or forward signals),
// capabilities, signals and, last, the seccomp filter (so that the steps
// before may still use what it denies).
void BecomeCommand(const ChildConfig& config, int slave) {
  const CellPlan& plan = *config.plan;
  // After the lock, which resets the working directory.
  if (chdir(plan.cwd.c_str()) != 0) Fail(config, ChildStep::kChdir, errno);
  if (const int error =
          StartCellSession(config.terminal, slave, ControllingTerminal::kTake);
      error != 0) {
    Fail(config, ChildStep::kSession, error);
  }
  for (size_t i = 0; i < plan.rlimits.size(); ++i) {
    const rlimit limit = {plan.rlimits[i].value, plan.rlimits[i].value};
    if (setrlimit(plan.rlimits[i].resource, &limit) != 0) {
      Fail(config, ChildStep::kRlimit, errno, static_cast<int64_t>(i));
    }
  }
  if (const int error =
          SetCapabilities(plan.keep_capabilities, config.cap_last);
      error != 0) {
    Fail(config, ChildStep::kCapabilities, error);
  }
  struct sigaction default_action;
  std::memset(&default_action, 0, sizeof(default_action));
  default_action.sa_handler = SIG_DFL;
  for (const int signal_number : kForwardedSignals) {
    sigaction(signal_number, &default_action, nullptr);
  }
  sigaction(SIGPIPE, &default_action, nullptr);
  sigaction(SIGXFSZ, &default_action, nullptr);
  sigaction(SIGCHLD, &default_action, nullptr);
  if (sigprocmask(SIG_SETMASK, &config.restore_mask, nullptr) != 0) {
    Fail(config, ChildStep::kSignals, errno);
  }
  if (config.seccomp_program != nullptr) {
    if (const int error = InstallSeccompFilter(*config.seccomp_program);
        error != 0) {
      Fail(config, ChildStep::kSeccomp, error);
    }
  }
}

// Like execvp, but over the plan's PATH (execvp would read the launcher's
// own PATH): ENOENT moves on, and the first other error is what counts.
// So does the first ENOENT of a candidate that exists: then its
// interpreter (ELF or #!) is what is missing, and the report names it.
[[noreturn]] void Exec(const ChildConfig& config) {
  const CellPlan& plan = *config.plan;
  int error = ENOENT;
  int64_t failed = 0;
  bool found = false;
  for (size_t i = 0; i < plan.exec_candidates.size(); ++i) {
    const char* candidate = plan.exec_candidates[i].c_str();
    execve(candidate, config.argv.data(), config.envp.data());
    const int exec_error = errno;
    if (found || exec_error == ENOTDIR) continue;
    if (exec_error != ENOENT) {
      error = exec_error;
    } else if (faccessat(AT_FDCWD, candidate, F_OK, 0) != 0) {
      continue;
    }
    found = true;
    failed = static_cast<int64_t>(i);
  }
  if (found && error == ENOENT) {
    MissingInterpreter interpreter;
    FindMissingInterpreter(plan.exec_candidates[failed].c_str(), &interpreter);
    Fail(config, ChildStep::kExec, error, failed, &interpreter);
  }
  Fail(config, ChildStep::kExec, error, failed);
}

}  // namespace

// The child's setup, in order (each step fails through Fail, which reports
// (step, errno) to the launcher and exits).
void RunChild(const ChildConfig& config) {
  AwaitParent(config);
  BuildRoot(config);
  const int slave = HandOverEndpoints(config);
  SplitInitAndLockMounts(config, slave);
  BecomeCommand(config, slave);
  Exec(config);
}

}  // namespace cell
