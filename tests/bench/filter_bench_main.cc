// Filter decision rate for a large filter (10,000 anchored host lines, as a
// big allowlist would be): the builtin engine's HostFilter (one RE2::Set)
// against tinyproxy's way (regexec over each line in turn, FilterAllows).
// Prints "NAME decisions_per_second" lines.
#include <regex.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "launcher/proxy/filter.h"
#include "launcher/proxy/host_filter.h"

namespace {

double PerSecond(int count, std::chrono::steady_clock::duration elapsed) {
  return count / std::chrono::duration<double>(elapsed).count();
}

}  // namespace

int main() {
  constexpr int kLines = 10000;
  std::string text;
  for (int i = 0; i < kLines; ++i) {
    absl::StrAppend(&text, "^(www\\.|api\\.)?host", i, "\\.example\\.org$\n");
  }
  absl::StatusOr<std::vector<cell::FilterPattern>> patterns =
      cell::ParseFilter(text, "bench");
  if (!patterns.ok()) return 1;
  const auto compile_start = std::chrono::steady_clock::now();
  absl::StatusOr<cell::HostFilter> filter =
      cell::HostFilter::Compile(*patterns, "bench");
  const auto compiled = std::chrono::steady_clock::now();
  if (!filter.ok()) return 1;
  // Half allowed (spread over the file), half denied.
  std::vector<std::string> hosts;
  for (int i = 0; i < 1000; ++i) {
    hosts.push_back(i % 2 == 0 ? absl::StrCat("api.host", i * 7, ".example.org")
                               : absl::StrCat("evil", i, ".example.com"));
  }
  int allowed = 0;
  const auto start = std::chrono::steady_clock::now();
  constexpr int kRounds = 20;
  for (int round = 0; round < kRounds; ++round) {
    for (const std::string& host : hosts)
      allowed += filter->Decide(host).allowed;
  }
  const auto re2_done = std::chrono::steady_clock::now();
  // tinyproxy compiles every line once (same flags as launcher/proxy/filter.cc),
  // then runs regexec over the lines in order until one matches.
  std::vector<regex_t> compiled_lines(patterns->size());
  for (size_t i = 0; i < patterns->size(); ++i) {
    regcomp(&compiled_lines[i], (*patterns)[i].pattern.c_str(),
            REG_EXTENDED | REG_ICASE | REG_NOSUB | REG_NEWLINE);
  }
  const auto posix_start = std::chrono::steady_clock::now();
  constexpr int kSlow = 200;
  for (int i = 0; i < kSlow; ++i) {
    for (const regex_t& line : compiled_lines) {
      if (regexec(&line, hosts[i].c_str(), 0, nullptr, 0) == 0) {
        ++allowed;
        break;
      }
    }
  }
  const auto posix_done = std::chrono::steady_clock::now();
  for (regex_t& line : compiled_lines) regfree(&line);
  std::printf("lines %d\n", kLines);
  std::printf(
      "re2-set-compile-ms %.1f\n",
      std::chrono::duration<double, std::milli>(compiled - compile_start)
          .count());
  std::printf(
      "builtin-re2-set %.0f\n",
      PerSecond(kRounds * static_cast<int>(hosts.size()), re2_done - start));
  std::printf("tinyproxy-regexec %.0f\n",
              PerSecond(kSlow, posix_done - posix_start));
  std::printf("(allowed %d)\n", allowed);
  return 0;
}
