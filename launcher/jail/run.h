// The whole run, parent side: $JD, plan, clone, id maps, wait for exec,
// forward signals, wait for the command, clean up. Everything before the
// command starts is an absl::Status (the CLI maps it to exit 125); how the
// command ended is a value.
#ifndef CELL_LAUNCHER_JAIL_RUN_H_
#define CELL_LAUNCHER_JAIL_RUN_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "launcher/spec/spec.h"

namespace cell {

// The builtin engine's audit log (JSON lines), in logDir or else in $JD.
inline constexpr char kProxyAuditLogName[] = "proxy-audit.jsonl";

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

  // The launcher's own exit status: the code, or 128+signal.
  int ExitStatus() const;
};

// The filter file of `spec` as its proxy engine would load it at launch
// (for `cell check-spec`): OK without a filter or without a proxy.
absl::Status CheckFilter(const CellSpec& spec);

// Runs `spec` (already resolved). Blocks until the command and the cell
// are gone.
absl::StatusOr<ExitReport> RunCell(const CellSpec& spec,
                                   const RunOptions& options);

}  // namespace cell

#endif  // CELL_LAUNCHER_JAIL_RUN_H_
