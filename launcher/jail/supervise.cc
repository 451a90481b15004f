#include "launcher/jail/supervise.h"

#include <errno.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fs_util.h"
#include "launcher/jail/child.h"
#include "launcher/jail/traced_exit.h"

namespace cell {

absl::StatusOr<SignalBlock> SignalBlock::Create() {
  sigset_t blocked;
  sigemptyset(&blocked);
  for (const int signal_number : kForwardedSignals) {
    sigaddset(&blocked, signal_number);
  }
  sigaddset(&blocked, SIGCHLD);
  SignalBlock block;
  if (sigprocmask(SIG_BLOCK, &blocked, &block.old_mask_) != 0) {
    return ErrnoStatus(errno, "sigprocmask");
  }
  block.active_ = true;
  const int fd = signalfd(-1, &blocked, SFD_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "signalfd");
  block.fd_.Reset(fd);
  return block;
}

int WaitForChild(pid_t child, const SignalBlock& signals, ProxyEngine* proxy,
                 TerminalRelay* terminal) {
  const int proxy_fd = proxy != nullptr ? proxy->fd() : -1;
  // Readable when the child exits, even when a tracer in the cell hides
  // that exit from waitpid (traced_exit.h).
  const UniqueFd pidfd(OpenPidfd(child));
  while (true) {
    int status = 0;
    const pid_t done = waitpid(child, &status, WNOHANG);
    if (done == child) return status;
    if (done < 0 && errno != EINTR) return 0;
    pollfd events[5] = {{signals.fd(), POLLIN, 0},
                        {proxy_fd, POLLIN, 0},
                        {pidfd.get(), POLLIN, 0}};
    const int terminal_fds =
        terminal != nullptr ? terminal->PollFds(events + 3) : 0;
    if (poll(events, 3 + terminal_fds, -1) < 0) continue;
    if (events[1].revents != 0) proxy->HandleEvents();
    if (terminal_fds > 0) terminal->HandleEvents(events + 3, terminal_fds);
    if (events[2].revents != 0) {
      const pid_t reaped = waitpid(child, &status, WNOHANG);
      if (reaped == child) return status;
      if (reaped == 0) {
        // Exited, and traced by a process that does not reap it: the
        // status from /proc; the zombie goes with its tracer.
        return ZombieWaitStatus(child, &status) ? status : W_EXITCODE(125, 0);
      }
    }
    if (events[0].revents == 0) continue;
    signalfd_siginfo info;
    const ssize_t n = read(signals.fd(), &info, sizeof(info));
    if (n != sizeof(info)) continue;
    if (info.ssi_signo == SIGWINCH && terminal != nullptr) {
      // The pty's new size signals the cell's foreground job itself.
      terminal->Resize();
    } else if (info.ssi_signo != SIGCHLD) {
      kill(child, static_cast<int>(info.ssi_signo));
    }
  }
}

}  // namespace cell
