#include "launcher/proxy/audit_summary.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cell {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kLog[] =
    R"({"host":"github.com","decision":"allow","bytesUp":10,"bytesDown":100}
{"host":"github.com","decision":"allow","bytesUp":5,"bytesDown":50}
{"host":"evil.example","decision":"deny","bytesUp":0,"bytesDown":0}
{"decision":"error","status":400}
not json
{"host":"cache.nixos.org","decision":"allow","bytesUp":1,"bytesDown":7}
)";

TEST(AuditSummaryTest, CountsHostsAndDecisions) {
  AuditSummary summary;
  AddAuditLines(kLog, "a.jsonl", &summary);
  EXPECT_EQ(summary.requests, 5);
  EXPECT_EQ(summary.allowed, 3);
  EXPECT_EQ(summary.denied, 1);
  EXPECT_EQ(summary.errors, 1);
  // "not json" is reported where it is, not counted as a request.
  ASSERT_EQ(summary.unreadable.size(), 1u);
  EXPECT_EQ(summary.unreadable[0].source, "a.jsonl");
  EXPECT_EQ(summary.unreadable[0].count, 1);
  EXPECT_EQ(summary.unreadable[0].first, 5);
  EXPECT_EQ(summary.bytes_up, 16);
  EXPECT_EQ(summary.bytes_down, 157);
  ASSERT_EQ(summary.hosts.size(), 3u);
  EXPECT_EQ(summary.hosts[0].host, "github.com");
  EXPECT_EQ(summary.hosts[0].requests, 2);
  EXPECT_EQ(summary.hosts[1].host, "cache.nixos.org");  // Ties by name.
  EXPECT_EQ(summary.hosts[2].denied, 1);
}

TEST(AuditSummaryTest, AddsFilesTogetherAndFormats) {
  AuditSummary summary;
  AddAuditLines(kLog, "a.jsonl", &summary);
  AddAuditLines(R"({"host":"evil.example","decision":"deny","run":"r1"})",
                "b.jsonl", &summary);
  const std::string text = FormatAuditSummary(summary, /*top=*/2);
  EXPECT_THAT(text, HasSubstr("6 requests: 3 allowed, 2 denied, 1 errors"));
  EXPECT_THAT(text, HasSubstr("1 runs\n"));
  EXPECT_THAT(text, HasSubstr("a.jsonl: 1 lines are not audit records "
                              "(first: line 5); not counted"));
  EXPECT_THAT(text, HasSubstr("github.com"));
  EXPECT_THAT(text, HasSubstr("denied hosts:\n         2  evil.example\n"));
  // Only the top 2 in the host table: evil.example and github.com (2
  // requests each, by name), not cache.nixos.org.
  EXPECT_THAT(text, Not(HasSubstr("cache.nixos.org")));
}

// A request's `begin` record is not a request of its own; one left
// without its final record (the launcher killed mid-tunnel, the log full)
// is reported with its host, also when the two are read in separate parts.
TEST(AuditSummaryTest, BeginRecordsWithoutAnEndAreReported) {
  AuditSummary summary;
  AddAuditLines(
      R"({"event":"begin","run":"r","request":1,"host":"a.test","decision":"allow"}
{"event":"begin","run":"r","request":2,"host":"b.test","decision":"allow"}
)",
      "log", &summary);
  AddAuditLines(
      R"({"run":"r","request":1,"host":"a.test","decision":"allow","status":200})",
      "log", 3, &summary);
  EXPECT_EQ(summary.requests, 1);
  ASSERT_EQ(summary.unfinished.size(), 1u);
  EXPECT_THAT(FormatAuditSummary(summary, 10),
              HasSubstr("1 requests went out with no final record (the "
                        "launcher was killed, or the log filled): b.test (1)"));
}

}  // namespace
}  // namespace cell
