// What `cell`'s subcommands share: exit codes, errors on stderr, and the
// spec a command line describes (--spec or --packed, overrides applied,
// resolved against the current directory). Host side, before any launch.
#ifndef CELL_LAUNCHER_CLI_COMMON_H_
#define CELL_LAUNCHER_CLI_COMMON_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "launcher/cli/flags.h"
#include "launcher/cli/pack.h"
#include "launcher/spec/spec.h"
#include "nlohmann/json.hpp"

namespace cell {

inline constexpr int kExitLaunchFailed = 125;
inline constexpr int kExitUsage = 2;

absl::Status UsageError(absl::string_view message);

// "cell: MESSAGE" on stderr.
void PrintError(const absl::Status& status);

// The launcher's working directory: what relative host paths resolve
// against.
absl::StatusOr<std::string> CurrentDirectory();

// `json` read as a spec; errors are prefixed with where it came from.
absl::StatusOr<CellSpec> SpecFrom(const nlohmann::json& json,
                                  absl::string_view source);

struct SpecSource {
  nlohmann::json json;
  std::string name;  // For errors: the file, or "command line".
  // The spec file's canonical path, given or found.
  std::optional<std::string> file;
  // The project files a found spec names, whose trusted copies are used:
  // kept read-only inside the cell too, so that no cell makes the next
  // launch refuse them.
  std::vector<std::string> project_files;
};

// The spec's JSON from --spec or --packed (or none), overrides applied.
absl::StatusOr<SpecSource> ReadSpecJson(const Invocation& invocation);

struct Loaded {
  Invocation invocation;
  CellSpec spec;
  std::string source;  // Where the spec came from, for messages.
  // Files that control the next launch (the spec file, given or found, and
  // the project files a found one names): read-only inside the cell.
  std::vector<std::string> control_files;
};

// mkdir -p of `absolute` with `mode`: its nearest existing ancestor
// resolved through trusted symlinks only, then each missing component made
// and opened without following a link.
absl::Status MakeDirectories(const std::string& absolute, mode_t mode);

// Makes the spec's logDir (mode 0700, missing parents too) when it does not
// exist yet, through trusted symlinks only; `cwd` anchors a relative one.
absl::Status CreateLogDir(const CellSpec& spec, const std::string& cwd);

// Flags, then the spec they describe. Without a spec, `*exit_code` says how
// to exit: 0 after printing `usage` for --help, `error_exit` after printing
// the error.
std::optional<Loaded> ParseAndLoad(const std::vector<std::string>& args,
                                   Subcommand subcommand,
                                   const std::string& usage, int error_exit,
                                   int* exit_code);

// The subcommands: each returns the process's exit status.
int Run(const std::vector<std::string>& args);
// A packed cell's own command line (`name` is its argv[0]).
int RunPacked(const PackedSpec& packed, const char* name,
              const std::vector<std::string>& args);
int CheckSpec(const std::vector<std::string>& args);
int Pack(const std::vector<std::string>& args);
int Log(const std::vector<std::string>& args);

// Each subcommand's `--help`, made around the flag table's lines.
std::string RunUsage();
std::string CheckSpecUsage();
std::string PackUsage();
std::string LogUsage();

// Where this executable's image is read from (to copy it, or to find the
// spec packed into it), and its name for messages.
inline constexpr char kSelfExe[] = "/proc/self/exe";
std::string SelfName(const char* argv0);

}  // namespace cell

#endif  // CELL_LAUNCHER_CLI_COMMON_H_
