// Presets: named sets of a host's system paths that give a cell a working
// userland in one flag (`--preset=host`). Host side, at resolution: a
// preset becomes mounts for what exists on this host only, each symlink as
// a symlink to the same target (so /bin -> usr/bin stays a link), anything
// else as a read-only bind of itself. Never the host's secrets: of /etc/ssl
// only the certificates and OpenSSL's configuration, never private/.
#ifndef CELL_LAUNCHER_SPEC_PRESETS_H_
#define CELL_LAUNCHER_SPEC_PRESETS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "launcher/spec/spec.h"

namespace cell {

struct Preset {
  const char* name;
  const char* summary;
  // Absolute host paths, bound at the same path inside when they exist.
  std::vector<const char*> paths;
  // Directories added to the default PATH (when the spec sets no `path`).
  std::vector<const char*> path_dirs;
  // The preset's links point into the Nix store, which must be bound.
  bool needs_nix = false;
};

// Every preset, in the order `cell help presets` lists them.
const std::vector<Preset>& Presets();

// The mounts `names` stand for on the host whose root directory is
// `host_root` ("" for the real one; a directory in tests): a path missing
// there is left out, and so is one at, above or beneath a destination in
// `taken` (the spec's own mounts win). Sources are `host_root` + path;
// symlink targets are copied as they are.
std::vector<MountSpec> ExpandPresets(const std::vector<std::string>& names,
                                     absl::string_view host_root,
                                     const std::vector<std::string>& taken);

// The PATH directories `names` add, in order, without repeats.
std::vector<std::string> PresetPathDirs(const std::vector<std::string>& names);

// `cell help presets`: what each preset binds.
std::string PresetHelp();

}  // namespace cell

#endif  // CELL_LAUNCHER_SPEC_PRESETS_H_
