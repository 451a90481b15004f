// The domain filter file (`tinyproxyFilter`): one POSIX extended regex per
// line, matched case-insensitively against the request's host; a host is
// allowed when any line matches. Read exactly as tinyproxy reads it (text
// from '#' on is a comment, surrounding whitespace is dropped, blank lines
// are skipped) and compiled with the same regcomp flags, so that a filter
// tinyproxy would reject fails here, before launch, with FILE:LINE.
#ifndef CELL_LAUNCHER_PROXY_FILTER_H_
#define CELL_LAUNCHER_PROXY_FILTER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cell {

struct FilterPattern {
  int line = 0;  // 1-based line in the file.
  std::string pattern;
};

// The filter used when the spec gives none: allow every host.
inline constexpr absl::string_view kAllowAllFilter = ".*\n";

// Longest line tinyproxy reads whole (its buffer is 512 bytes; a longer
// line would be split and read as two patterns).
inline constexpr size_t kMaxFilterLineBytes = 500;

// `source` names the text in errors.
absl::StatusOr<std::vector<FilterPattern>> ParseFilter(
    absl::string_view text, absl::string_view source);

// Reads and parses a filter file (a regular file of at most 1 MiB).
absl::StatusOr<std::vector<FilterPattern>> LoadFilterFile(
    absl::string_view path);

// A filter file read once: the bytes an engine is given and the patterns
// that were checked in them.
struct FilterFile {
  std::string text;
  std::vector<FilterPattern> patterns;
};
absl::StatusOr<FilterFile> ReadFilterFile(absl::string_view path);

// True when some pattern matches `host` the way tinyproxy matches it.
bool FilterAllows(const std::vector<FilterPattern>& patterns,
                  absl::string_view host);

}  // namespace cell

#endif  // CELL_LAUNCHER_PROXY_FILTER_H_
