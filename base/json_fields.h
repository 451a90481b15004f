// Typed readers for fields of a parsed JSON object, shared by the cell
// spec and the policy parsers. Every error names the field by its path
// ("network.mode", "mounts[2].dst") and says what was expected.
#ifndef CELL_BASE_JSON_FIELDS_H_
#define CELL_BASE_JSON_FIELDS_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace cell {

// "prefix.name", or "name" at the top level.
std::string FieldName(absl::string_view prefix, absl::string_view name);

// InvalidArgument "field `FIELD`: MESSAGE".
absl::Status FieldError(absl::string_view field, absl::string_view message);

// "field `FIELD`: expected EXPECTED, got TYPE".
absl::Status TypeError(absl::string_view field, absl::string_view expected,
                       const nlohmann::json& got);

// Edits (insert, delete, replace a character; case ignored) from `a` to
// `b`: how near a mistyped name is to a known one.
size_t EditDistance(absl::string_view a, absl::string_view b);

// Unknown fields are errors, with "did you mean" for near misses.
absl::Status CheckKnownFields(const nlohmann::json& object,
                              absl::string_view prefix,
                              const std::vector<absl::string_view>& known);

// A string field must be valid UTF-8 (a spec is JSON text, and printing it
// back must not fail) without NUL bytes (C APIs would truncate it). Values
// from command-line flags reach the spec this way, unchecked by any parser.
absl::Status CheckText(absl::string_view field, absl::string_view value);

// True for well-formed UTF-8: no overlong forms, surrogates or values above
// U+10FFFF.
bool IsValidUtf8(absl::string_view text);

// The member `name` of `object`, or nullptr.
const nlohmann::json* FindField(const nlohmann::json& object,
                                absl::string_view name);

// Each reader leaves `*out` untouched when the field is absent.
absl::Status ReadString(const nlohmann::json& object, absl::string_view prefix,
                        absl::string_view name, std::string* out);
absl::Status ReadNullableString(const nlohmann::json& object,
                                absl::string_view prefix,
                                absl::string_view name,
                                std::optional<std::string>* out);
absl::Status ReadBool(const nlohmann::json& object, absl::string_view prefix,
                      absl::string_view name, bool* out);
absl::Status ReadStringList(const nlohmann::json& object,
                            absl::string_view prefix, absl::string_view name,
                            std::vector<std::string>* out);

// A string field that must be one of `values`.
template <typename Enum>
absl::Status ReadEnum(
    const nlohmann::json& object, absl::string_view prefix,
    absl::string_view name,
    const std::vector<std::pair<absl::string_view, Enum>>& values, Enum* out) {
  const nlohmann::json* value = FindField(object, name);
  if (value == nullptr) return absl::OkStatus();
  const std::string field = FieldName(prefix, name);
  std::vector<std::string> quoted;
  for (const auto& entry : values) {
    quoted.push_back(absl::StrCat("\"", entry.first, "\""));
  }
  const std::string expected =
      absl::StrCat("one of ", absl::StrJoin(quoted, ", "));
  if (!value->is_string()) return TypeError(field, expected, *value);
  for (const auto& [text, enum_value] : values) {
    if (value->get_ref<const std::string&>() == text) {
      *out = enum_value;
      return absl::OkStatus();
    }
  }
  return FieldError(field, absl::StrCat("\"", value->get<std::string>(),
                                        "\" is not ", expected));
}

// The text of `value` in `values`, or "?".
template <typename Enum>
absl::string_view EnumName(
    const std::vector<std::pair<absl::string_view, Enum>>& values, Enum value) {
  for (const auto& [text, enum_value] : values) {
    if (enum_value == value) return text;
  }
  return "?";
}

}  // namespace cell

#endif  // CELL_BASE_JSON_FIELDS_H_
