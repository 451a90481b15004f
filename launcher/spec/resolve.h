// A parsed spec made concrete on this host: every host path absolute,
// canonical, through trusted symlinks only (base/host_path.h), existing and
// of the right kind; optional mounts that are missing dropped; presets
// expanded into mounts (launcher/spec/presets.h); "@host" TLS roots found;
// the default PATH found in the store and the presets. Host side, before
// anything is created; reads the file system, writes nothing.
#ifndef CELL_LAUNCHER_SPEC_RESOLVE_H_
#define CELL_LAUNCHER_SPEC_RESOLVE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "launcher/spec/spec.h"
#include "nlohmann/json.hpp"

namespace cell {

struct ResolveOptions {
  // Relative paths are relative to it (absolute). A spec file's own
  // relative paths were anchored at its directory before (AnchorSpecPaths).
  std::string cwd;
  // Directories that hold a user's secrets (.ssh, shell start-up files):
  // a relative worktreePath ("." run in the wrong place) may not be one of
  // them or contain one, and no read-write bind at /home/cell may.
  std::vector<std::string> homes;
  // Where presets look for the host's system paths ("" for "/").
  std::string host_root;
};

// The home directories a cell must not get whole: $HOME, the invoking
// user's passwd entry's, /root, and with `host_user` (a root launcher's
// cell of another user) that user's; those that exist, canonical.
std::vector<std::string> HomeDirectories(
    const std::optional<std::string>& host_user);

// Errors name the field and the fix.
absl::StatusOr<CellSpec> ResolveSpec(CellSpec spec,
                                     const ResolveOptions& options);

// ResolveSpec with the current user's HomeDirectories().
absl::StatusOr<CellSpec> ResolveSpec(CellSpec spec, absl::string_view cwd);

// The spec file's own relative host paths (tinyproxyFilter, logDir,
// nixStore, nixDaemonSocket, tlsRoots, bind sources) made absolute against
// `dir`, the spec file's directory, in its JSON, before any override is
// applied: a spec means the same wherever it is used from. worktreePath
// keeps its meaning (relative to where the cell runs). Values of the wrong
// type are left for the parser to name.
void AnchorSpecPaths(absl::string_view dir, nlohmann::json* spec);

}  // namespace cell

#endif  // CELL_LAUNCHER_SPEC_RESOLVE_H_
