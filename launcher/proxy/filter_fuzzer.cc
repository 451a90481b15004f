// Fuzz target: the filter file parser and the builtin engine's decision,
// differentially. Input: filter text, then a NUL, then host names, one per
// line. Where HostFilter (RE2) accepts the filter, its decision for every
// host must equal tinyproxy's (regexec, FilterAllows).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "launcher/proxy/filter.h"
#include "launcher/proxy/host_filter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  const std::string text = input.substr(0, nul);
  const std::vector<std::string> hosts =
      nul == std::string::npos ? std::vector<std::string>{"github.com", "a", ""}
                               : std::vector<std::string>(absl::StrSplit(
                                     input.substr(nul + 1), '\n'));
  absl::StatusOr<std::vector<cell::FilterPattern>> patterns =
      cell::ParseFilter(text, "fuzz");
  if (!patterns.ok() || patterns->size() > 64) return 0;
  absl::StatusOr<cell::HostFilter> filter =
      cell::HostFilter::Compile(*patterns, "fuzz");
  if (!filter.ok()) return 0;
  for (const std::string& host : hosts) {
    // The engine judges only these (others get 400 before any decision).
    if (!cell::IsProxyableHost(host)) continue;
    if (filter->Decide(host).allowed != cell::FilterAllows(*patterns, host)) {
      std::abort();
    }
  }
  return 0;
}
