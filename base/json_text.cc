#include "base/json_text.h"

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace cell {
namespace {

using Json = nlohmann::json;

constexpr size_t kMaxDepth = 64;

// Forwards SAX events to nlohmann's DOM builder while recording the first
// error with its position, rejecting duplicate keys (which nlohmann would
// silently resolve to the last one — a typo must not weaken a jail) and
// bounding the nesting depth.
class CheckingSax {
 public:
  explicit CheckingSax(Json* result)
      : dom_(*result, /*allow_exceptions=*/false) {}

  bool null() { return dom_.null(); }
  bool boolean(bool value) { return dom_.boolean(value); }
  bool number_integer(Json::number_integer_t value) {
    return dom_.number_integer(value);
  }
  bool number_unsigned(Json::number_unsigned_t value) {
    return dom_.number_unsigned(value);
  }
  bool number_float(Json::number_float_t value, const std::string& text) {
    return dom_.number_float(value, text);
  }
  bool string(std::string& value) { return dom_.string(value); }
  bool binary(Json::binary_t& value) { return dom_.binary(value); }
  bool start_object(std::size_t size) {
    if (!Enter()) return false;
    keys_.emplace_back();
    return dom_.start_object(size);
  }
  bool key(std::string& key) {
    if (!keys_.back().insert(key).second) {
      error_ = absl::StrCat("duplicate key \"", key, "\"");
      return false;
    }
    return dom_.key(key);
  }
  bool end_object() {
    keys_.pop_back();
    --depth_;
    return dom_.end_object();
  }
  bool start_array(std::size_t size) {
    if (!Enter()) return false;
    return dom_.start_array(size);
  }
  bool end_array() {
    --depth_;
    return dom_.end_array();
  }
  bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& error) {
    // nlohmann's message is "[json.exception.parse_error.101] parse error at
    // line 3, column 7: syntax error ..."; keep the part after the position,
    // which we print in our own FILE:LINE:COLUMN form.
    std::string message = error.what();
    const size_t colon = message.find(": ");
    if (colon != std::string::npos) message = message.substr(colon + 2);
    error_ = message;
    return false;
  }

  const std::string& error() const { return error_; }

 private:
  bool Enter() {
    if (++depth_ > kMaxDepth) {
      error_ = absl::StrCat("nesting deeper than ", kMaxDepth, " levels");
      return false;
    }
    return true;
  }

  nlohmann::detail::json_sax_dom_parser<Json> dom_;
  std::vector<std::set<std::string>> keys_;
  size_t depth_ = 0;
  std::string error_;
};

// Line and column (both 1-based) of byte `offset` in `text`.
std::pair<size_t, size_t> LineAndColumn(absl::string_view text, size_t offset) {
  size_t line = 1;
  size_t column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

// Counts how far the lexer has read: nlohmann reports positions only for its
// own syntax errors, and CheckingSax's errors (duplicate keys, depth) need
// one too.
struct CountingIterator {
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;
  const char* position;
  size_t* furthest;
  const char* begin;
  reference operator*() const { return *position; }
  CountingIterator& operator++() {
    ++position;
    const size_t offset = static_cast<size_t>(position - begin);
    if (offset > *furthest) *furthest = offset;
    return *this;
  }
  bool operator==(const CountingIterator& other) const {
    return position == other.position;
  }
  bool operator!=(const CountingIterator& other) const {
    return !(*this == other);
  }
};

}  // namespace

absl::StatusOr<nlohmann::json> ParseJsonText(absl::string_view text,
                                             absl::string_view source) {
  if (text.size() > kMaxJsonTextBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": ", text.size(), " bytes is larger than the limit of ",
        kMaxJsonTextBytes, " bytes"));
  }
  Json result;
  CheckingSax sax(&result);
  size_t furthest = 0;
  const char* begin = text.data();
  const bool ok = Json::sax_parse(
      CountingIterator{begin, &furthest, begin},
      CountingIterator{begin + text.size(), &furthest, begin}, &sax,
      nlohmann::detail::input_format_t::json, /*strict=*/true,
      /*ignore_comments=*/true);
  if (!ok) {
    const auto [line, column] = LineAndColumn(text, furthest);
    return absl::InvalidArgumentError(
        absl::StrCat(source, ":", line, ":", column, ": invalid JSON: ",
                     sax.error().empty() ? "syntax error" : sax.error()));
  }
  return result;
}

}  // namespace cell
