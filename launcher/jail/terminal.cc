#include "launcher/jail/terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <utility>

#include "base/fs_util.h"
#include "base/test_faults.h"

namespace cell {

// --- Child side: syscalls only. ---

int OpenCellPty(const TerminalConfig& config, int* master, int* slave) {
  // The cell's own devpts instance (mounted with newinstance): its ptys
  // are not the host's, and ttyname() inside names them.
  const int ptm = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (ptm < 0) return errno;
  int unlock = 0;
  int pts = -1;
  if (ioctl(ptm, TIOCSPTLCK, &unlock) == 0) {
    // TIOCGPTPEER opens the slave without a path lookup (Linux 4.13).
    pts = ioctl(ptm, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (pts < 0 && errno == EINVAL) {
      unsigned number = 0;
      if (ioctl(ptm, TIOCGPTN, &number) == 0) {
        char path[32];
        std::snprintf(path, sizeof(path), "/dev/pts/%u", number);
        pts = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
      }
    }
  }
  if (pts < 0 || tcsetattr(pts, TCSANOW, &config.settings) != 0 ||
      ioctl(pts, TIOCSWINSZ, &config.size) != 0) {
    const int error = errno;
    if (pts >= 0) close(pts);
    close(ptm);
    return error;
  }
  *master = ptm;
  *slave = pts;
  return 0;
}

int StartCellSession(const TerminalConfig& config, int slave,
                     ControllingTerminal controlling) {
  // A new session: the caller's terminal is no longer this process's
  // controlling terminal, so TIOCSTI on it (which needs exactly that) and
  // /dev/tty no longer reach it.
  if (TestFault(fault::kCallerTerminal)) return 0;
  if (setsid() < 0) return errno;
  if (slave < 0) return 0;
  if (controlling == ControllingTerminal::kTake &&
      ioctl(slave, TIOCSCTTY, 0) != 0) {
    return errno;
  }
  for (int fd = 0; fd < 3; ++fd) {
    if (config.is_terminal[fd] && fd != slave && dup2(slave, fd) < 0) {
      return errno;
    }
  }
  if (slave > 2) close(slave);
  return 0;
}

// --- Parent side. ---

std::optional<CallerTerminal> CallerTerminal::Detect() {
  CallerTerminal terminal;
  TerminalConfig& config = terminal.config_;
  int first = -1;
  for (int fd = 0; fd < 3; ++fd) {
    config.is_terminal[fd] = isatty(fd) == 1;
    if (config.is_terminal[fd] && first < 0) first = fd;
  }
  if (first < 0) return std::nullopt;
  config.enabled = true;
  if (tcgetattr(first, &config.settings) != 0) {
    // A terminal that will not say: the pty keeps its own defaults.
    config.settings = termios{};
    config.settings.c_iflag = ICRNL | IXON;
    config.settings.c_oflag = OPOST | ONLCR;
    config.settings.c_cflag = CS8 | CREAD;
    config.settings.c_lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | IEXTEN;
    cfsetspeed(&config.settings, B38400);
  }
  config.size = terminal.CurrentSize();
  return terminal;
}

CallerTerminal::CallerTerminal(CallerTerminal&& other) noexcept
    : config_(other.config_), raw_(std::exchange(other.raw_, false)) {}

CallerTerminal::~CallerTerminal() {
  if (raw_) tcsetattr(0, TCSADRAIN, &config_.settings);
}

int CallerTerminal::output_fd() const {
  for (const int fd : {1, 2, 0}) {
    if (config_.is_terminal[fd]) return fd;
  }
  return -1;
}

winsize CallerTerminal::CurrentSize() const {
  winsize size{};
  for (const int fd : {0, 1, 2}) {
    if (config_.is_terminal[fd] && ioctl(fd, TIOCGWINSZ, &size) == 0 &&
        size.ws_row > 0) {
      return size;
    }
  }
  size.ws_row = 24;
  size.ws_col = 80;
  return size;
}

absl::Status CallerTerminal::EnterRawMode() {
  if (!config_.is_terminal[0]) return absl::OkStatus();
  // What is restored is what stdin has now, not what Detect() read from
  // the first terminal.
  termios current;
  if (tcgetattr(0, &current) != 0) return ErrnoStatus(errno, "tcgetattr");
  termios raw = current;
  cfmakeraw(&raw);
  if (tcsetattr(0, TCSADRAIN, &raw) != 0) {
    return ErrnoStatus(errno, "tcsetattr");
  }
  config_.settings = current;
  raw_ = true;
  return absl::OkStatus();
}

absl::StatusOr<TerminalRelay> TerminalRelay::Create(
    UniqueFd master, const CallerTerminal& caller) {
  const int flags = fcntl(master.get(), F_GETFL);
  if (flags < 0 || fcntl(master.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
    return ErrnoStatus(errno, "the cell's pty");
  }
  return TerminalRelay(std::move(master), caller);
}

TerminalRelay::TerminalRelay(UniqueFd master, const CallerTerminal& caller)
    : master_(std::move(master)),
      caller_(&caller),
      input_fd_(caller.input_fd()),
      output_fd_(caller.output_fd()),
      buffer_(64 << 10) {}

int TerminalRelay::PollFds(pollfd* fds) const {
  if (!master_open_) return 0;
  int count = 0;
  // Read what the caller types only once the pty took the last of it.
  if (input_fd_ >= 0 && pending_input_.empty()) {
    fds[count++] = {input_fd_, POLLIN, 0};
  }
  fds[count++] = {
      master_.get(),
      static_cast<short>(POLLIN | (pending_input_.empty() ? 0 : POLLOUT)), 0};
  return count;
}

void TerminalRelay::HandleEvents(const pollfd* fds, int count) {
  for (int i = 0; i < count; ++i) {
    if (fds[i].revents == 0) continue;
    if (fds[i].fd == master_.get()) {
      if (fds[i].revents & POLLOUT) FlushInput();
      if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) ReadMaster();
    } else if (fds[i].fd == input_fd_) {
      ReadInput();
    }
  }
}

void TerminalRelay::Resize() {
  const winsize size = caller_->CurrentSize();
  ioctl(master_.get(), TIOCSWINSZ, &size);
}

void TerminalRelay::Drain() {
  // Non-blocking: whatever a leftover process still writes is not waited
  // for.
  while (master_open_ && ReadMaster()) {
  }
}

bool TerminalRelay::ReadMaster() {
  const ssize_t n = read(master_.get(), buffer_.data(), buffer_.size());
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return false;
  if (n <= 0) {
    // EIO: no slave is open any more (the cell's processes are gone or
    // closed it).
    master_open_ = false;
    return false;
  }
  size_t written = 0;
  while (output_fd_ >= 0 && written < static_cast<size_t>(n)) {
    const ssize_t w = write(output_fd_, buffer_.data() + written,
                            static_cast<size_t>(n) - written);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      // The caller's terminal is gone: keep reading the pty so that the
      // cell never blocks on it, and drop what it writes.
      output_fd_ = -1;
      break;
    }
    written += static_cast<size_t>(w);
  }
  return true;
}

void TerminalRelay::ReadInput() {
  const ssize_t n = read(input_fd_, buffer_.data(), buffer_.size());
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    input_fd_ = -1;  // Hung up or closed: nothing more to relay.
    return;
  }
  // The keys that would have signalled the caller's foreground job (its
  // saved mode; raw mode passes them on as bytes): noted, so that a
  // command that dies of that signal ends the launcher the same way, and a
  // shell loop stops at one Ctrl-C.
  const termios& mode = caller_->config().settings;
  if ((mode.c_lflag & ISIG) != 0) {
    for (ssize_t i = 0; i < n; ++i) {
      const cc_t key = static_cast<cc_t>(buffer_[static_cast<size_t>(i)]);
      if (key == _POSIX_VDISABLE) continue;
      if (key == mode.c_cc[VINTR]) typed_signals_ |= uint64_t{1} << SIGINT;
      if (key == mode.c_cc[VQUIT]) typed_signals_ |= uint64_t{1} << SIGQUIT;
    }
  }
  pending_input_.append(buffer_.data(), static_cast<size_t>(n));
  FlushInput();
}

void TerminalRelay::FlushInput() {
  while (!pending_input_.empty()) {
    const ssize_t n =
        write(master_.get(), pending_input_.data(), pending_input_.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;  // Poll for POLLOUT.
    if (n <= 0) {
      pending_input_.clear();
      return;
    }
    pending_input_.erase(0, static_cast<size_t>(n));
  }
}

}  // namespace cell
