// Parses JSON text (comments allowed) into nlohmann::json without
// exceptions, with errors that say where: "FILE:LINE:COLUMN: ...". Shared by
// the cell spec and the policy parsers.
#ifndef CELL_BASE_JSON_TEXT_H_
#define CELL_BASE_JSON_TEXT_H_

#include <cstddef>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace cell {

// Largest JSON document accepted; specs and policies are small, and a
// bound keeps a hostile file from exhausting memory.
inline constexpr size_t kMaxJsonTextBytes = 1 << 20;

// `source` names the text in errors (a file path, or "--spec"). Rejects
// syntax errors, duplicate keys in one object, nesting deeper than 64, and
// text over kMaxJsonTextBytes, each as InvalidArgument.
absl::StatusOr<nlohmann::json> ParseJsonText(absl::string_view text,
                                             absl::string_view source);

}  // namespace cell

#endif  // CELL_BASE_JSON_TEXT_H_
