#include "launcher/proxy/audit_summary.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cell {
namespace {

using ::testing::ElementsAre;
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
  EXPECT_THAT(summary.unreadable[0].lines, ElementsAre(5));
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
  // The records of kLog carry no run id: kept apart by file, and said so.
  EXPECT_THAT(text, HasSubstr("2 runs:\n"
                              "  requests   denied  run (file)\n"
                              "         5        1  no run id (a.jsonl)\n"
                              "         1        1  r1 (b.jsonl)\n"));
  EXPECT_THAT(text, HasSubstr("a.jsonl: 1 line is not an audit record "
                              "(line 5); not counted"));
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

// Denied hosts: most denied first, ties by name, whatever their total
// requests; the busiest hosts: most requests first, ties by name.
TEST(AuditSummaryTest, SortsDeniedAndBusiestHostsByCountThenName) {
  AuditSummary summary;
  AddAuditLines(
      R"({"host":"many.test","decision":"allow"}
{"host":"many.test","decision":"allow"}
{"host":"many.test","decision":"allow"}
{"host":"many.test","decision":"deny"}
{"host":"b.test","decision":"deny"}
{"host":"b.test","decision":"deny"}
{"host":"a.test","decision":"deny"}
{"host":"a.test","decision":"deny"}
{"host":"z.test","decision":"deny"}
{"host":"z.test","decision":"deny"}
{"host":"z.test","decision":"deny"}
)",
      "log", &summary);
  std::vector<std::string> denied;
  for (const HostActivity& host : DeniedHosts(summary)) {
    denied.push_back(host.host);
  }
  EXPECT_THAT(denied, ElementsAre("z.test", "a.test", "b.test", "many.test"));
  std::vector<std::string> busiest;
  for (const HostActivity& host : summary.hosts) busiest.push_back(host.host);
  EXPECT_THAT(busiest, ElementsAre("many.test", "z.test", "a.test", "b.test"));
  const std::string text = FormatAuditSummary(summary, /*top=*/2);
  EXPECT_THAT(text, HasSubstr("\ntop hosts:\n"
                              "  requests   denied     bytes up   bytes down"
                              "  host\n"
                              "         4        1            0            0"
                              "  many.test\n"
                              "         3        3            0            0"
                              "  z.test\n\n"));
  // Every denied host, not only the top ones.
  EXPECT_THAT(text, HasSubstr("\ndenied hosts:\n"
                              "         3  z.test\n"
                              "         2  a.test\n"
                              "         2  b.test\n"
                              "         1  many.test\n"));
}

// Runs by their id, in the order they first appear, each with its files;
// a run seen only in `begin` records is listed too. Records of two files
// without ids are not taken for one run.
TEST(AuditSummaryTest, ReportsRunsAndTheirFiles) {
  AuditSummary summary;
  AddAuditLines(
      R"({"run":"aaaa","request":1,"host":"x.test","decision":"allow"}
{"run":"bbbb","request":1,"host":"x.test","decision":"deny"}
{"run":"aaaa","request":2,"host":"y.test","decision":"deny"}
{"host":"old.test","decision":"allow"}
)",
      "one.jsonl", &summary);
  AddAuditLines(
      R"({"run":"aaaa","request":3,"host":"x.test","decision":"allow"}
{"event":"begin","run":"cccc","request":1,"host":"x.test","decision":"allow"}
{"host":"old.test","decision":"allow"}
)",
      "two.jsonl", &summary);
  ASSERT_EQ(summary.runs.size(), 5u);
  EXPECT_EQ(summary.runs[0].run, "aaaa");
  EXPECT_EQ(summary.runs[0].requests, 3);
  EXPECT_EQ(summary.runs[0].denied, 1);
  EXPECT_THAT(summary.runs[0].sources, ElementsAre("one.jsonl", "two.jsonl"));
  EXPECT_EQ(summary.runs[3].run, "cccc");
  EXPECT_EQ(summary.runs[3].requests, 0);
  EXPECT_THAT(FormatAuditSummary(summary, 10),
              HasSubstr("5 runs:\n"
                        "  requests   denied  run (file)\n"
                        "         3        1  aaaa (one.jsonl, two.jsonl)\n"
                        "         1        1  bbbb (one.jsonl)\n"
                        "         1        0  no run id (one.jsonl)\n"
                        "         0        0  cccc (two.jsonl)\n"
                        "         1        0  no run id (two.jsonl)\n"));
  // --top=N: the last N runs, and how many came before.
  EXPECT_THAT(FormatAuditSummary(summary, 2),
              HasSubstr("5 runs:\n"
                        "  requests   denied  run (file)\n"
                        "  (3 runs before these; --top=N shows more)\n"
                        "         0        0  cccc (two.jsonl)\n"
                        "         1        0  no run id (two.jsonl)\n"));
}

