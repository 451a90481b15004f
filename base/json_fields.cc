#include "base/json_fields.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "base/status_macros.h"

namespace cell {
namespace {

using Json = nlohmann::json;

}  // namespace

size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      const bool same =
          absl::ascii_tolower(a[i - 1]) == absl::ascii_tolower(b[j - 1]);
      row[j] =
          std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string FieldName(absl::string_view prefix, absl::string_view name) {
  return prefix.empty() ? std::string(name) : absl::StrCat(prefix, ".", name);
}

absl::Status FieldError(absl::string_view field, absl::string_view message) {
  return absl::InvalidArgumentError(
      absl::StrCat("field `", field, "`: ", message));
}

absl::Status TypeError(absl::string_view field, absl::string_view expected,
                       const Json& got) {
  return FieldError(
      field, absl::StrCat("expected ", expected, ", got ", got.type_name()));
}

// Unknown fields are errors: a typo must not silently weaken a jail.
absl::Status CheckKnownFields(const Json& object, absl::string_view prefix,
                              const std::vector<absl::string_view>& known) {
  for (const auto& item : object.items()) {
    const std::string& key = item.key();
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    absl::string_view closest;
    size_t best = 3;  // Suggest only near misses.
    for (absl::string_view candidate : known) {
      const size_t distance = EditDistance(key, candidate);
      if (distance < best) {
        best = distance;
        closest = candidate;
      }
    }
    std::string hint =
        closest.empty()
            ? absl::StrCat("known fields: ", absl::StrJoin(known, ", "))
            : absl::StrCat("did you mean `", closest, "`?");
    return FieldError(FieldName(prefix, key),
                      absl::StrCat("unknown field; ", hint));
  }
  return absl::OkStatus();
}

bool IsValidUtf8(absl::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char lead = static_cast<unsigned char>(text[i]);
    size_t length = 0;
    uint32_t min = 0;
    uint32_t code = 0;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if ((lead & 0xE0) == 0xC0) {
      length = 2, min = 0x80, code = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3, min = 0x800, code = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4, min = 0x10000, code = lead & 0x07;
    } else {
      return false;
    }
    if (text.size() - i < length) return false;
    for (size_t k = 1; k < length; ++k) {
      const unsigned char next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3F);
    }
    if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
      return false;
    }
    i += length;
  }
  return true;
}

absl::Status CheckText(absl::string_view field, absl::string_view value) {
  if (value.find('\0') != absl::string_view::npos) {
    return FieldError(field, "contains a NUL byte");
  }
  if (!IsValidUtf8(value)) {
    return FieldError(field,
                      "is not valid UTF-8; a spec is JSON text, so paths and "
                      "values must be UTF-8");
  }
  return absl::OkStatus();
}

const Json* FindField(const Json& object, absl::string_view name) {
  auto it = object.find(std::string(name));
  return it == object.end() ? nullptr : &*it;
}

absl::Status ReadString(const Json& object, absl::string_view prefix,
                        absl::string_view name, std::string* out) {
  const Json* value = FindField(object, name);
  if (value == nullptr) return absl::OkStatus();
  const std::string field = FieldName(prefix, name);
  if (!value->is_string()) return TypeError(field, "a string", *value);
  const std::string& text = value->get_ref<const std::string&>();
  if (text.empty()) return FieldError(field, "must not be empty");
  CELL_RETURN_IF_ERROR(CheckText(field, text));
  *out = text;
  return absl::OkStatus();
}

absl::Status ReadNullableString(const Json& object, absl::string_view prefix,
                                absl::string_view name,
                                std::optional<std::string>* out) {
  const Json* value = FindField(object, name);
  if (value == nullptr || value->is_null()) {
    out->reset();
    return absl::OkStatus();
  }
  std::string text;
  if (!value->is_string()) {
    return TypeError(FieldName(prefix, name), "a string or null", *value);
  }
  CELL_RETURN_IF_ERROR(ReadString(object, prefix, name, &text));
  *out = std::move(text);
  return absl::OkStatus();
}

absl::Status ReadBool(const Json& object, absl::string_view prefix,
                      absl::string_view name, bool* out) {
  const Json* value = FindField(object, name);
  if (value == nullptr) return absl::OkStatus();
  if (!value->is_boolean()) {
    return TypeError(FieldName(prefix, name), "true or false", *value);
  }
  *out = value->get<bool>();
  return absl::OkStatus();
}

absl::Status ReadStringList(const Json& object, absl::string_view prefix,
                            absl::string_view name,
                            std::vector<std::string>* out) {
  const Json* value = FindField(object, name);
  if (value == nullptr) return absl::OkStatus();
  const std::string field = FieldName(prefix, name);
  if (!value->is_array()) return TypeError(field, "a list of strings", *value);
  out->clear();
  for (size_t i = 0; i < value->size(); ++i) {
    const Json& item = (*value)[i];
    const std::string item_field = absl::StrCat(field, "[", i, "]");
    if (!item.is_string()) return TypeError(item_field, "a string", item);
    CELL_RETURN_IF_ERROR(
        CheckText(item_field, item.get_ref<const std::string&>()));
    out->push_back(item.get<std::string>());
  }
  return absl::OkStatus();
}

}  // namespace cell
