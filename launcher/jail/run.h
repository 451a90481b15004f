// One run of a cell, launcher process (host side). A CellRun's members are
// the run's resources ($JD, cgroup, proxy engine, channels, the caller's
// terminal, the child); it goes through short phases in order:
//
//   Prepare     before anything exists: identity, plan, checks, the filter
//   Provision   $JD, cgroup, signals, the proxy engine, what the child needs
//   Spawn       clone, id maps, cgroup membership, go
//   AwaitExec   the listener and pty the child hands over, then exec or its
//               failure
//   Supervise   the event loop until the command ends
//
// and releases them in one order (Teardown) on every way out, the
// destructor included. Everything before the command starts is an
// absl::Status (the CLI maps it to exit 125); how the command ended is a
// value.
#ifndef CELL_LAUNCHER_JAIL_RUN_H_
#define CELL_LAUNCHER_JAIL_RUN_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/unique_fd.h"
#include "launcher/jail/cgroup.h"
#include "launcher/jail/child.h"
#include "launcher/jail/jd.h"
#include "launcher/jail/status_file.h"
#include "launcher/jail/supervise.h"
#include "launcher/jail/terminal.h"
#include "launcher/proxy/engine.h"
#include "launcher/spec/host_identity.h"
#include "launcher/spec/plan.h"
#include "launcher/spec/protect.h"
#include "launcher/spec/spec.h"

namespace cell {

struct RunOptions {
  // The argv to run; the spec's command when empty.
  std::vector<std::string> command;
  // Receives JSON lines ("started", "exited"); empty for none.
  std::string status_file;
  // Host files that control this launch besides those the spec names (the
  // spec file itself); kept read-only inside (launcher/spec/protect.h).
  std::vector<std::string> control_files;
};

struct ExitReport {
  std::optional<int> exit_code;  // Set when the command exited.
  std::optional<int> signal;     // Set when it died of a signal.
  // For 126/127: the one line explaining why the command did not start.
  std::string diagnostic;

  // Bit N for each signal N the launcher received (and forwarded), or
  // whose key was typed at its terminal (those also in typed_signals).
  uint64_t launcher_signals = 0;
  uint64_t typed_signals = 0;

  // The launcher's own exit status: the code, or 128+signal.
  int ExitStatus() const;
  // The signal the launcher should die of after its cleanup, as shells and
  // timeout(1) do (a shell loop then stops at one Ctrl-C): the command's
  // SIGINT, SIGTERM or SIGHUP (or an exit code of 128 plus it, as the PID
  // namespace's init reports it) when the launcher got it too; 0 otherwise.
  // (SIGQUIT is not raised: it would dump a core.)
  int SignalToRaise() const;
};

class CellRun {
 public:
  // Prepare: `spec` is resolved. Nothing on the host changes yet.
  static absl::StatusOr<std::unique_ptr<CellRun>> Prepare(
      const CellSpec& spec, const RunOptions& options);
  // The plan Prepare would make (who the cell runs as, its mounts,
  // environment and argv), creating nothing: `cell run --dry-run`. Without
  // the read-only views of protected paths, which need placeholders.
  static absl::StatusOr<CellPlan> PlanOnly(const CellSpec& spec,
                                           const RunOptions& options);
  ~CellRun();  // Teardown().
  CellRun(const CellRun&) = delete;
  CellRun& operator=(const CellRun&) = delete;

  // The remaining phases; blocks until the command and the cell are gone.
  absl::StatusOr<ExitReport> Run();

 private:
  CellRun(const CellSpec& spec, const RunOptions& options);

  absl::Status PlanRun();
  absl::Status Provision();
  absl::Status ProvisionChannels();
  absl::Status ConfigureChild();
  absl::Status Spawn();
  // The report when the command could not be exec'd (126/127).
  absl::StatusOr<std::optional<ExitReport>> AwaitExec();
  ExitReport Supervise();
  // Ends a run that failed after the clone: the child goes first.
  absl::Status Abort(absl::Status status);
  // The one teardown order: the cell's terminal (the caller's settings
  // back first), the cgroup (nothing the command left survives), the proxy
  // engine (its connections, then its process), the run's descriptors and
  // signal mask, $JD, the protect placeholders. Idempotent.
  // Returns what could not be removed, as a warning for the user.
  std::string Teardown();
  // Teardown, then the `exited` status line.
  ExitReport Finish(ExitReport report);

  const CellSpec& spec_;
  const RunOptions& options_;
  std::string run_id_;
  HostIdentity identity_;
  HostFacts host_;
  CellPlan plan_;
  Placeholders placeholders_;
  std::optional<StatusFile> status_file_;
  std::unique_ptr<ProxyEngine> engine_;

  std::optional<JobDir> jd_;
  std::optional<CellCgroup> cgroup_;
  std::optional<SignalBlock> signals_;
  std::optional<CallerTerminal> caller_terminal_;
  std::optional<TerminalRelay> terminal_;
  UniqueFd listener_parent_, listener_child_;
  UniqueFd terminal_parent_, terminal_child_;
  UniqueFd command_parent_, command_child_, command_pidfd_;
  UniqueFd sync_read_, sync_write_, failure_read_, failure_write_;
  UniqueFd launcher_pidfd_;
  std::vector<gid_t> launcher_groups_;
  std::vector<sock_filter> seccomp_program_;
  ChildConfig config_;
  pid_t child_ = -1;
};

}  // namespace cell

#endif  // CELL_LAUNCHER_JAIL_RUN_H_