// Each file's unreadable lines: how many, and the first few numbers, also
// across the parts a file is read in; nothing for a file without any.
TEST(AuditSummaryTest, ListsTheFirstUnreadableLinesOfEachFile) {
  AuditSummary summary;
  AddAuditLines("x\n{\"host\":\"a.test\",\"decision\":\"allow\"}\n[]\n",
                "big.jsonl", &summary);
  AddAuditLines("{\"decision\":1}\n\n{}\n\"deny\"\n{\n", "big.jsonl", 4,
                &summary);
  AddAuditLines("{\"host\":\"a.test\",\"decision\":\"allow\"}\n", "fine.jsonl",
                &summary);
  AddAuditLines("{\"host\":\"a.test\",\"decision\":\"allow\"}\nnope\n",
                "small.jsonl", &summary);
  ASSERT_EQ(summary.unreadable.size(), 2u);
  EXPECT_EQ(summary.unreadable[0].source, "big.jsonl");
  EXPECT_EQ(summary.unreadable[0].count, 6);
  EXPECT_THAT(summary.unreadable[0].lines, ElementsAre(1, 3, 4, 6, 7));
  EXPECT_EQ(summary.requests, 3);
  const std::string text = FormatAuditSummary(summary, 10);
  EXPECT_THAT(text, HasSubstr("big.jsonl: 6 lines are not audit records "
                              "(lines 1, 3, 4, 6, 7, ...); not counted\n"));
  EXPECT_THAT(text, HasSubstr("small.jsonl: 1 line is not an audit record "
                              "(line 2); not counted\n"));
  EXPECT_THAT(text, Not(HasSubstr("fine.jsonl:")));
}

// Host names come from the cell (and a run id or file name may be any
// text): control characters are shown escaped, never sent raw to a
// terminal.
TEST(AuditSummaryTest, EscapesWhatCameFromTheLog) {
  AuditSummary summary;
  AddAuditLines(
      R"({"host":"evil\u001b]0;pwned\u0007.test","decision":"deny"}
{"host":"cr\r.test","decision":"allow","run":"r\u001b[2J"}
{"event":"begin","request":9,"host":"new\nline.test","decision":"allow"}
junk
)",
      "log\x1b[31m.jsonl", &summary);
  const std::string text = FormatAuditSummary(summary, 10);
  for (const char control : {'\x1b', '\x07', '\r'}) {
    EXPECT_EQ(text.find(control), std::string::npos) << int{control};
  }
  EXPECT_THAT(text, HasSubstr("  evil\\x1b]0;pwned\\x07.test\n"));
  EXPECT_THAT(text, HasSubstr("  cr\\x0d.test\n"));
  EXPECT_THAT(text, HasSubstr("r\\x1b[2J (log\\x1b[31m.jsonl)"));
  EXPECT_THAT(text, HasSubstr("log\\x1b[31m.jsonl: 1 line is not"));
  EXPECT_THAT(text, HasSubstr("log filled): new\\x0aline.test (1)"));
}

}  // namespace
}  // namespace cell
