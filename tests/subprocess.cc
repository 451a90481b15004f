#include "tests/subprocess.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

extern char** environ;

namespace cell::testing {
namespace {

absl::Status ErrnoError(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (const std::string& s : strings)
    pointers.push_back(const_cast<char*>(s.c_str()));
  pointers.push_back(nullptr);
  return pointers;
}

class Pipe {
 public:
  Pipe() = default;
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  ~Pipe() {
    CloseRead();
    CloseWrite();
  }
  absl::Status Open() {
    if (pipe2(fds_, O_CLOEXEC) != 0) return ErrnoError("pipe2");
    return absl::OkStatus();
  }
  int read_fd() const { return fds_[0]; }
  int write_fd() const { return fds_[1]; }
  void CloseRead() { CloseFd(&fds_[0]); }
  void CloseWrite() { CloseFd(&fds_[1]); }

 private:
  static void CloseFd(int* fd) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
  int fds_[2] = {-1, -1};
};

}  // namespace

absl::StatusOr<SubprocessResult> RunSubprocess(
    const std::vector<std::string>& argv, const SubprocessOptions& options) {
  if (argv.empty()) return absl::InvalidArgumentError("empty argv");
  Pipe in, out, err;
  for (Pipe* p : {&in, &out, &err}) {
    absl::Status status = p->Open();
    if (!status.ok()) return status;
  }
  std::vector<char*> args = CStrings(argv);
  std::vector<char*> env_pointers;
  if (options.env.has_value()) env_pointers = CStrings(*options.env);
  char** envp = options.env.has_value() ? env_pointers.data() : environ;

  const pid_t pid = fork();
  if (pid < 0) return ErrnoError("fork");
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    dup2(in.read_fd(), 0);
    dup2(out.write_fd(), 1);
    dup2(err.write_fd(), 2);
    if (!options.cwd.empty() && chdir(options.cwd.c_str()) != 0) _exit(126);
    if (argv[0].find('/') != std::string::npos) {
      execve(args[0], args.data(), envp);
    } else {
      execvpe(args[0], args.data(), envp);
    }
    _exit(errno == ENOENT ? 127 : 126);
  }
  in.CloseRead();
  out.CloseWrite();
  err.CloseWrite();

  SubprocessResult result;
  size_t stdin_written = 0;
  if (options.stdin_text.empty()) in.CloseWrite();
  const absl::Time deadline = absl::Now() + options.timeout;
  bool timed_out = false;
  while (out.read_fd() >= 0 || err.read_fd() >= 0) {
    std::vector<pollfd> fds;
    if (out.read_fd() >= 0) fds.push_back({out.read_fd(), POLLIN, 0});
    if (err.read_fd() >= 0) fds.push_back({err.read_fd(), POLLIN, 0});
    if (in.write_fd() >= 0) fds.push_back({in.write_fd(), POLLOUT, 0});
    const int64_t remaining = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (remaining <= 0) {
      timed_out = true;
      break;
    }
    const int ready = poll(fds.data(), fds.size(), static_cast<int>(remaining));
    if (ready < 0 && errno != EINTR) return ErrnoError("poll");
    for (const pollfd& p : fds) {
      if (p.revents == 0) continue;
      if (p.fd == in.write_fd()) {
        const ssize_t n = write(p.fd, options.stdin_text.data() + stdin_written,
                                options.stdin_text.size() - stdin_written);
        if (n > 0) stdin_written += n;
        if (n < 0 || stdin_written == options.stdin_text.size()) {
          in.CloseWrite();
        }
        continue;
      }
      char buffer[65536];
      const ssize_t n = read(p.fd, buffer, sizeof(buffer));
      const bool is_out = p.fd == out.read_fd();
      if (n > 0) {
        (is_out ? result.stdout_text : result.stderr_text).append(buffer, n);
      } else if (n == 0 || errno != EINTR) {
        if (is_out) {
          out.CloseRead();
        } else {
          err.CloseRead();
        }
      }
    }
  }
  if (timed_out) kill(pid, SIGKILL);
  int wait_status = 0;
  while (waitpid(pid, &wait_status, 0) < 0) {
    if (errno != EINTR) return ErrnoError("waitpid");
  }
  if (timed_out) {
    return absl::DeadlineExceededError(
        absl::StrCat("'", absl::StrJoin(argv, " "), "' did not finish within ",
                     absl::FormatDuration(options.timeout),
                     "; stderr so far: ", result.stderr_text));
  }
  if (WIFEXITED(wait_status)) result.exit_code = WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) result.signal = WTERMSIG(wait_status);
  return result;
}

}  // namespace cell::testing
