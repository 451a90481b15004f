#include "testing/pty_session.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/time/clock.h"

namespace cell::testing {

absl::StatusOr<PtySession> PtySession::Start(
    const std::vector<std::string>& argv, const std::vector<std::string>& env,
    const std::string& cwd, int rows, int cols) {
  // Prepared before the fork: the child only execs.
  std::vector<char*> args;
  for (const std::string& arg : argv)
    args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& entry : env)
    envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);
  winsize size{};
  size.ws_row = static_cast<unsigned short>(rows);
  size.ws_col = static_cast<unsigned short>(cols);
  int master = -1;
  // forkpty: setsid, the slave as controlling terminal and fds 0, 1, 2.
  const pid_t pid = forkpty(&master, nullptr, nullptr, &size);
  if (pid < 0) return absl::InternalError("forkpty failed");
  if (pid == 0) {
    if (chdir(cwd.c_str()) != 0) _exit(126);
    execve(args[0], args.data(), envp.data());
    const char message[] = "PtySession: execve failed\n";
    (void)!write(2, message, sizeof(message) - 1);
    _exit(127);
  }
  fcntl(master, F_SETFD, FD_CLOEXEC);
  return PtySession(pid, master);
}

PtySession::PtySession(PtySession&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      master_(std::exchange(other.master_, -1)),
      output_(std::move(other.output_)),
      consumed_(other.consumed_) {}

PtySession::~PtySession() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (master_ >= 0) close(master_);
}

void PtySession::Send(const std::string& keys) {
  size_t written = 0;
  while (written < keys.size()) {
    const ssize_t n =
        write(master_, keys.data() + written, keys.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    written += static_cast<size_t>(n);
  }
}

bool PtySession::ReadSome(absl::Duration timeout) {
  pollfd event = {master_, POLLIN, 0};
  const int ready =
      poll(&event, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  if (ready <= 0) return true;
  char buffer[4096];
  const ssize_t n = read(master_, buffer, sizeof(buffer));
  if (n < 0 && errno == EINTR) return true;
  if (n <= 0) return false;  // EIO: no process holds the slave any more.
  output_.append(buffer, static_cast<size_t>(n));
  return true;
}

bool PtySession::WaitFor(const std::string& text, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    const size_t at = output_.find(text, consumed_);
    if (at != std::string::npos) {
      consumed_ = at + text.size();
      return true;
    }
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    if (!ReadSome(std::min(left, absl::Milliseconds(100)))) {
      return output_.find(text, consumed_) != std::string::npos;
    }
  }
}

void PtySession::Resize(int rows, int cols) {
  winsize size{};
  size.ws_row = static_cast<unsigned short>(rows);
  size.ws_col = static_cast<unsigned short>(cols);
  ioctl(master_, TIOCSWINSZ, &size);
}

termios PtySession::Settings() const {
  termios settings{};
  tcgetattr(master_, &settings);
  return settings;
}

int PtySession::Wait(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  int status = 0;
  while (true) {
    const pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) break;
    if (absl::Now() >= deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    ReadSome(absl::Milliseconds(20));
  }
  pid_ = -1;
  // What it wrote before exiting.
  while (ReadSome(absl::Milliseconds(50))) {
    pollfd event = {master_, POLLIN, 0};
    if (poll(&event, 1, 0) <= 0) break;
  }
  return status;
}

}  // namespace cell::testing
