// Differential: for a generated corpus of filter lines and hosts, the
// builtin engine's decision (HostFilter, RE2) equals tinyproxy's (glibc
// regcomp/regexec with tinyproxy's flags, as FilterAllows runs it). A line
// either decides the same way in both or is refused by HostFilter::Compile
// (and by the policy), never silently read differently.
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "launcher/proxy/filter.h"
#include "launcher/proxy/host_filter.h"

namespace cell {
namespace {

const std::vector<std::string>& Atoms() {
  static const auto* atoms =
      new std::vector<std::string>{"github",      "api",
                                   "www",         "com",
                                   "org",         "example",
                                   "cache",       "nixos",
                                   "\\.",         "\\.",
                                   ".",           ".*",
                                   ".+",          "[a-z]+",
                                   "[a-z0-9-]*",  "[0-9]+",
                                   "[^.]+",       "(api|www)",
                                   "(com|org)",   "x?",
                                   "s*",          "[[:alpha:]]+",
                                   "[[:digit:]]", "(\\.[a-z]+)*",
                                   "-",           "1",
                                   "127",         "0",
                                   "[.]",         "(a|b)+",
                                   "[]a]",        "o{2}",
                                   "z{0,1}",      "()"};
  return *atoms;
}

const std::vector<std::string>& HostParts() {
  static const auto* parts = new std::vector<std::string>{
      "github", "api",   "www", "com",  "org",        "example",
      "cache",  "nixos", "a",   "b",    "x",          "gitHub",
      "API",    "127",   "0",   "1",    "oo",         "s",
      "ss",     "z",     "-",   "evil", "githubXcom", "metadata"};
  return *parts;
}

TEST(HostFilterDifferentialTest, Re2AndRegcompDecideTheSame) {
  std::mt19937 random(20261122);
  auto pick = [&random](const std::vector<std::string>& items) {
    return items[std::uniform_int_distribution<size_t>(
        0, items.size() - 1)(random)];
  };
  std::vector<std::string> hosts = {
      "",          "github.com", "api.github.com", "cache.nixos.org",
      "127.0.0.1", "localhost",  "GITHUB.COM",     "github.com.evil.example"};
  for (int i = 0; i < 300; ++i) {
    std::string host = pick(HostParts());
    const int labels = std::uniform_int_distribution<int>(0, 3)(random);
    for (int l = 0; l < labels; ++l) {
      absl::StrAppend(&host, ".", pick(HostParts()));
    }
    hosts.push_back(host);
  }
  int lines_checked = 0, lines_refused = 0, decisions = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string line;
    if (std::uniform_int_distribution<int>(0, 2)(random) == 0) line = "^";
    const int atoms = std::uniform_int_distribution<int>(1, 5)(random);
    for (int a = 0; a < atoms; ++a) line += pick(Atoms());
    if (std::uniform_int_distribution<int>(0, 2)(random) == 0) line += "$";
    absl::StatusOr<std::vector<FilterPattern>> patterns =
        ParseFilter(line + "\n", "corpus");
    if (!patterns.ok() || patterns->empty()) continue;  // regcomp refuses.
    absl::StatusOr<HostFilter> filter =
        HostFilter::Compile(*patterns, "corpus");
    if (!filter.ok()) {
      ++lines_refused;  // Named as an error: never decides differently.
      continue;
    }
    ++lines_checked;
    for (const std::string& host : hosts) {
      ++decisions;
      ASSERT_EQ(filter->Decide(host).allowed, FilterAllows(*patterns, host))
          << "line '" << line << "', host '" << host << "'";
    }
  }
  // The corpus must exercise something, or this test proves nothing.
  EXPECT_GT(lines_checked, 2000);
  EXPECT_GT(decisions, 500000);
  std::printf("%d lines, %d refused, %d decisions agree\n", lines_checked,
              lines_refused, decisions);
}

}  // namespace
}  // namespace cell
