// `cell`: the launcher's command line. Flags live only here; everything else
// is in libraries that return absl::Status. Overrides are applied to the
// spec's JSON before it is parsed, so a flag and the field it sets are
// validated by the same code and errors name the same field.
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "base/fs_util.h"
#include "base/host_path.h"
#include "base/json_text.h"
#include "base/status_macros.h"
#include "base/unique_fd.h"
#include "launcher/cli/flags.h"
#include "launcher/cli/pack.h"
#include "launcher/jail/run.h"
#include "launcher/proxy/audit_summary.h"
#include "launcher/proxy/engines.h"
#include "launcher/spec/spec.h"
#include "nlohmann/json.hpp"

namespace {

using Json = nlohmann::json;

constexpr int kExitLaunchFailed = 125;
constexpr int kExitUsage = 2;

constexpr char kUsage[] = R"(cell - run a command in a sandbox cell

Usage:
  cell run [--spec=FILE] [OVERRIDES] [-- COMMAND [ARG...]]
  cell check-spec [--spec=FILE] [OVERRIDES]
  cell pack --spec=FILE --output=FILE [OVERRIDES]
  cell log [--top=N] AUDIT_LOG...
  cell help [COMMAND]

A cell is a command packaged with its jail: new user (ids mapped 1:1, all
capabilities inside), mount and network namespaces; only explicitly bound
paths exist inside; the network is reachable only through an HTTP proxy on
the host that applies a domain filter. The host's PID and IPC namespaces are
shared unless the spec's `isolation` asks otherwise.

Commands:
  run         launch the command inside a cell; exits with the command's status
  check-spec  validate a spec and print it fully resolved, as JSON
  pack        write a self-contained executable with the spec baked in
              (arguments given to it are appended to the spec's command)
  log         summarise the builtin proxy's audit log: top hosts, denials

Exit status of `cell run`: the command's own; 128+N if it died of signal N;
125 if the launcher failed before the command started (one line on stderr
names the field or path and the fix); 126 command not executable; 127
command not found inside the cell.

Run `cell help run` for the overrides.
)";

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

constexpr char kCheckSpecUsage[] =
    R"(Usage: cell check-spec [--spec=FILE | --packed=CELL] [OVERRIDES]

Validates the spec (and any overrides, as for `cell run`) without launching
anything, and prints it fully resolved as JSON: every default filled in,
every path absolute and canonical. Exit 0, or 2 with one line per error.

)";

constexpr char kPackUsage[] =
    R"(Usage: cell pack --spec=FILE --output=FILE [--unchecked-paths] [OVERRIDES]

Writes a self-contained executable: this launcher (a static binary) with the
spec appended. Running it is `cell run` with that spec; arguments given to
it are appended to the spec's `command`. It needs nothing beside it but what
the spec itself names on the host (worktree, filter, store, daemon socket,
tinyproxy), so it can be copied anywhere and run.

The spec is checked now, as `cell check-spec` would, and embedded with every
default filled in. Host paths are kept as written and resolved each time the
cell runs, so a relative `worktreePath` such as "." means the directory the
packed cell is run in. OVERRIDES (see `cell help run`) are applied first.

)";

constexpr char kPackUsageTail[] = R"(
A packed cell takes these options before its first argument:
  --help, --cell-help        which spec it carries, and how to run it
  --cell-status-file=PATH    as `cell run --status-file`
  --                         ends the options (`CELL -- --help` passes --help
                             to the command)

`cell check-spec --packed=CELL` prints the spec a packed cell carries.

Example:
  cell pack --spec=agent.json --output=agent-cell
  cd ~/project && ./agent-cell --model=fast    # runs the spec's command
)";

constexpr char kLogUsage[] = R"(Usage: cell log [--top=N] AUDIT_LOG...

Summarises the builtin proxy engine's audit log (logDir/proxy-audit.jsonl,
one JSON line per request): totals, the N busiest hosts (default 10) and
every denied host. Several files are added together.
)";

