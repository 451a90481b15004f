// `cell`: the launcher's command line. Flags live only here; everything else
// is in libraries that return absl::Status. Overrides are applied to the
// spec's JSON before it is parsed, so a flag and the field it sets are
// validated by the same code and errors name the same field.
#include <limits.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "launcher/fs_util.h"
#include "launcher/json_text.h"
#include "launcher/launcher.h"
#include "launcher/spec.h"
#include "launcher/status_macros.h"
#include "nlohmann/json.hpp"

namespace {

using Json = nlohmann::json;

constexpr int kExitLaunchFailed = 125;
constexpr int kExitUsage = 2;

constexpr char kUsage[] = R"(cell - run a command in a sandbox cell

Usage:
  cell run [--spec=FILE] [OVERRIDES] [-- COMMAND [ARG...]]
  cell check-spec [--spec=FILE] [OVERRIDES]
  cell pack --spec=FILE --output=FILE
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

Exit status of `cell run`: the command's own; 128+N if it died of signal N;
125 if the launcher failed before the command started (one line on stderr
names the field or path and the fix); 126 command not executable; 127
command not found inside the cell.

Run `cell help run` for the overrides.
)";

constexpr char kRunUsage[] =
    R"(Usage: cell run [--spec=FILE] [OVERRIDES] [-- COMMAND [ARG...]]

Runs COMMAND (or the spec's `command`) inside a cell and exits with its
status. Without --spec, the cell is built from the overrides alone
(--worktree is then required). Relative paths are relative to the current
directory.

Overrides (each sets the spec field named in brackets):
  --worktree=DIR            host dir bound read-write at /home/cell/worktree,
                            the cwd inside [worktreePath]
  --filter=FILE             allowed hosts, one extended regex per line
                            [tinyproxyFilter]
  --log-dir=DIR             bound at /home/cell/log; proxy logs go there [logDir]
  --nix-daemon-socket=DIR   dir holding the daemon's `socket` [nixDaemonSocket]
  --nix-store=DIR           store bound read-only at /nix/store [nixStore]
  --no-nix                  no store, no socket, no NIX_* variables [nix]
  --network=proxy|none      proxy: egress only through the filtering proxy;
                            none: loopback only [network.mode]
  --ro-bind=SRC[:DST]       bind SRC read-only at DST (default: SRC) [mounts]
  --bind=SRC[:DST]          bind SRC read-write at DST (default: SRC) [mounts]
  --env=NAME=VALUE          set a variable inside [env]
  --pid-namespace           own PID namespace and /proc [isolation.pidNamespace]
  --ipc-namespace           own IPC namespace [isolation.ipcNamespace]
  --capabilities=all|none   capabilities kept across exec inside the user
                            namespace [isolation.capabilities]
  --status-file=PATH        write JSON lines: {"event":"started",...} and
                            {"event":"exited","exitCode":N,"signal":S}
Repeat --ro-bind, --bind and --env as often as needed.

Examples:
  cell run --worktree=. --no-nix --network=none \
      --ro-bind=/usr --ro-bind=/bin --ro-bind=/lib --ro-bind=/lib64 -- ls -la
  cell run --spec=agent.json -- claude
)";

constexpr char kCheckSpecUsage[] =
    R"(Usage: cell check-spec [--spec=FILE] [OVERRIDES]

Validates the spec (and any overrides, as for `cell run`) without launching
anything, and prints it fully resolved as JSON: every default filled in,
every path absolute and canonical. Exit 0, or 2 with one line per error.
)";

constexpr char kPackUsage[] = R"(Usage: cell pack --spec=FILE --output=FILE

Writes a self-contained executable that runs `cell run` with the spec baked
in. (Not available in this build yet.)
)";

struct Invocation {
  std::optional<std::string> spec_file;
  std::string status_file;
  std::string output;
  Json overrides = Json::object();  // Field -> value, applied in order.
  std::vector<std::pair<std::string, Json>> appended_mounts;
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<std::string> command;
  bool help = false;
};

absl::Status UsageError(absl::string_view message) {
  return absl::InvalidArgumentError(message);
}

