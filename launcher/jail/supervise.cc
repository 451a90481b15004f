#include "launcher/jail/supervise.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

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

namespace {

// The command (under the cell's init) ended. Normally the init reaps it
// and exits with its status at once; should the init not (it is sealed
// against the command, but the launcher does not rely on that), the
// command's status comes from /proc while it is a zombie, else the init,
// continued, has it. Ending the init ends the namespace. Every descriptor
// it needs was opened before the cell could use up the launcher's.
// Reaps `pid` if it exits within `ms` (its pidfd says when).
bool ReapWithin(pid_t pid, int pidfd, int ms, int* status) {
  pollfd event = {pidfd, POLLIN, 0};
  return poll(&event, 1, ms) > 0 && waitpid(pid, status, WNOHANG) == pid;
}

int EndWithCommand(pid_t init, int init_pidfd, int init_stat_fd,
                   int command_stat_fd) {
  int status = 0;
  const bool known = ZombieWaitStatusAt(command_stat_fd, &status);
  if (!known) {
    kill(init, SIGCONT);
    if (ReapWithin(init, init_pidfd, 2000, &status)) return status;
  }
  kill(init, SIGKILL);
  // Bounded: an init that waits for a process the cell froze (a cgroup
  // v1 freezer it mounted) never finishes dying; the run must end anyway.
  int init_status = 0;
  if (ReapWithin(init, init_pidfd, 5000, &init_status)) {
    return known ? status : init_status;
  }
  std::fprintf(stderr,
               "cell: warning: the cell's init (pid %d) does not end; a "
               "process of the cell may be frozen. It is left behind.\n",
               static_cast<int>(init));
  // The init's own exit status (the command's) is set once it exits.
  if (!known && ExitingWaitStatusAt(init_stat_fd, &status)) return status;
  return known ? status : W_EXITCODE(125, 0);
}

}  // namespace

int WaitForChild(pid_t child, int command_pidfd, const SignalBlock& signals,
                 ProxyEngine* proxy, TerminalRelay* terminal,
                 uint64_t* received) {
  const int proxy_fd = proxy != nullptr ? proxy->fd() : -1;
  // Readable when the child exits, even when a tracer in the cell hides
  // that exit from waitpid (traced_exit.h). Opened now, with the stat
  // files that give the status then: the cell may hold every descriptor
  // the launcher has left by the time they are needed.
  const UniqueFd pidfd(OpenPidfd(child));
  const UniqueFd child_stat(OpenStatFile(child));
  const UniqueFd command_stat(
      command_pidfd >= 0 ? OpenStatFile(PidOfPidfd(command_pidfd)) : -1);
  while (true) {
    int status = 0;
    const pid_t done = waitpid(child, &status, WNOHANG);
    if (done == child) return status;
    // ECHILD: the child was reaped elsewhere (SIGCHLD ignored); its status
    // is lost, which must not read as success.
    if (done < 0 && errno != EINTR) return W_EXITCODE(125, 0);
    pollfd events[6] = {{signals.fd(), POLLIN, 0},
                        {proxy_fd, POLLIN, 0},
                        {pidfd.get(), POLLIN, 0},
                        {command_pidfd, POLLIN, 0}};
    const int terminal_fds =
        terminal != nullptr ? terminal->PollFds(events + 4) : 0;
    if (poll(events, 4 + terminal_fds, -1) < 0) continue;
    if (events[1].revents != 0) proxy->HandleEvents();
    if (terminal_fds > 0) terminal->HandleEvents(events + 4, terminal_fds);
    if (events[3].revents != 0 && waitpid(child, &status, WNOHANG) != child) {
      return EndWithCommand(child, pidfd.get(), child_stat.get(),
                            command_stat.get());
    }
    if (events[3].revents != 0) return status;
    if (events[2].revents != 0) {
      const pid_t reaped = waitpid(child, &status, WNOHANG);
      if (reaped == child) return status;
      if (reaped == 0) {
        // Exited, and traced by a process that does not reap it: the
        // status from /proc; the zombie goes with its tracer.
        return ZombieWaitStatusAt(child_stat.get(), &status)
                   ? status
                   : W_EXITCODE(125, 0);
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
      ForwardSignal(child, static_cast<int>(info.ssi_signo));
      if (info.ssi_signo < 64) *received |= uint64_t{1} << info.ssi_signo;
    }
  }
}

}  // namespace cell
