// The run's event loop, host side after the clone: signals arrive on a
// signalfd and go on to the command; the proxy engine and the cell's
// terminal are served from the same loop until the command ends.
#ifndef CELL_LAUNCHER_JAIL_SUPERVISE_H_
#define CELL_LAUNCHER_JAIL_SUPERVISE_H_

#include <signal.h>
#include <sys/types.h>

#include <cstdint>
#include <utility>

#include "absl/status/statusor.h"
#include "base/unique_fd.h"
#include "launcher/jail/terminal.h"
#include "launcher/proxy/engine.h"

namespace cell {

// Blocks the forwarded signals and SIGCHLD for the launcher's lifetime (they
// arrive through a signalfd instead), restoring the old mask on scope exit.
class SignalBlock {
 public:
  static absl::StatusOr<SignalBlock> Create();
  SignalBlock(SignalBlock&& other) noexcept
      : old_mask_(other.old_mask_),
        fd_(std::move(other.fd_)),
        active_(std::exchange(other.active_, false)) {}
  ~SignalBlock() {
    if (active_) sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
  }
  const sigset_t& old_mask() const { return old_mask_; }
  int fd() const { return fd_.get(); }

 private:
  SignalBlock() = default;
  sigset_t old_mask_;
  UniqueFd fd_;
  bool active_ = false;
};

// Waits for `child` to exit, forwarding signals from `signals` to it and
// serving `proxy` and the cell's `terminal` (either may be null)
// meanwhile. Returns the wait status. With a PID namespace `child` is the
// cell's init and `command_pidfd` the command (else -1): the run ends with
// the command even when the init cannot end it (a tracer stopped it).
// `received` gets bit N for each signal N the launcher received and
// forwarded.
int WaitForChild(pid_t child, int command_pidfd, const SignalBlock& signals,
                 ProxyEngine* proxy, TerminalRelay* terminal,
                 uint64_t* received);

}  // namespace cell

#endif  // CELL_LAUNCHER_JAIL_SUPERVISE_H_