Json MountFromFlag(absl::string_view type, absl::string_view value) {
  Json mount = {{"type", type}};
  const size_t colon = value.find(':');
  if (colon == absl::string_view::npos) {
    mount["src"] = std::string(value);
  } else {
    mount["src"] = std::string(value.substr(0, colon));
    mount["dst"] = std::string(value.substr(colon + 1));
  }
  return mount;
}

absl::StatusOr<Invocation> ParseFlags(const std::vector<std::string>& args,
                                      bool allow_command) {
  Invocation invocation;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      if (!allow_command) return UsageError("unexpected `--`: no command here");
      invocation.command.assign(args.begin() + i + 1, args.end());
      break;
    }
    if (arg == "--help" || arg == "-h") {
      invocation.help = true;
      continue;
    }
    if (!absl::StartsWith(arg, "--")) {
      return UsageError(absl::StrCat(
          "unexpected argument '", arg,
          "'; put the command after `--`, e.g. cell run --worktree=. -- ",
          arg));
    }
    const size_t equals = arg.find('=');
    const std::string name = arg.substr(
        2, equals == std::string::npos ? std::string::npos : equals - 2);
    // Switches take no value.
    if (name == "no-nix" || name == "pid-namespace" ||
        name == "ipc-namespace") {
      if (equals != std::string::npos) {
        return UsageError(absl::StrCat("--", name, " takes no value"));
      }
      if (name == "no-nix") invocation.overrides["nix"] = false;
      if (name == "pid-namespace") {
        invocation.overrides["isolation.pidNamespace"] = true;
      }
      if (name == "ipc-namespace") {
        invocation.overrides["isolation.ipcNamespace"] = true;
      }
      continue;
    }
    std::string value;
    if (equals != std::string::npos) {
      value = arg.substr(equals + 1);
    } else if (i + 1 < args.size() && args[i + 1] != "--") {
      value = args[++i];
    } else {
      return UsageError(absl::StrCat("--", name, " needs a value"));
    }
    if (name == "spec") {
      invocation.spec_file = value;
    } else if (name == "status-file") {
      invocation.status_file = value;
    } else if (name == "output") {
      invocation.output = value;
    } else if (name == "worktree") {
      invocation.overrides["worktreePath"] = value;
    } else if (name == "filter") {
      invocation.overrides["tinyproxyFilter"] = value;
    } else if (name == "log-dir") {
      invocation.overrides["logDir"] = value;
    } else if (name == "nix-daemon-socket") {
      invocation.overrides["nixDaemonSocket"] = value;
    } else if (name == "nix-store") {
      invocation.overrides["nixStore"] = value;
    } else if (name == "network") {
      if (value != "proxy" && value != "none") {
        return UsageError(
            absl::StrCat("--network=", value, ": expected proxy or none"));
      }
      invocation.overrides["network.mode"] = value;
    } else if (name == "capabilities") {
      if (value != "all" && value != "none") {
        return UsageError(
            absl::StrCat("--capabilities=", value, ": expected all or none"));
      }
      invocation.overrides["isolation.capabilities"] = value;
    } else if (name == "ro-bind" || name == "bind") {
      invocation.appended_mounts.emplace_back(arg, MountFromFlag(name, value));
    } else if (name == "env") {
      const size_t eq = value.find('=');
      if (eq == std::string::npos || eq == 0) {
        return UsageError(
            absl::StrCat("--env=", value, ": expected NAME=VALUE"));
      }
      invocation.env.emplace_back(value.substr(0, eq), value.substr(eq + 1));
    } else {
      return UsageError(
          absl::StrCat("unknown flag --", name, " (see 'cell help run')"));
    }
  }
  return invocation;
}

// Applies the overrides to the spec's JSON; "a.b" names a nested field.
void ApplyOverrides(const Invocation& invocation, Json* spec) {
  for (const auto& [field, value] : invocation.overrides.items()) {
    const size_t dot = field.find('.');
    if (dot == std::string::npos) {
      (*spec)[field] = value;
      continue;
    }
    Json& parent = (*spec)[field.substr(0, dot)];
    if (!parent.is_object()) parent = Json::object();
    parent[field.substr(dot + 1)] = value;
  }
  if (!invocation.appended_mounts.empty()) {
    Json& mounts = (*spec)["mounts"];
    if (mounts.is_null()) mounts = Json::array();
    for (const auto& [flag, mount] : invocation.appended_mounts) {
      if (mounts.is_array()) mounts.push_back(mount);
    }
  }
  if (!invocation.env.empty()) {
    Json& env = (*spec)["env"];
    if (env.is_null()) env = Json::object();
    for (const auto& [name, value] : invocation.env) {
      if (env.is_object()) env[name] = value;
    }
  }
}

