// Runs a program to completion and captures what it printed: how
// cell-verify drives the built `cell` (as a user would), and how end-to-end
// tests drive both.
#ifndef CELL_BASE_SUBPROCESS_H_
#define CELL_BASE_SUBPROCESS_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace cell {

struct SubprocessResult {
  // Exactly one of these is set: the exit code, or the terminating signal.
  std::optional<int> exit_code;
  std::optional<int> signal;
  std::string stdout_text;
  std::string stderr_text;
};

struct SubprocessOptions {
  // Replaces the environment when set ("NAME=VALUE" entries).
  std::optional<std::vector<std::string>> env;
  std::string stdin_text;
  std::string cwd;  // Empty: inherit.
  // A terminal (a pty's slave) to start the process under, as a person's
  // shell would: the child leads a new session with this as its
  // controlling terminal and reads its stdin from it (stdout and stderr
  // are still captured; stdin_text must be empty). The caller keeps the
  // descriptor. -1: none.
  int controlling_terminal = -1;
  // Killed with SIGKILL after this long; the result then says so.
  absl::Duration timeout = absl::Seconds(60);
  // When Wait() stops reading: at the end of both outputs (every writer
  // gone), or once the process itself has exited and its outputs have
  // been quiet for a moment. The second is for a process that may leave
  // descendants behind holding its outputs open (a foreign sandbox under
  // test): they must not hold the wait until the timeout.
  enum class ReadUntil { kOutputsClose, kProcessExits };
  ReadUntil read_until = ReadUntil::kOutputsClose;
};

// A started child process whose output is collected by Wait().
class Subprocess {
 public:
  // Starts argv[0] (a path, or looked up on PATH) with `argv`.
  static absl::StatusOr<Subprocess> Start(
      const std::vector<std::string>& argv,
      const SubprocessOptions& options = {});
  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&&) = delete;
  ~Subprocess();  // Kills and reaps a process that was never waited for.

  pid_t pid() const { return pid_; }

  // Feeds stdin, collects output until the process exits. Errors are only
  // for the timeout (the process is then killed) or a broken wait; a
  // non-zero exit is a result.
  absl::StatusOr<SubprocessResult> Wait();

 private:
  Subprocess() = default;
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
  std::vector<std::string> argv_;
  SubprocessOptions options_;
  absl::Time deadline_;
};

// Start + Wait.
absl::StatusOr<SubprocessResult> RunSubprocess(
    const std::vector<std::string>& argv,
    const SubprocessOptions& options = {});

}  // namespace cell

#endif  // CELL_BASE_SUBPROCESS_H_
