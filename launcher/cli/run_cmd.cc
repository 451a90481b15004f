// `cell run`, and a packed cell run as itself: a spec and a command in,
// the command's exit status out (125 when the launch failed).
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/host_path.h"
#include "launcher/cli/common.h"
#include "launcher/jail/run.h"
#include "launcher/spec/resolve.h"

namespace cell {
namespace {

constexpr char kRunUsageHead[] =
    R"(Usage: cell run [--spec=FILE] [OVERRIDES] [-- COMMAND [ARG...]]

Runs COMMAND (or the spec's `command`) inside a cell and exits with its
status. Without --spec, the cell is built from the overrides alone
(--worktree is then required). Relative paths are relative to the current
directory.

Overrides (each sets the spec field named in brackets):
)";

constexpr char kRunUsageTail[] =
    R"(Repeat --ro-bind, --bind, --env, --protect and --rlimit as often as needed.

Files that control a launch (the spec, the filter, this launcher or the
packed cell, logDir, the status file) are read-only inside the cell
wherever a read-write bind would show them.

Examples:
  cell run --worktree=. --no-nix --network=none \
      --ro-bind=/usr --ro-bind=/bin --ro-bind=/lib --ro-bind=/lib64 -- ls -la
  cell run --spec=agent.json -- claude
)";

constexpr char kPackedUsage[] =
    R"(Usage: %s [--cell-status-file=PATH] [--] [ARG...]

This is a packed cell: it runs
  %s [ARG...]
inside a cell built from the spec below, packed from %s.
Host paths are resolved each time it runs; relative ones against the current
directory (so a worktreePath of "." is the directory you run it in).

Options, recognised only before the first argument:
  --help, --cell-help        this text
  --cell-status-file=PATH    write JSON lines: {"event":"started",...} and
                             {"event":"exited","exitCode":N,"signal":S}
  --                         end of options: `%s -- --help` passes --help on

Exit status: the command's own; 128+N if it died of signal N (and when
that was a SIGINT, SIGTERM or SIGHUP the launcher got too, or a Ctrl-C typed
at its terminal, the launcher dies of the same signal after its cleanup, so
that a shell loop stops; --status-file records 128+N); 125 if the cell could
not be built (one line on stderr says why); 126 command not executable; 127
command not found inside the cell.

Spec:
%s
)";

int RunWithOptions(const CellSpec& spec, const RunOptions& options) {
  absl::StatusOr<std::unique_ptr<CellRun>> run =
      CellRun::Prepare(spec, options);
  absl::StatusOr<ExitReport> report =
      run.ok() ? (*run)->Run() : absl::StatusOr<ExitReport>(run.status());
  if (run.ok()) run->reset();  // Teardown, before the launcher speaks.
  if (!report.ok()) {
    PrintError(report.status());
    return kExitLaunchFailed;
  }
  if (!report->diagnostic.empty()) {
    std::fprintf(stderr, "cell: %s\n", report->diagnostic.c_str());
  }
  // The command died of a Ctrl-C (or SIGTERM, SIGHUP) the launcher got
  // too: everything is cleaned up, so die of it as well, as shells and
  // timeout(1) do, so that the caller's shell loop stops. The status file
  // has recorded 128+N.
  if (const int signal_number = report->SignalToRaise(); signal_number != 0) {
    std::fflush(nullptr);
    std::signal(signal_number, SIG_DFL);
    sigset_t just;
    sigemptyset(&just);
    sigaddset(&just, signal_number);
    sigprocmask(SIG_UNBLOCK, &just, nullptr);
    // A key typed at the caller's terminal reached the cell as a byte (raw
    // mode): deliver its signal as the terminal would have, to the
    // foreground job the launcher belongs to, so that a script's shell
    // running the loop gets it too. A signal that came as one: to itself.
    const bool typed =
        (report->typed_signals & (uint64_t{1} << signal_number)) != 0;
    if (typed && isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp()) {
      kill(0, signal_number);
    }
    raise(signal_number);
  }
  return report->ExitStatus();
}

}  // namespace

std::string RunUsage() {
  return absl::StrCat(kRunUsageHead, OverrideHelp(),
                      OwnFlagHelp(Subcommand::kRun), kRunUsageTail);
}

int Run(const std::vector<std::string>& args) {
  int exit_code = 0;
  std::optional<Loaded> loaded = ParseAndLoad(
      args, Subcommand::kRun, RunUsage(), kExitLaunchFailed, &exit_code);
  if (!loaded.has_value()) return exit_code;
  RunOptions options;
  options.command = loaded->invocation.command;
  options.status_file = loaded->invocation.status_file;
  // The spec file controls the next launch: read-only inside the cell.
  if (const std::optional<std::string>& file = loaded->invocation.spec_file;
      file.has_value()) {
    absl::StatusOr<std::string> path = ResolveTrustedPathFromCwd(*file);
    if (path.ok()) options.control_files.push_back(*std::move(path));
  }
  return RunWithOptions(loaded->spec, options);
}

int RunPacked(const PackedSpec& packed, const char* name,
              const std::vector<std::string>& args) {
  RunOptions options;
  size_t first = 0;
  for (; first < args.size(); ++first) {
    const std::string& arg = args[first];
    if (arg == "--") {
      ++first;
      break;
    }
    if (arg == "--help" || arg == "--cell-help") {
      absl::StatusOr<CellSpec> spec = SpecFrom(packed.spec, "");
      const std::string command =
          spec.ok() ? absl::StrJoin(spec->command, " ") : "(damaged spec)";
      std::printf(kPackedUsage, name, command.c_str(), packed.source.c_str(),
                  name, packed.spec.dump(2).c_str());
      return 0;
    }
    if (absl::StartsWith(arg, "--cell-status-file=")) {
      options.status_file = arg.substr(std::strlen("--cell-status-file="));
      continue;
    }
    if (absl::StartsWith(arg, "--cell-")) {
      PrintError(UsageError(absl::StrCat(
          "unknown packed-cell option ", arg,
          "; the options are --cell-help and --cell-status-file=PATH (put "
          "`--` first to pass it to the command)")));
      return kExitLaunchFailed;
    }
    break;
  }
  absl::StatusOr<CellSpec> spec = SpecFrom(
      packed.spec,
      absl::StrCat(name, ": the packed spec (from ", packed.source, ")"));
  absl::StatusOr<std::string> cwd = CurrentDirectory();
  if (!spec.ok() || !cwd.ok()) {
    PrintError(spec.ok() ? cwd.status() : spec.status());
    return kExitLaunchFailed;
  }
  spec = ResolveSpec(*std::move(spec), *cwd);
  if (!spec.ok()) {
    // Relative paths in a packed spec are relative to where it runs.
    PrintError(absl::Status(spec.status().code(),
                            absl::StrCat(name, " (packed spec, run in ", *cwd,
                                         "): ", spec.status().message())));
    return kExitLaunchFailed;
  }
  options.command = spec->command;
  options.command.insert(options.command.end(), args.begin() + first,
                         args.end());
  if (options.command.empty()) {
    PrintError(UsageError(
        "the packed spec has no `command`; give the command as arguments"));
    return kExitLaunchFailed;
  }
  return RunWithOptions(*spec, options);
}

}  // namespace cell