absl::StatusOr<std::string> CurrentDirectory() {
  char buffer[PATH_MAX];
  if (getcwd(buffer, sizeof(buffer)) == nullptr) {
    return cell::ErrnoStatus(errno, "cannot read the current directory");
  }
  return std::string(buffer);
}

absl::StatusOr<cell::CellSpec> LoadSpec(const Invocation& invocation) {
  Json json = {{"version", 1}};
  std::string source = "command line";
  if (invocation.spec_file.has_value()) {
    source = *invocation.spec_file;
    CELL_ASSIGN_OR_RETURN(
        std::string text,
        cell::ReadFileToString(*invocation.spec_file, cell::kMaxJsonTextBytes));
    CELL_ASSIGN_OR_RETURN(json, cell::ParseJsonText(text, source));
  }
  ApplyOverrides(invocation, &json);
  absl::StatusOr<cell::CellSpec> spec = cell::SpecFromJson(json);
  if (!spec.ok()) {
    return absl::Status(spec.status().code(),
                        absl::StrCat(source, ": ", spec.status().message()));
  }
  CELL_ASSIGN_OR_RETURN(std::string cwd, CurrentDirectory());
  return cell::ResolveSpec(*std::move(spec), cwd);
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
                                   bool allow_command, const char* usage,
                                   int error_exit, int* exit_code) {
  absl::StatusOr<Invocation> invocation = ParseFlags(args, allow_command);
  if (!invocation.ok()) {
    PrintError(invocation.status());
    *exit_code = error_exit;
    return std::nullopt;
  }
  if (invocation->help) {
    std::fputs(usage, stdout);
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

int Run(const std::vector<std::string>& args) {
  int exit_code = 0;
  std::optional<Loaded> loaded = ParseAndLoad(
      args, /*allow_command=*/true, kRunUsage, kExitLaunchFailed, &exit_code);
  if (!loaded.has_value()) return exit_code;
  cell::RunOptions options;
  options.command = loaded->invocation.command;
  options.status_file = loaded->invocation.status_file;
  absl::StatusOr<cell::ExitReport> report =
      cell::RunCell(loaded->spec, options);
  if (!report.ok()) {
    PrintError(report.status());
    return kExitLaunchFailed;
  }
  if (!report->diagnostic.empty()) {
    std::fprintf(stderr, "cell: %s\n", report->diagnostic.c_str());
  }
  return report->ExitStatus();
}

int CheckSpec(const std::vector<std::string>& args) {
  int exit_code = 0;
  std::optional<Loaded> loaded = ParseAndLoad(
      args, /*allow_command=*/false, kCheckSpecUsage, kExitUsage, &exit_code);
  if (!loaded.has_value()) return exit_code;
  std::printf("%s\n", cell::SpecToJson(loaded->spec).dump(2).c_str());
  return 0;
}

int Pack(const std::vector<std::string>& args) {
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-h") {
      std::fputs(kPackUsage, stdout);
      return 0;
    }
  }
  std::fputs("cell: pack is not available in this build yet\n", stderr);
  return kExitUsage;
}

int Help(const std::vector<std::string>& args) {
  const std::string topic = args.empty() ? "" : args.front();
  if (topic == "run") {
    std::fputs(kRunUsage, stdout);
  } else if (topic == "check-spec") {
    std::fputs(kCheckSpecUsage, stdout);
  } else if (topic == "pack") {
    std::fputs(kPackUsage, stdout);
  } else {
    std::fputs(kUsage, stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
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
  std::fprintf(stderr,
               "cell: unknown command '%s'; expected run, check-spec or pack "
               "(see 'cell --help')\n",
               argv[1]);
  return kExitUsage;
}
