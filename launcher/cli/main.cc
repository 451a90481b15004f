// `cell`: the launcher's command line, dispatched to its subcommands
// (launcher/cli/*_cmd.cc). Flags live only in this package; everything
// else is in libraries that return absl::Status. Overrides are applied to
// the spec's JSON before it is parsed, so a flag and the field it sets are
// validated by the same code and errors name the same field.
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/version.h"
#include "launcher/cli/common.h"
#include "launcher/cli/completion.h"
#include "launcher/cli/flags.h"
#include "launcher/cli/pack.h"
#include "launcher/cli/trust.h"
#include "launcher/spec/presets.h"

namespace cell {
namespace {

constexpr char kUsage[] = R"(cell - run a command in a sandbox cell

Usage:
  cell run [--spec=FILE] [OVERRIDES] [-- COMMAND [ARG...]]
  cell check-spec [--spec=FILE] [OVERRIDES]
  cell pack --spec=FILE --output=FILE [OVERRIDES]
  cell log [--top=N] AUDIT_LOG...
  cell completion bash|zsh
  cell trust [FILE...]
  cell help [COMMAND]
  cell --version

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
  trust       mark a cell.json as reviewed: run and check-spec given no --spec
              use ./cell.json (or the nearest up to the repository root)
              only while it is trusted and unchanged
  completion  print a bash or zsh completion script, e.g.
              cell completion bash > ~/.local/share/bash-completion/completions/cell

Exit status of `cell run`: the command's own; 128+N if it died of signal N
(of a SIGINT, SIGTERM or SIGHUP the launcher got too, or a Ctrl-C typed at
its terminal: the launcher then dies of it after its cleanup, so that one
Ctrl-C stops a shell loop); 125 if the launcher failed before the command
started (one line per error on stderr names the field or path and the
fix); 126 command not executable; 127 command not found inside the cell, or
found but its ELF or #! interpreter is missing there (named).

Run `cell help run` for the overrides, `cell help presets` for what
--preset binds.
)";

int Help(const std::vector<std::string>& args) {
  const std::string topic = args.empty() ? "" : args.front();
  if (topic == "run") {
    std::fputs(RunUsage().c_str(), stdout);
  } else if (topic == "check-spec") {
    std::fputs(CheckSpecUsage().c_str(), stdout);
  } else if (topic == "pack") {
    std::fputs(PackUsage().c_str(), stdout);
  } else if (topic == "log") {
    std::fputs(LogUsage().c_str(), stdout);
  } else if (topic == "completion") {
    std::fputs(CompletionUsage().c_str(), stdout);
  } else if (topic == "trust") {
    std::fputs(TrustUsage().c_str(), stdout);
  } else if (topic == "presets") {
    std::fputs(PresetHelp().c_str(), stdout);
  } else {
    std::fputs(kUsage, stdout);
  }
  return 0;
}

}  // namespace
}  // namespace cell

int main(int argc, char** argv) {
  // A packed cell carries its spec after its own image. A launcher that
  // cannot read its image (mode 0111) cannot be packed, so it is plain.
  absl::StatusOr<std::optional<cell::PackedSpec>> packed =
      cell::ReadPackedSpec(cell::kSelfExe, cell::SelfName(argv[0]));
  if (!packed.ok() && !absl::IsPermissionDenied(packed.status())) {
    cell::PrintError(packed.status());
    return cell::kExitLaunchFailed;
  }
  if (packed.ok() && packed->has_value()) {
    return cell::RunPacked(**packed, argv[0],
                           std::vector<std::string>(argv + 1, argv + argc));
  }
  if (argc < 2) {
    std::fputs(cell::kUsage, stderr);
    return cell::kExitUsage;
  }
  const std::string command = argv[1];
  const std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "--help" || command == "-h" || command == "help") {
    return cell::Help(args);
  }
  if (command == "--version" || command == "version") {
    std::fputs(cell::VersionText("cell").c_str(), stdout);
    return 0;
  }
  if (command == "run") return cell::Run(args);
  if (command == "check-spec") return cell::CheckSpec(args);
  if (command == "pack") return cell::Pack(args);
  if (command == "log") return cell::Log(args);
  if (command == "completion") return cell::Completion(args);
  if (command == "trust") return cell::Trust(args);
  const std::string nearest = cell::NearestName(
      command, {"run", "check-spec", "pack", "log", "trust", "completion", "help",
       "version"});
  std::fprintf(
      stderr,
      "cell: unknown command '%s'%s (the commands: run, check-spec, pack, "
      "log, trust, completion; see 'cell --help')\n",
      argv[1],
      nearest.empty() ? "" : ("; did you mean '" + nearest + "'?").c_str());
  return cell::kExitUsage;
}
