// `cell log`: a summary of the builtin engine's audit log (JSON lines, see
// builtin/server.h): totals, the runs, the busiest hosts and every denied
// host. Pure: text in, text out. Everything printed that came from a log
// (host names, run ids, file names) is escaped (base/printable.h): a host
// name is the cell's choice, and must not drive the reader's terminal.
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

// The requests of one run. The builtin engine writes its run id (the
// `runId` of the `started` status line) into every record as "run";
// records without one (a log written before run ids) are kept apart per
// file, with an empty `run`.
struct RunActivity {
  std::string run;                   // Empty: records with no run id.
  std::vector<std::string> sources;  // The files it appears in, in order.
  int64_t requests = 0;
  int64_t denied = 0;
};

// Lines that are not audit records: where they are, not counted.
struct UnreadableLines {
  // How many line numbers `lines` keeps per file.
  static constexpr size_t kListed = 5;

  std::string source;  // The file.
  int64_t count = 0;
  std::vector<int64_t> lines;  // The first kListed, 1-based.
};

struct AuditSummary {
  int64_t requests = 0;
  int64_t allowed = 0;
  int64_t denied = 0;
  int64_t errors = 0;  // Requests refused for an error (400, 502, 503).
  int64_t bytes_up = 0;
  int64_t bytes_down = 0;
  std::vector<HostActivity> hosts;  // Most requests first, then by name.
  std::vector<RunActivity> runs;    // In the order first seen.
  std::vector<UnreadableLines> unreadable;  // One per file, in order.
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

// The hosts with denied requests: most denied first, then by name.
std::vector<HostActivity> DeniedHosts(const AuditSummary& summary);

// The totals, unreadable lines, the runs, the `top` busiest hosts (most
// requests first, then by name) and every denied host (DeniedHosts), with
// every text from the log escaped.
std::string FormatAuditSummary(const AuditSummary& summary, int top);

}  // namespace cell

#endif  // CELL_LAUNCHER_PROXY_AUDIT_SUMMARY_H_