using cell::ApplyOverrides;
using cell::Invocation;
using cell::ParseFlags;
using cell::Subcommand;

absl::Status UsageError(absl::string_view message) {
  return absl::InvalidArgumentError(message);
}

// The usage of each subcommand: its text around the flag table's lines.
std::string RunUsage() {
  return absl::StrCat(kRunUsageHead, cell::OverrideHelp(),
                      cell::OwnFlagHelp(Subcommand::kRun), kRunUsageTail);
}
std::string CheckSpecUsage() {
  return absl::StrCat(kCheckSpecUsage,
                      cell::OwnFlagHelp(Subcommand::kCheckSpec));
}
std::string PackUsage() {
  return absl::StrCat(kPackUsage, cell::OwnFlagHelp(Subcommand::kPack),
                      kPackUsageTail);
}

absl::StatusOr<std::string> CurrentDirectory() {
  char buffer[PATH_MAX];
  if (getcwd(buffer, sizeof(buffer)) == nullptr) {
    return cell::ErrnoStatus(errno, "cannot read the current directory");
  }
  return std::string(buffer);
}

// `json` read as a spec; errors are prefixed with where it came from.
absl::StatusOr<cell::CellSpec> SpecFrom(const Json& json,
                                        absl::string_view source) {
  absl::StatusOr<cell::CellSpec> spec = cell::SpecFromJson(json);
  if (!spec.ok()) {
    return absl::Status(spec.status().code(),
                        absl::StrCat(source, ": ", spec.status().message()));
  }
  return spec;
}

struct SpecSource {
  Json json;
  std::string name;  // For errors: the file, or "command line".
};

// The spec's JSON from --spec or --packed (or none), overrides applied.
absl::StatusOr<SpecSource> ReadSpecJson(const Invocation& invocation) {
  SpecSource source{{{"version", 1}}, "command line"};
  if (invocation.spec_file.has_value() && invocation.packed_file.has_value()) {
    return UsageError("give --spec or --packed, not both");
  }
  if (invocation.spec_file.has_value()) {
    source.name = *invocation.spec_file;
    CELL_ASSIGN_OR_RETURN(
        std::string text,
        cell::ReadConfigFile(*invocation.spec_file, cell::kMaxJsonTextBytes));
    CELL_ASSIGN_OR_RETURN(source.json, cell::ParseJsonText(text, source.name));
  }
  if (invocation.packed_file.has_value()) {
    source.name = absl::StrCat(*invocation.packed_file, " (packed spec)");
    CELL_ASSIGN_OR_RETURN(std::optional<cell::PackedSpec> packed,
                          cell::ReadPackedSpec(*invocation.packed_file));
    if (!packed.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--packed=", *invocation.packed_file,
                       ": not a packed cell (no spec is appended to it); "
                       "make one with `cell pack`"));
    }
    source.json = std::move(packed->spec);
  }
  ApplyOverrides(invocation, &source.json);
  return source;
}

absl::StatusOr<cell::CellSpec> LoadSpec(const Invocation& invocation) {
  CELL_ASSIGN_OR_RETURN(SpecSource source, ReadSpecJson(invocation));
  CELL_ASSIGN_OR_RETURN(cell::CellSpec spec,
                        SpecFrom(source.json, source.name));
  CELL_ASSIGN_OR_RETURN(std::string cwd, CurrentDirectory());
  return cell::ResolveSpec(std::move(spec), cwd);
}

void PrintError(const absl::Status& status) {
  std::fprintf(stderr, "cell: %s\n", std::string(status.message()).c_str());
}

struct Loaded {
  Invocation invocation;
  cell::CellSpec spec;
};

