// `cell pack`: a packed cell is the static `cell` executable with a spec
// appended to its image, so that one file can be copied and run anywhere.
//
// Layout of a packed cell (all integers little-endian):
//
//   [ELF image of cell][payload: JSON text][trailer: 24 bytes]
//   trailer = "CELLPK01" | payload size (u64) | FNV-1a 64 of payload (u64)
//
// The payload is {"cellPack": 1, "source": "...", "spec": {...}}. The ELF
// header says where the image ends (the section header table is last), so
// bytes appended to an image are found even when the trailer is damaged: a
// packed cell with a broken trailer is reported as corrupt instead of being
// taken for a plain `cell` and misreading its arguments.
//
// Everything here runs in the launcher before any clone.
#ifndef CELL_LAUNCHER_CLI_PACK_H_
#define CELL_LAUNCHER_CLI_PACK_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace cell {

inline constexpr absl::string_view kPackMagic = "CELLPK01";
inline constexpr size_t kPackTrailerBytes = 24;

// What a packed cell carries.
struct PackedSpec {
  // The spec as validated at pack time (defaults filled in; host paths as
  // written, resolved at each run against the directory it runs in).
  nlohmann::json spec;
  // Where the spec came from when it was packed (for --help).
  std::string source;
};

// FNV-1a, 64 bit: detects a damaged payload (not an attacker: whoever can
// write the file can rewrite the checksum too).
uint64_t PackChecksum(absl::string_view data);

// Payload and trailer for `packed`, to append to a bare image.
std::string EncodePackedSpec(const PackedSpec& packed);

// Reads the ELF header of the executable open at `fd` and returns where its
// image ends, or nullopt when that cannot be told (not ELF64, or no
// section headers).
absl::StatusOr<std::optional<uint64_t>> ElfImageSize(int fd);

// The spec packed into the executable at `path`; nullopt for a plain `cell`.
// A file with bytes after its ELF image that are not a valid pack (bad
// trailer, size or checksum, JSON that is not a pack) is an error that says
// the packed cell is damaged. Errors call the file `name` when given (the
// launcher reads itself through /proc/self/exe, which users do not know).
absl::StatusOr<std::optional<PackedSpec>> ReadPackedSpec(
    absl::string_view path, absl::string_view name = "");

// Writes `output`: the ELF image of `launcher_path` (without any spec it
// already carries) followed by `packed`, mode 0755. Written to a temporary
// file beside `output` and renamed over it, so a failure never leaves a
// half-written cell.
absl::Status WritePackedCell(absl::string_view launcher_path,
                             const PackedSpec& packed,
                             absl::string_view output);

}  // namespace cell

#endif  // CELL_LAUNCHER_CLI_PACK_H_
