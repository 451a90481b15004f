#include "base/subprocess.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

extern char** environ;

namespace cell {
namespace {

absl::Status ErrnoError(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (const std::string& s : strings) {
    pointers.push_back(const_cast<char*>(s.c_str()));
  }
  pointers.push_back(nullptr);
  return pointers;
}

void CloseFd(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

}  // namespace

absl::StatusOr<Subprocess> Subprocess::Start(
    const std::vector<std::string>& argv, const SubprocessOptions& options) {
  if (argv.empty()) return absl::InvalidArgumentError("empty argv");
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0) return ErrnoError("pipe2");
  if (pipe2(out, O_CLOEXEC) != 0) return ErrnoError("pipe2");
  if (pipe2(err, O_CLOEXEC) != 0) return ErrnoError("pipe2");
  std::vector<char*> args = CStrings(argv);
  std::vector<char*> env_pointers;
  if (options.env.has_value()) env_pointers = CStrings(*options.env);
  char** envp = options.env.has_value() ? env_pointers.data() : environ;

  const pid_t pid = fork();
  if (pid < 0) return ErrnoError("fork");
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    if (options.controlling_terminal >= 0) {
      if (setsid() < 0 ||
          ioctl(options.controlling_terminal, TIOCSCTTY, 0) != 0 ||
          dup2(options.controlling_terminal, 0) < 0) {
        _exit(126);
      }
    } else {
      dup2(in[0], 0);
    }
    dup2(out[1], 1);
    dup2(err[1], 2);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (!options.cwd.empty() && chdir(options.cwd.c_str()) != 0) _exit(126);
    if (argv[0].find('/') != std::string::npos) {
      execve(args[0], args.data(), envp);
    } else {
      execvpe(args[0], args.data(), envp);
    }
    _exit(errno == ENOENT ? 127 : 126);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  Subprocess process;
  process.pid_ = pid;
  process.stdin_fd_ = in[1];
  process.stdout_fd_ = out[0];
  process.stderr_fd_ = err[0];
  process.argv_ = argv;
  process.options_ = options;
  process.deadline_ = absl::Now() + options.timeout;
  if (options.stdin_text.empty()) CloseFd(&process.stdin_fd_);
  return process;
}

Subprocess::Subprocess(Subprocess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      stdin_fd_(std::exchange(other.stdin_fd_, -1)),
      stdout_fd_(std::exchange(other.stdout_fd_, -1)),
      stderr_fd_(std::exchange(other.stderr_fd_, -1)),
      argv_(std::move(other.argv_)),
      options_(std::move(other.options_)),
      deadline_(other.deadline_) {}

Subprocess::~Subprocess() {
  CloseFd(&stdin_fd_);
  CloseFd(&stdout_fd_);
  CloseFd(&stderr_fd_);
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

absl::StatusOr<SubprocessResult> Subprocess::Wait() {
  SubprocessResult result;
  size_t stdin_written = 0;
  bool timed_out = false;
  int wait_status = 0;
  bool reaped = false;
  // With kProcessExits: polls in short slices, and after the exit stops at
  // the first quiet slice (what the process itself wrote is in the pipes
  // by then; later bytes come from what it left behind).
  const bool until_exit =
      options_.read_until == SubprocessOptions::ReadUntil::kProcessExits;
  constexpr int kSliceMs = 50;
  while (stdout_fd_ >= 0 || stderr_fd_ >= 0) {
    std::vector<pollfd> fds;
    if (stdout_fd_ >= 0) fds.push_back({stdout_fd_, POLLIN, 0});
    if (stderr_fd_ >= 0) fds.push_back({stderr_fd_, POLLIN, 0});
    if (stdin_fd_ >= 0) fds.push_back({stdin_fd_, POLLOUT, 0});
    const int64_t remaining =
        absl::ToInt64Milliseconds(deadline_ - absl::Now());
    if (remaining <= 0) {
      timed_out = true;
      break;
    }
    if (until_exit && !reaped) {
      const pid_t done = waitpid(pid_, &wait_status, WNOHANG);
      if (done < 0 && errno != EINTR) return ErrnoError("waitpid");
      reaped = done == pid_;
    }
    const int ready = poll(
        fds.data(), fds.size(),
        static_cast<int>(until_exit ? std::min<int64_t>(remaining, kSliceMs)
                                    : remaining));
    if (ready < 0 && errno != EINTR) return ErrnoError("poll");
    if (ready == 0 && reaped) break;
    for (const pollfd& p : fds) {
      if (p.revents == 0) continue;
      if (p.fd == stdin_fd_) {
        const ssize_t n =
            write(p.fd, options_.stdin_text.data() + stdin_written,
                  options_.stdin_text.size() - stdin_written);
        if (n > 0) stdin_written += n;
        if (n < 0 || stdin_written == options_.stdin_text.size()) {
          CloseFd(&stdin_fd_);
        }
        continue;
      }
      char buffer[65536];
      const ssize_t n = read(p.fd, buffer, sizeof(buffer));
      const bool is_out = p.fd == stdout_fd_;
      if (n > 0) {
        (is_out ? result.stdout_text : result.stderr_text).append(buffer, n);
      } else if (n == 0 || errno != EINTR) {
        CloseFd(is_out ? &stdout_fd_ : &stderr_fd_);
      }
    }
  }
  CloseFd(&stdin_fd_);
  CloseFd(&stdout_fd_);
  CloseFd(&stderr_fd_);
  if (timed_out && !reaped) kill(pid_, SIGKILL);
  while (!reaped && waitpid(pid_, &wait_status, 0) < 0) {
    if (errno != EINTR) return ErrnoError("waitpid");
  }
  pid_ = -1;
  if (timed_out) {
    return absl::DeadlineExceededError(
        absl::StrCat("'", absl::StrJoin(argv_, " "), "' did not finish within ",
                     absl::FormatDuration(options_.timeout),
                     "; stderr so far: ", result.stderr_text));
  }
  if (WIFEXITED(wait_status)) result.exit_code = WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) result.signal = WTERMSIG(wait_status);
  return result;
}

absl::StatusOr<SubprocessResult> RunSubprocess(
    const std::vector<std::string>& argv, const SubprocessOptions& options) {
  absl::StatusOr<Subprocess> process = Subprocess::Start(argv, options);
  if (!process.ok()) return process.status();
  return process->Wait();
}

}  // namespace cell
