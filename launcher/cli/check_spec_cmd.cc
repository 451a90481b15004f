// `cell check-spec`: the spec a command line describes, checked and
// printed resolved, without launching anything.
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "launcher/cli/common.h"
#include "launcher/proxy/engines.h"

namespace cell {
namespace {

constexpr char kCheckSpecUsage[] =
    R"(Usage: cell check-spec [--spec=FILE | --packed=CELL] [OVERRIDES]

Validates the spec (and any overrides, as for `cell run`) without launching
anything, and prints it fully resolved as JSON: every default filled in,
every path absolute and canonical. Exit 0, or 2 with one line per error.

)";

}  // namespace

std::string CheckSpecUsage() {
  return absl::StrCat(kCheckSpecUsage, OwnFlagHelp(Subcommand::kCheckSpec));
}

int CheckSpec(const std::vector<std::string>& args) {
  int exit_code = 0;
  std::optional<Loaded> loaded = ParseAndLoad(
      args, Subcommand::kCheckSpec, CheckSpecUsage(), kExitUsage, &exit_code);
  if (!loaded.has_value()) return exit_code;
  // A packed cell's host paths are resolved where it runs, not here.
  if (!loaded->invocation.packed_file.has_value()) {
    if (const absl::Status filter = CheckFilter(loaded->spec); !filter.ok()) {
      PrintError(filter);  // A filter line is shown, not obeyed (\xNN).
      return kExitUsage;
    }
  }
  std::printf("%s\n", SpecToJson(loaded->spec).dump(2).c_str());
  return 0;
}

}  // namespace cell
