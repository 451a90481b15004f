// Test helper: runs a program on a pty of the test's own, as a person at a
// terminal would, and types into it and reads its screen output.
#ifndef CELL_TESTING_PTY_SESSION_H_
#define CELL_TESTING_PTY_SESSION_H_

#include <sys/types.h>
#include <termios.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace cell::testing {

class PtySession {
 public:
  // Starts `argv` (argv[0] a path) in `cwd` with exactly `env`, as the
  // leader of a new session whose controlling terminal is a fresh pty of
  // `rows` x `cols`.
  static absl::StatusOr<PtySession> Start(const std::vector<std::string>& argv,
                                          const std::vector<std::string>& env,
                                          const std::string& cwd, int rows,
                                          int cols);
  PtySession(PtySession&& other) noexcept;
  PtySession& operator=(PtySession&&) = delete;
  ~PtySession();  // Kills and reaps a program still running.

  pid_t pid() const { return pid_; }

  // Types `keys`.
  void Send(const std::string& keys);
  // Reads the screen output until it contains `text` after what earlier
  // WaitFor calls consumed (then consumes up to its end), or `timeout`
  // passes. Returns whether it appeared.
  bool WaitFor(const std::string& text, absl::Duration timeout);
  // Everything the program wrote so far.
  const std::string& output() const { return output_; }
  // Resizes the pty: the kernel signals its foreground job.
  void Resize(int rows, int cols);
  // The pty's settings now (what the program left them as).
  termios Settings() const;
  // Reads until the program exits (or `timeout`: then kills it); returns
  // its wait status.
  int Wait(absl::Duration timeout);

 private:
  PtySession(pid_t pid, int master) : pid_(pid), master_(master) {}
  // Reads what is there within `timeout`; false at end of output.
  bool ReadSome(absl::Duration timeout);

  pid_t pid_ = -1;
  int master_ = -1;
  std::string output_;
  size_t consumed_ = 0;
};

}  // namespace cell::testing

#endif  // CELL_TESTING_PTY_SESSION_H_