// Flags, then the spec they describe. Without a spec, `*exit_code` says how
// to exit: 0 after printing `usage` for --help, `error_exit` after printing
// the error.
std::optional<Loaded> ParseAndLoad(const std::vector<std::string>& args,
                                   Subcommand subcommand,
                                   const std::string& usage, int error_exit,
                                   int* exit_code) {
  absl::StatusOr<Invocation> invocation = ParseFlags(args, subcommand);
  if (!invocation.ok()) {
    PrintError(invocation.status());
    *exit_code = error_exit;
    return std::nullopt;
  }
  if (invocation->help) {
    std::fputs(usage.c_str(), stdout);
    *exit_code = 0;
    return std::nullopt;
  }
  absl::StatusOr<cell::CellSpec> spec = LoadSpec(*invocation);
  if (!spec.ok()) {
    PrintError(spec.status());
    *exit_code = error_exit;
    return std::nullopt;
  }
  return Loaded{*std::move(invocation), *std::move(spec)};
}

int RunWithOptions(const cell::CellSpec& spec,
                   const cell::RunOptions& options) {
  absl::StatusOr<std::unique_ptr<cell::CellRun>> run =
      cell::CellRun::Prepare(spec, options);
  absl::StatusOr<cell::ExitReport> report =
      run.ok() ? (*run)->Run() : absl::StatusOr<cell::ExitReport>(run.status());
  if (run.ok()) run->reset();  // Teardown, before the launcher speaks.
  if (!report.ok()) {
    PrintError(report.status());
    return kExitLaunchFailed;
  }
  if (!report->diagnostic.empty()) {
    std::fprintf(stderr, "cell: %s\n", report->diagnostic.c_str());
  }
  return report->ExitStatus();
}

int Run(const std::vector<std::string>& args) {
  int exit_code = 0;
  std::optional<Loaded> loaded = ParseAndLoad(
      args, Subcommand::kRun, RunUsage(), kExitLaunchFailed, &exit_code);
  if (!loaded.has_value()) return exit_code;
  cell::RunOptions options;
  options.command = loaded->invocation.command;
  options.status_file = loaded->invocation.status_file;
  // The spec file controls the next launch: read-only inside the cell.
  if (const std::optional<std::string>& file = loaded->invocation.spec_file;
      file.has_value()) {
    absl::StatusOr<std::string> path = cell::ResolveTrustedPathFromCwd(*file);
    if (path.ok()) options.control_files.push_back(*std::move(path));
  }
  return RunWithOptions(loaded->spec, options);
}

int CheckSpec(const std::vector<std::string>& args) {
  int exit_code = 0;
  std::optional<Loaded> loaded = ParseAndLoad(
      args, Subcommand::kCheckSpec, CheckSpecUsage(), kExitUsage, &exit_code);
  if (!loaded.has_value()) return exit_code;
  // A packed cell's host paths are resolved where it runs, not here.
  if (!loaded->invocation.packed_file.has_value()) {
    if (const absl::Status filter = cell::CheckFilter(loaded->spec);
        !filter.ok()) {
      std::fprintf(stderr, "cell: %s\n", std::string(filter.message()).c_str());
      return kExitUsage;
    }
  }
  std::printf("%s\n", cell::SpecToJson(loaded->spec).dump(2).c_str());
  return 0;
}

// Where this executable's image is read from (to copy it, or to find the
// spec packed into it).
constexpr char kSelfExe[] = "/proc/self/exe";

// The launcher's file for messages: its real path, else argv[0].
std::string SelfName(const char* argv0) {
  char buffer[PATH_MAX];
  const ssize_t n = readlink(kSelfExe, buffer, sizeof(buffer) - 1);
  return n > 0 ? std::string(buffer, n) : std::string(argv0);
}

