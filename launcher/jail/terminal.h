// The cell's terminal. A command that shares the caller's terminal can push
// input into it (TIOCSTI), which the caller's shell then runs on the host
// after the cell exits. So the cell never gets the caller's terminal: when
// one of the launcher's stdin/stdout/stderr is a terminal, the cell gets a
// pty of its own devpts instead (a new session with that pty as its
// controlling terminal), and the launcher relays between the two; when none
// is, the command only starts a new session, with no controlling terminal.
#ifndef CELL_LAUNCHER_JAIL_TERMINAL_H_
#define CELL_LAUNCHER_JAIL_TERMINAL_H_

#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/unique_fd.h"

namespace cell {

// What the child needs to set up the cell's pty: plain data, prepared by
// the parent before the clone.
struct TerminalConfig {
  bool enabled = false;
  // Which of fds 0, 1, 2 are terminals: those become the pty's slave.
  bool is_terminal[3] = {false, false, false};
  termios settings{};  // The caller's, so that erase, intr, ... match.
  winsize size{};
};

// --- Child side (after pivot_root, before exec): syscalls only. ---

// Opens a pty in the cell's devpts (/dev/pts/ptmx), unlocked, with the
// caller's settings and size on the slave. Returns 0 or an errno; on
// success *master and *slave are close-on-exec fds.
int OpenCellPty(const TerminalConfig& config, int* master, int* slave);

enum class ControllingTerminal {
  kTake,  // The command: the pty becomes its controlling terminal.
  kNone,  // The PID namespace's init: it only lets go of the caller's.
};

// Makes the calling process the leader of a new session. With `slave` >= 0
// it replaces each of fds 0, 1, 2 that was a terminal, and is then closed;
// with kTake it becomes the session's controlling terminal. Returns 0 or an
// errno.
int StartCellSession(const TerminalConfig& config, int slave,
                     ControllingTerminal controlling);

// --- Parent side. ---

// The launcher's own terminal, when one of its standard fds is one.
class CallerTerminal {
 public:
  // nullopt when none of fds 0, 1, 2 is a terminal.
  static std::optional<CallerTerminal> Detect();

  CallerTerminal(CallerTerminal&& other) noexcept;
  CallerTerminal& operator=(CallerTerminal&&) = delete;
  // Restores the terminal's settings if EnterRawMode changed them.
  ~CallerTerminal();

  const TerminalConfig& config() const { return config_; }

  // Raw mode on stdin when it is a terminal (keys reach the cell as typed:
  // Ctrl-C and Ctrl-Z become the cell's signals, not the launcher's).
  absl::Status EnterRawMode();

  // Where the caller types (fd 0) or -1; where the cell's output goes (the
  // first terminal among fds 1, 2, 0).
  int input_fd() const { return config_.is_terminal[0] ? 0 : -1; }
  int output_fd() const;
  // The caller's terminal's current window size.
  winsize CurrentSize() const;

 private:
  CallerTerminal() = default;
  TerminalConfig config_;
  bool raw_ = false;
};

// Relays between the caller's terminal and the cell's pty master, from the
// launcher's wait loop. Writes to the master never block the loop (it also
// serves the proxy); the caller's fds keep their blocking mode, which their
// open file is shared with the caller's shell.
class TerminalRelay {
 public:
  static absl::StatusOr<TerminalRelay> Create(UniqueFd master,
                                              const CallerTerminal& caller);
  TerminalRelay(TerminalRelay&&) = default;

  // The fds to poll now; returns how many of `fds` (at most 2) it filled.
  int PollFds(pollfd* fds) const;
  // Handles what poll reported for the fds PollFds returned.
  void HandleEvents(const pollfd* fds, int count);
  // Copies the caller's window size to the pty (on SIGWINCH); the kernel
  // then signals the cell's foreground job.
  void Resize();
  // After the command ended: relays what the cell wrote and is still in
  // the pty, without waiting for more.
  void Drain();
  // Bit N for each signal N whose key the caller typed (raw mode passes
  // Ctrl-C as a byte; the caller's own mode says which keys signal).
  uint64_t typed_signals() const { return typed_signals_; }

 private:
  TerminalRelay(UniqueFd master, const CallerTerminal& caller);
  // One read of the pty, relayed to the caller; false when nothing came.
  bool ReadMaster();
  void ReadInput();
  void FlushInput();

  UniqueFd master_;
  const CallerTerminal* caller_;
  int input_fd_;
  int output_fd_;
  std::vector<char> buffer_;
  std::string pending_input_;  // Typed, not yet taken by the pty.
  bool master_open_ = true;
  uint64_t typed_signals_ = 0;
};

}  // namespace cell

#endif  // CELL_LAUNCHER_JAIL_TERMINAL_H_
