// The cell's first process: everything between clone and exec, as one
// ordered list of steps (nsjail's initNs, bubblewrap's setup ops). Runs in
// the child, in the new namespaces, so it only makes syscalls over data
// prepared by the parent; a failing step writes a ChildFailure to the
// failure pipe and exits, and the parent turns it into one clear error.
#ifndef CELL_LAUNCHER_JAIL_CHILD_H_
#define CELL_LAUNCHER_JAIL_CHILD_H_

#include <limits.h>
#include <linux/filter.h>
#include <signal.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "launcher/jail/interpreter.h"
#include "launcher/jail/terminal.h"
#include "launcher/spec/plan.h"

namespace cell {

// Signals the launcher forwards to the command (and the PID-namespace init
// forwards on): the ones a user or supervisor sends to stop or poke a job.
inline constexpr int kForwardedSignals[] = {SIGINT,  SIGTERM, SIGHUP,  SIGQUIT,
                                            SIGUSR1, SIGUSR2, SIGWINCH};

// Forwards `signal_number` to `pid`, and for the signals that ask a
// process to end, SIGCONT after it (as a shell's `kill` does for a stopped
// job): a stopped command would otherwise keep them pending and the run
// alive. Async-signal-safe (the init calls it from a handler).
inline void ForwardSignal(pid_t pid, int signal_number) {
  kill(pid, signal_number);
  if (signal_number == SIGINT || signal_number == SIGTERM ||
      signal_number == SIGHUP || signal_number == SIGQUIT) {
    kill(pid, SIGCONT);
  }
}

enum class ChildStep : int32_t {
  kParentDeathSignal = 1,
  kWaitForParent,
  kDescriptors,
  kMountPrivate,
  kMountRoot,
  kMount,
  kPivotRoot,
  kLoopback,
  kProxyListener,
  kChdir,
  kCapabilities,
  kSignals,
  kFork,
  kExec,
  kSeccomp,
  kReadOnlyRoot,
  kRlimit,
  kLockMounts,
  kTerminal,
  kSession,
  kSwitchUser,
  kKernelMounts,
};

// Written by the child to the failure pipe; the pipe is close-on-exec, so
// end-of-file without one of these means the command was exec'd. One
// write of at most PIPE_BUF bytes, so the parent reads it whole.
struct ChildFailure {
  ChildStep step = ChildStep::kExec;
  int32_t error = 0;  // errno
  int64_t index = 0;  // Mount op or exec candidate, where it applies.
  // kExec with ENOENT for a candidate that exists: the interpreter it
  // needs that does not (kind kNone when no candidate existed).
  MissingInterpreter interpreter;
};
static_assert(sizeof(ChildFailure) <= PIPE_BUF,
              "the failure report must be one atomic pipe write");

struct ChildConfig {
  const CellPlan* plan = nullptr;
  std::string new_root;     // Mount point of the new root tmpfs.
  std::vector<char*> argv;  // nullptr-terminated, into plan->argv.
  std::vector<char*> envp;  // nullptr-terminated, into plan->env.
  int sync_fd = -1;         // Read end: one byte once the id maps are written.
  int failure_fd = -1;      // Write end, O_CLOEXEC.
  sigset_t restore_mask;    // The launcher's mask before it blocked signals.
  int cap_last = 40;        // /proc/sys/kernel/cap_last_cap.
  // The cell's host ids (mapped 1:1). With switch_user the child (root
  // until then) becomes them after mounting the new root; launcher_pidfd
  // then tells whether the launcher died meanwhile.
  uid_t cell_uid = 0;
  gid_t cell_gid = 0;
  bool switch_user = false;
  int launcher_pidfd = -1;
  int max_fds = 1024;  // Soft RLIMIT_NOFILE, for the fd-closing fallback.
  // Proxy mode: the child's end of the channel for the listener, and the
  // port inside the cell; -1 / 0 otherwise.
  int listener_channel_fd = -1;
  int proxy_port = 0;
  // The caller's terminal, when it has one: the cell gets its own pty,
  // whose master is sent over `terminal_channel_fd`.
  TerminalConfig terminal;
  int terminal_channel_fd = -1;
  // With a PID namespace: the init sends a pidfd of the command over this
  // channel, so that the launcher sees the command end even when the init
  // cannot act (a tracer in the cell stopped it); -1 otherwise.
  int command_channel_fd = -1;
  // isolation.seccomp: the program to install last, built by the parent.
  const std::vector<sock_filter>* seccomp_program = nullptr;
};

// Never returns: execs the command or _exits. Must be called in a child
// created by clone with the plan's namespaces.
[[noreturn]] void RunChild(const ChildConfig& config);

// Parent side: one line for the user, naming what failed and how to fix it.
std::string DescribeChildFailure(const ChildFailure& failure,
                                 const CellPlan& plan);

}  // namespace cell

#endif  // CELL_LAUNCHER_JAIL_CHILD_H_
