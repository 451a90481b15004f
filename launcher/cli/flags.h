// `cell`'s flags as one table: each row names the flag, its value, the spec
// field it sets and the subcommands that take it, with its help. The
// parser and the usage text are both made from the table, so a flag is
// written once. Pure: no I/O.
#ifndef CELL_LAUNCHER_CLI_FLAGS_H_
#define CELL_LAUNCHER_CLI_FLAGS_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "nlohmann/json.hpp"

namespace cell {

enum class Subcommand { kRun, kCheckSpec, kPack };

// What a flag's value is and where it goes.
enum class FlagKind {
  kSwitchOn,   // No value; sets `field` to true.
  kSwitchOff,  // No value; sets `field` to false.
  kText,       // Sets `field` to the value.
  kChoice,     // One of `choices` ("a|b"); sets `field`.
  kBytes,      // A size (K, M, G, T suffixes); sets `field`.
  kCount,      // A whole number; sets `field`.
  kRlimit,     // NAME=VALUE; sets limits.rlimits.NAME.
  kMount,      // SRC[:DST]; appends a mount of type `name`.
  kMountAt,    // DST; appends a tmpfs or dir (`name`) there.
  kSymlinkAt,  // TARGET:DST; appends a symlink.
  kPreset,     // Appends to presets.
  kTlsRoots,   // Optional =FILE; tlsRoots, the host's bundle without one.
  kEnv,        // NAME=VALUE; sets env.NAME.
  kProtect,    // Appends to protect.
  kSpecFile,   // Not a spec field: the invocation's own options.
  kPackedFile,
  kStatusFile,
  kOutput,
  kUncheckedPaths,
  kDryRun,
};

// Bits of FlagDef::subcommands.
inline constexpr unsigned kForRun = 1u << 0;
inline constexpr unsigned kForCheckSpec = 1u << 1;
inline constexpr unsigned kForPack = 1u << 2;
inline constexpr unsigned kForAll = kForRun | kForCheckSpec | kForPack;

struct FlagDef {
  const char* name;        // Without "--".
  const char* value_name;  // "DIR", "SIZE"; "" for switches.
  FlagKind kind;
  const char* field;    // The spec field it sets ("a.b"); "" for none.
  const char* choices;  // For kChoice: "proxy|none".
  unsigned subcommands;
  const char* help;  // One paragraph; wrapped when printed.
};

// Every flag, in the order `cell help` lists them.
absl::Span<const FlagDef> Flags();

struct Invocation {
  std::optional<std::string> spec_file;
  std::optional<std::string> packed_file;  // check-spec --packed=CELL.
  std::string status_file;
  std::string output;
  nlohmann::json overrides = nlohmann::json::object();  // Field -> value.
  std::vector<std::pair<std::string, nlohmann::json>> appended_mounts;
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<std::string> protect;
  std::vector<std::string> presets;
  std::vector<std::string> command;
  bool help = false;
  bool unchecked_paths = false;  // pack --unchecked-paths.
  bool dry_run = false;          // run --dry-run.
};

// The name among `candidates` nearest to `name` by edit distance, when
// near enough to be a typo ("--worktre" for "--worktree"); "" otherwise.
std::string NearestName(absl::string_view name,
                        const std::vector<std::string>& candidates);

// Parses `args` (after the subcommand). Errors name the flag and the fix.
absl::StatusOr<Invocation> ParseFlags(const std::vector<std::string>& args,
                                      Subcommand subcommand);

// Applies the overrides to the spec's JSON; "a.b.c" names a nested field.
void ApplyOverrides(const Invocation& invocation, nlohmann::json* spec);

// The usage lines of the flags that set spec fields (the overrides every
// subcommand takes), or of those `subcommand` alone takes.
std::string OverrideHelp();
std::string OwnFlagHelp(Subcommand subcommand);

}  // namespace cell

#endif  // CELL_LAUNCHER_CLI_FLAGS_H_