bool SameFile(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  return stat(a.c_str(), &sa) == 0 && stat(b.c_str(), &sb) == 0 &&
         sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

absl::Status PackCell(const Invocation& invocation) {
  if (invocation.output.empty()) {
    return UsageError(
        "--output=FILE is required: where to write the packed cell");
  }
  if (invocation.packed_file.has_value()) {
    return UsageError(
        "cell pack reads --spec=FILE; to re-pack a packed cell, extract its "
        "spec with `cell check-spec --packed=CELL`");
  }
  if (invocation.spec_file.has_value() &&
      SameFile(*invocation.spec_file, invocation.output)) {
    return UsageError(absl::StrCat("--output=", invocation.output,
                                   " is the spec file itself; refusing to "
                                   "overwrite it"));
  }
  CELL_ASSIGN_OR_RETURN(SpecSource source, ReadSpecJson(invocation));
  CELL_ASSIGN_OR_RETURN(cell::CellSpec spec,
                        SpecFrom(source.json, source.name));
  if (!invocation.unchecked_paths) {
    CELL_ASSIGN_OR_RETURN(std::string cwd, CurrentDirectory());
    absl::Status resolved = cell::ResolveSpec(spec, cwd).status();
    if (!resolved.ok()) {
      return absl::Status(
          resolved.code(),
          absl::StrCat(resolved.message(),
                       " (or pass --unchecked-paths to check host paths only "
                       "when the cell runs)"));
    }
  }
  cell::PackedSpec packed{cell::SpecToJson(spec), source.name};
  if (invocation.spec_file.has_value()) {
    char absolute[PATH_MAX];
    if (realpath(invocation.spec_file->c_str(), absolute) != nullptr) {
      packed.source = absolute;
    }
  }
  return cell::WritePackedCell(kSelfExe, packed, invocation.output);
}

int Pack(const std::vector<std::string>& args) {
  absl::StatusOr<Invocation> invocation = ParseFlags(args, Subcommand::kPack);
  if (invocation.ok() && invocation->help) {
    std::fputs(PackUsage().c_str(), stdout);
    return 0;
  }
  absl::Status status =
      invocation.ok() ? PackCell(*invocation) : invocation.status();
  if (!status.ok()) {
    PrintError(status);
    return kExitUsage;
  }
  std::fprintf(stderr, "cell: packed %s; run `%s --help` to see its spec\n",
               invocation->output.c_str(), invocation->output.c_str());
  return 0;
}

// A packed cell: `NAME [--cell-OPTION...] [--] [ARG...]`. Every argument
// from the first that is not one of its options goes to the command, so the
// cell behaves like the program it wraps.
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

Exit status: the command's own; 128+N if it died of signal N; 125 if the
cell could not be built (one line on stderr says why); 126 command not
executable; 127 command not found inside the cell.

Spec:
%s
)";

