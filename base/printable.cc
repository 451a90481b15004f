#include "base/printable.h"

#include <cstdint>
#include <string>

#include "absl/strings/str_format.h"

namespace cell {
namespace {

// The length of the well-formed UTF-8 sequence at `text[i]` (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF), or 0.
size_t SequenceLength(absl::string_view text, size_t i, uint32_t* code) {
  const auto byte = [&text](size_t at) {
    return static_cast<unsigned char>(text[at]);
  };
  const unsigned char lead = byte(i);
  size_t length = 0;
  uint32_t min = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2, min = 0x80, *code = lead & 0x1f;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3, min = 0x800, *code = lead & 0x0f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4, min = 0x10000, *code = lead & 0x07;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    *code = (*code << 6) | (byte(i + k) & 0x3f);
  }
  if (*code < min || *code > 0x10ffff || (*code >= 0xd800 && *code <= 0xdfff)) {
    return 0;
  }
  return length;
}

void AppendEscaped(absl::string_view bytes, std::string* out) {
  for (const char c : bytes) {
    absl::StrAppendFormat(out, "\\x%02x", static_cast<unsigned char>(c));
  }
}

}  // namespace

std::string Printable(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) {
      AppendEscaped(text.substr(i, 1), &out);
      ++i;
    } else if (c < 0x80) {
      out += text[i++];
    } else {
      uint32_t code = 0;
      const size_t length = SequenceLength(text, i, &code);
      if (length == 0) {
        AppendEscaped(text.substr(i, 1), &out);
        ++i;
      } else if (code <= 0x9f) {
        AppendEscaped(text.substr(i, length), &out);
        i += length;
      } else {
        out.append(text.data() + i, length);
        i += length;
      }
    }
  }
  return out;
}

}  // namespace cell
