// `cell run`, and a packed cell run as itself: a spec and a command in,
// the command's exit status out (125 when the launch failed).
#include <errno.h>
#include <sys/stat.h>
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
#include "base/fs_util.h"
#include "base/host_path.h"
#include "base/printable.h"
#include "launcher/cli/common.h"
#include "launcher/jail/run.h"
#include "launcher/spec/plan.h"
#include "launcher/spec/resolve.h"

namespace cell {
namespace {

constexpr char kRunUsageHead[] =
    R"(Usage: cell run [--spec=FILE] [OVERRIDES] [-- COMMAND [ARG...]]

Runs COMMAND (or the spec's `command`) inside a cell and exits with its
status. Without --spec, the cell.json found here or above (up to the
repository root) is used when you have trusted it (`cell help trust`);
with none, the cell is built from the overrides alone (--worktree is then
required). A spec file's relative paths are relative to its directory,
except worktreePath, which like the flags' paths is relative to the current
directory.

Overrides (each sets the spec field named in brackets):
)";

constexpr char kRunUsageTail[] =
    R"(Repeat --ro-bind, --bind, --env, --protect and --rlimit as often as needed.

Files that control a launch (the spec, the filter, this launcher or the
packed cell, logDir, the status file) are read-only inside the cell
wherever a read-write bind would show them.

Examples:
  cell run --worktree=. --no-nix --preset=host -- make
  cell run --worktree=. --no-nix --network=none --ro-bind=/usr \
      --symlink=usr/bin:/bin --symlink=usr/lib:/lib \
      --symlink=usr/lib64:/lib64 -- ls -la
  cell run --spec=agent.json --dry-run -- claude
  cell run --bind=$HOME/.local/share/cell/home:/home/cell ...  (a home
      that persists between runs)
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
    std::fprintf(stderr, "cell: %s\n", Printable(report->diagnostic).c_str());
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

// `cell run --dry-run`: the resolved cell, as the launcher would build it.
int PrintDryRun(const CellSpec& spec, const RunOptions& options,
                absl::string_view source) {
  absl::StatusOr<CellPlan> plan = CellRun::PlanOnly(spec, options);
  if (!plan.ok()) {
    PrintError(plan.status());
    return kExitLaunchFailed;
  }
  std::string out = absl::StrCat(
      "cell run --dry-run: nothing was launched\n", "spec:       ", source,
      "\n", "command:    ", Printable(absl::StrJoin(plan->argv, " ")), "\n",
      "worktree:   ", Printable(spec.worktree_path), " -> ", kCellWorktree,
      " (read-write; the working directory)\n", "network:    ");
  if (spec.network.mode == NetworkMode::kNone) {
    absl::StrAppend(&out, "none (loopback only)\n");
  } else {
    absl::StrAppend(
        &out, "proxy ", ProxyUrl(spec.network.port), " (",
        spec.network.engine == EngineKind::kBuiltin ? "builtin" : "tinyproxy",
        " engine), filter ",
        spec.tinyproxy_filter.has_value() ? Printable(*spec.tinyproxy_filter)
                                          : "none: every host allowed",
        "\n");
  }
  absl::StrAppend(
      &out, "isolation:  PID namespace ",
      plan->pid_namespace ? "own" : "the host's", ", IPC namespace ",
      plan->ipc_namespace ? "own" : "the host's", ", capabilities ",
      plan->keep_capabilities ? "all (inside the user namespace)" : "none",
      ", seccomp ", plan->seccomp ? "on" : "off", ", root ",
      plan->read_only_root ? "read-only" : "writable", "\n");
  std::vector<std::string> limits;
  for (const RlimitOp& limit : plan->rlimits) {
    limits.push_back(absl::StrCat(limit.name, "=", limit.value));
  }
  if (spec.limits.memory_max.has_value()) {
    limits.push_back(absl::StrCat("memory.max=", *spec.limits.memory_max));
  }
  if (spec.limits.pids_max.has_value()) {
    limits.push_back(absl::StrCat("pids.max=", *spec.limits.pids_max));
  }
  absl::StrAppend(&out, "limits:     ",
                  limits.empty() ? "none (the launcher's own)"
                                 : absl::StrJoin(limits, ", "),
                  "\n", "mounts, in order:\n");
  for (size_t i = 0; i < plan->mounts.size(); ++i) {
    absl::StrAppend(&out, "  ", i + 1, ". ",
                    Printable(DescribeMountOp(plan->mounts[i])), "\n");
  }
  if (!spec.protect.empty()) {
    absl::StrAppend(&out, "  then read-only views of ", spec.protect.size(),
                    " protected worktree paths (",
                    Printable(absl::StrJoin(spec.protect, " ")),
                    ") and of the files that control this launch\n");
  }
  absl::StrAppend(&out, "environment:\n");
  for (const std::string& entry : plan->env) {
    absl::StrAppend(&out, "  ", Printable(entry), "\n");
  }
  absl::StrAppend(&out, "exec tries:  ",
                  Printable(absl::StrJoin(plan->exec_candidates, " ")), "\n");
  std::fputs(out.c_str(), stdout);
  return 0;
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
  if (loaded->invocation.dry_run) {
    return PrintDryRun(loaded->spec, options, loaded->source);
  }
  // The spec file, given or found, controls the next launch: read-only
  // inside the cell.
  options.control_files = loaded->control_files;
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
  if (absl::Status made = CreateLogDir(*spec, *cwd); !made.ok()) {
    PrintError(made);
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
