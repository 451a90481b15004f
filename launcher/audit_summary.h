// `cell log`: a summary of the builtin engine's audit log (JSON lines, see
// builtin_proxy.h): totals, the busiest hosts and every denied host. Pure:
// text in, text out.
#ifndef CELL_LAUNCHER_AUDIT_SUMMARY_H_
#define CELL_LAUNCHER_AUDIT_SUMMARY_H_

#include <cstdint>
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

struct AuditSummary {
  int64_t requests = 0;
  int64_t allowed = 0;
  int64_t denied = 0;
  int64_t errors = 0;  // Bad requests and unreadable lines.
  int64_t bytes_up = 0;
  int64_t bytes_down = 0;
  std::vector<HostActivity> hosts;  // Most requests first, then by name.
};

// Adds the records in `jsonl` (one JSON object per line) to `summary`.
// A line that is not a record counts as an error, never aborts.
void AddAuditLines(absl::string_view jsonl, AuditSummary* summary);

// A table of the totals, the `top` busiest hosts and every denied host.
std::string FormatAuditSummary(const AuditSummary& summary, int top);

}  // namespace cell

#endif  // CELL_LAUNCHER_AUDIT_SUMMARY_H_