int RunPacked(const cell::PackedSpec& packed, const char* name,
              const std::vector<std::string>& args) {
  cell::RunOptions options;
  size_t first = 0;
  for (; first < args.size(); ++first) {
    const std::string& arg = args[first];
    if (arg == "--") {
      ++first;
      break;
    }
    if (arg == "--help" || arg == "--cell-help") {
      absl::StatusOr<cell::CellSpec> spec = SpecFrom(packed.spec, "");
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
  absl::StatusOr<cell::CellSpec> spec = SpecFrom(
      packed.spec,
      absl::StrCat(name, ": the packed spec (from ", packed.source, ")"));
  absl::StatusOr<std::string> cwd = CurrentDirectory();
  if (!spec.ok() || !cwd.ok()) {
    PrintError(spec.ok() ? cwd.status() : spec.status());
    return kExitLaunchFailed;
  }
  spec = cell::ResolveSpec(*std::move(spec), *cwd);
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

// Reads an audit log piece by piece: a log of any size (a cell can make
// its log large) is summarised in bounded memory. A line longer than a
// piece is one unreadable line.
absl::Status AddAuditFile(const std::string& path,
                          cell::AuditSummary* summary) {
  constexpr size_t kPiece = size_t{4} << 20;
  cell::UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return cell::ErrnoStatus(errno, path);
  std::string buffer;
  int64_t line = 1;
  bool skipping = false;  // In the rest of an over-long line.
  std::vector<char> piece(kPiece);
  while (true) {
    const ssize_t n = read(fd.get(), piece.data(), piece.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return cell::ErrnoStatus(errno, path);
    buffer.append(piece.data(), static_cast<size_t>(n));
    if (skipping) {
      const size_t newline = buffer.find('\n');
      if (newline == std::string::npos) {
        buffer.clear();
        if (n == 0) return absl::OkStatus();
        continue;
      }
      buffer.erase(0, newline + 1);
      ++line;
      skipping = false;
    }
    // Whole lines now; the rest waits for the next piece (or is the last
    // line, at the end of the file).
    const size_t last = buffer.rfind('\n');
    const size_t whole = n == 0                      ? buffer.size()
                         : last == std::string::npos ? 0
                                                     : last + 1;
    if (whole > 0) {
      const absl::string_view lines =
          absl::string_view(buffer).substr(0, whole);
      cell::AddAuditLines(lines, path, line, summary);
      line += std::count(lines.begin(), lines.end(), '\n');
      buffer.erase(0, whole);
    }
    if (n == 0) return absl::OkStatus();
    if (buffer.size() >= kPiece) {
      cell::AddAuditLines("-", path, line, summary);  // Not a record.
      buffer.clear();
      skipping = true;
    }
  }
}

int Log(const std::vector<std::string>& args) {
  int top = 10;
  std::vector<std::string> files;
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-h") {
      std::fputs(kLogUsage, stdout);
      return 0;
    }
    if (absl::StartsWith(arg, "--top=")) {
      if (!absl::SimpleAtoi(arg.substr(6), &top) || top < 0) {
        PrintError(UsageError(
            absl::StrCat(arg, ": expected a number of hosts, e.g. --top=20")));
        return kExitUsage;
      }
      continue;
    }
    if (absl::StartsWith(arg, "--")) {
      PrintError(UsageError(
          absl::StrCat("unknown flag ", arg, " (see 'cell help log')")));
      return kExitUsage;
    }
    files.push_back(arg);
  }
  if (files.empty()) {
    PrintError(UsageError(
        "give the audit log to read, e.g. cell log logs/proxy-audit.jsonl"));
    return kExitUsage;
  }
  cell::AuditSummary summary;
  for (const std::string& file : files) {
    if (const absl::Status read = AddAuditFile(file, &summary); !read.ok()) {
      PrintError(read);
      return kExitUsage;
    }
  }
  std::fputs(cell::FormatAuditSummary(summary, top).c_str(), stdout);
  return 0;
}

int Help(const std::vector<std::string>& args) {
  const std::string topic = args.empty() ? "" : args.front();
  if (topic == "run") {
    std::fputs(RunUsage().c_str(), stdout);
  } else if (topic == "check-spec") {
    std::fputs(CheckSpecUsage().c_str(), stdout);
  } else if (topic == "pack") {
    std::fputs(PackUsage().c_str(), stdout);
  } else if (topic == "log") {
    std::fputs(kLogUsage, stdout);
  } else {
    std::fputs(kUsage, stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // A packed cell carries its spec after its own image. A launcher that
  // cannot read its image (mode 0111) cannot be packed, so it is plain.
  absl::StatusOr<std::optional<cell::PackedSpec>> packed =
      cell::ReadPackedSpec(kSelfExe, SelfName(argv[0]));
  if (!packed.ok() && !absl::IsPermissionDenied(packed.status())) {
    PrintError(packed.status());
    return kExitLaunchFailed;
  }
  if (packed.ok() && packed->has_value()) {
    return RunPacked(**packed, argv[0],
                     std::vector<std::string>(argv + 1, argv + argc));
  }
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return kExitUsage;
  }
  const std::string command = argv[1];
  const std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "--help" || command == "-h" || command == "help") {
    return Help(args);
  }
  if (command == "run") return Run(args);
  if (command == "check-spec") return CheckSpec(args);
  if (command == "pack") return Pack(args);
  if (command == "log") return Log(args);
  std::fprintf(
      stderr,
      "cell: unknown command '%s'; expected run, check-spec, pack or log "
      "(see 'cell --help')\n",
      argv[1]);
  return kExitUsage;
}
