#include "launcher/proxy/host_filter.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "launcher/proxy/filter.h"
#include "testing/status_matchers.h"

namespace cell {
namespace {

using ::cell::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Optional;

HostFilter Compiled(const std::string& text) {
  absl::StatusOr<std::vector<FilterPattern>> patterns =
      ParseFilter(text, "filter");
  EXPECT_TRUE(patterns.ok()) << patterns.status();
  absl::StatusOr<HostFilter> filter = HostFilter::Compile(*patterns, "filter");
  EXPECT_TRUE(filter.ok()) << filter.status();
  return *std::move(filter);
}

TEST(HostFilterTest, FirstMatchingLineDecides) {
  const HostFilter filter =
      Compiled("# comment\n^github\\.com$\n\n\\.github\\.com$\ngithub\n");
  EXPECT_EQ(filter.line_count(), 3u);
  FilterDecision d = filter.Decide("github.com");
  EXPECT_TRUE(d.allowed);
  EXPECT_THAT(d.line, Optional(2));
  EXPECT_THAT(filter.MatchingLines("api.github.com"), ElementsAre(4, 5));
  EXPECT_THAT(filter.Decide("api.github.com").line, Optional(4));
  d = filter.Decide("example.com");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.line, std::nullopt);
}

TEST(HostFilterTest, CaseInsensitiveAndUnanchoredAsTinyproxy) {
  const HostFilter filter = Compiled("example\\.org\n");
  EXPECT_TRUE(filter.Decide("EXAMPLE.ORG").allowed);
  EXPECT_TRUE(filter.Decide("www.example.org.evil.test").allowed);
  EXPECT_FALSE(filter.Decide("example.com").allowed);
}

TEST(HostFilterTest, AllowAllAndEmptyFilter) {
  EXPECT_TRUE(HostFilter::AllowAll().Decide("anything").allowed);
  EXPECT_EQ(HostFilter::AllowAll().Decide("anything").line, std::nullopt);
  const HostFilter empty = Compiled("# nothing\n");
  EXPECT_FALSE(empty.Decide("anything").allowed);
  EXPECT_THAT(empty.MatchingLines("anything"), IsEmpty());
}

TEST(HostFilterTest, LinesRe2ReadsDifferentlyAreRefusedByLine) {
  absl::StatusOr<std::vector<FilterPattern>> patterns =
      ParseFilter("^ok$\n^(a)\\1$\n", "f.txt");
  ASSERT_TRUE(patterns.ok());
  EXPECT_THAT(HostFilter::Compile(*patterns, "f.txt"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("f.txt:2 '^(a)\\1$': back-reference")));
  patterns = ParseFilter("^[\\w]+$\n", "f.txt");
  ASSERT_TRUE(patterns.ok());
  EXPECT_THAT(HostFilter::Compile(*patterns, "f.txt"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("backslash inside [...]")));
}

TEST(IsProxyableHostTest, OnlyHostNameBytes) {
  for (const char* good :
       {"github.com", "a-b_c.example", "127.0.0.1", "::1", "fe80::1"}) {
    EXPECT_TRUE(IsProxyableHost(good)) << good;
  }
  for (const char* bad :
       {"", "caf\xc3\xa9.fr", "0\xffZ", "a b", "a/b", "a@b", "[::1]"}) {
    EXPECT_FALSE(IsProxyableHost(bad)) << bad;
  }
  EXPECT_FALSE(IsProxyableHost(std::string(254, 'a')));
}

TEST(PosixDifferenceTest, PortableLinesHaveNone) {
  for (const char* portable : {"^github\\.com$", "^[a-z0-9-]+\\.example\\.org$",
                               "[[:alpha:]]+", "^(www|api)\\.x\\.io$", "[]a]",
                               "[^]a]", "x{0}", "x{2,}", "x{10,20}", "[{]"}) {
    EXPECT_EQ(PosixDifference(portable), "") << portable;
  }
  for (const char* gnu : {"\\bword", "\\<x", "\\w+", "a\\1",
                          // Found by fuzzing: RE2 reads these as text.
                          "x{00}", "x{,2}", "x{1,02}", "x{1"}) {
    EXPECT_NE(PosixDifference(gnu), "") << gnu;
  }
}

}  // namespace
}  // namespace cell
