// A parsed spec made concrete on this host: every host path absolute,
// canonical, through trusted symlinks only (base/host_path.h), existing and
// of the right kind; optional mounts that are missing dropped; the default
// PATH found in the store. Host side, before anything is created; reads the
// file system, writes nothing.
#ifndef CELL_LAUNCHER_SPEC_RESOLVE_H_
#define CELL_LAUNCHER_SPEC_RESOLVE_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "launcher/spec/spec.h"

namespace cell {

// Relative paths are relative to `cwd` (absolute). Errors name the field
// and the fix.
absl::StatusOr<CellSpec> ResolveSpec(CellSpec spec, absl::string_view cwd);

}  // namespace cell

#endif  // CELL_LAUNCHER_SPEC_RESOLVE_H_
