// `cell log`: a summary of the builtin engine's audit log (JSON lines, see
// builtin_proxy.h): totals, the busiest hosts and every denied host. Pure:
// text in, text out.
#ifndef CELL_LAUNCHER_PROXY_AUDIT_SUMMARY_H_
#define CELL_LAUNCHER_PROXY_AUDIT_SUMMARY_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace cell {

struct HostActivity {
  std::string host;
  int64_t requests = 0;
  int64_t denied = 0;
  int64_t bytes_up = 0;
  int64_t bytes_down = 0;
};

// Lines that are not audit records: where they are, not counted.
struct UnreadableLines {
  std::string source;  // The file.
  int64_t count = 0;
  int64_t first = 0;  // 1-based line number of the first.
};

struct AuditSummary {
  int64_t requests = 0;
  int64_t allowed = 0;
  int64_t denied = 0;
  int64_t errors = 0;  // Requests refused for an error (400, 502, 503).
  int64_t bytes_up = 0;
  int64_t bytes_down = 0;
  std::vector<HostActivity> hosts;  // Most requests first, then by name.
  std::vector<std::string> runs;    // Run ids seen, in order.
  std::vector<UnreadableLines> unreadable;
  // Requests whose `begin` record has no final record yet: "run/request"
  // -> host. Left at the end: the launcher was killed while they ran, or
  // the log filled before they ended.
  std::map<std::string, std::string> unfinished;
};

// Adds the records in `jsonl` (one JSON object per line, from `source`) to
// `summary`. A line that is not a record is reported in `unreadable`,
// never counted as a request, never aborts.
void AddAuditLines(absl::string_view jsonl, absl::string_view source,
                   AuditSummary* summary);
// The same for a part of a file read piece by piece: `jsonl` holds whole
// lines, the first being line `first_line` of `source`.
void AddAuditLines(absl::string_view jsonl, absl::string_view source,
                   int64_t first_line, AuditSummary* summary);

// A table of the totals, the `top` busiest hosts and every denied host.
std::string FormatAuditSummary(const AuditSummary& summary, int top);

}  // namespace cell

#endif  // CELL_LAUNCHER_PROXY_AUDIT_SUMMARY_H_
