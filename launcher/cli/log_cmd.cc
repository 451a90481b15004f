// `cell log`: a summary of audit logs, read piece by piece.
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/fs_util.h"
#include "base/unique_fd.h"
#include "launcher/cli/common.h"
#include "launcher/proxy/audit_summary.h"

namespace cell {
namespace {

constexpr char kLogUsage[] = R"(Usage: cell log [--top=N] AUDIT_LOG...

Summarises the builtin proxy engine's audit log (logDir/proxy-audit.jsonl,
one JSON line per request). Several files are added together. Prints:

  - the totals: requests allowed, denied and refused for an error, bytes
    each way; requests that went out with no final record (the launcher
    was killed, or the log filled);
  - for each file with lines that are not audit records: how many, and
    the first line numbers (they are not counted);
  - the runs: each record carries its run's id (the `runId` of the
    `started` line of --status-file), with its requests, denied requests
    and the files it is in; records with no run id are listed per file as
    "no run id". The last N runs (default 10) to appear;
  - the N busiest hosts (default 10): most requests first, then by name;
  - every denied host: most denied requests first, then by name.

Host names are the cell's choice: control characters in them (and in run
ids and file names) are printed escaped, as \xNN.

  --top=N   how many hosts and runs to list (default 10)

Exit status: 0; 2 for a usage error or a file that cannot be read.
)";

// Reads an audit log piece by piece: a log of any size (a cell can make
// its log large) is summarised in bounded memory. A line longer than a
// piece is one unreadable line.
absl::Status AddAuditFile(const std::string& path, AuditSummary* summary) {
  constexpr size_t kPiece = size_t{4} << 20;
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus(errno, path);
  std::string buffer;
  int64_t line = 1;
  bool skipping = false;  // In the rest of an over-long line.
  std::vector<char> piece(kPiece);
  while (true) {
    const ssize_t n = read(fd.get(), piece.data(), piece.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, path);
    buffer.append(piece.data(), static_cast<size_t>(n));
    if (skipping) {
      const size_t newline = buffer.find('\n');
      if (newline == std::string::npos) {
        buffer.clear();
        if (n == 0) return absl::OkStatus();
        continue;
      }
      buffer.erase(0, newline + 1);
      ++line;
      skipping = false;
    }
    // Whole lines now; the rest waits for the next piece (or is the last
    // line, at the end of the file).
    const size_t last = buffer.rfind('\n');
    const size_t whole = n == 0                      ? buffer.size()
                         : last == std::string::npos ? 0
                                                     : last + 1;
    if (whole > 0) {
      const absl::string_view lines =
          absl::string_view(buffer).substr(0, whole);
      AddAuditLines(lines, path, line, summary);
      line += std::count(lines.begin(), lines.end(), '\n');
      buffer.erase(0, whole);
    }
    if (n == 0) return absl::OkStatus();
    if (buffer.size() >= kPiece) {
      AddAuditLines("-", path, line, summary);  // Not a record.
      buffer.clear();
      skipping = true;
    }
  }
}

}  // namespace

std::string LogUsage() { return kLogUsage; }

int Log(const std::vector<std::string>& args) {
  int top = 10;
  std::vector<std::string> files;
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-h") {
      std::fputs(LogUsage().c_str(), stdout);
      return 0;
    }
    if (absl::StartsWith(arg, "--top=")) {
      if (!absl::SimpleAtoi(arg.substr(6), &top) || top < 0) {
        PrintError(UsageError(
            absl::StrCat(arg, ": expected a number of hosts, e.g. --top=20")));
        return kExitUsage;
      }
      continue;
    }
    if (absl::StartsWith(arg, "--")) {
      PrintError(UsageError(
          absl::StrCat("unknown flag ", arg, " (see 'cell help log')")));
      return kExitUsage;
    }
    files.push_back(arg);
  }
  if (files.empty()) {
    PrintError(UsageError(
        "give the audit log to read, e.g. cell log logs/proxy-audit.jsonl"));
    return kExitUsage;
  }
  AuditSummary summary;
  for (const std::string& file : files) {
    if (const absl::Status read = AddAuditFile(file, &summary); !read.ok()) {
      PrintError(read);
      return kExitUsage;
    }
  }
  std::fputs(FormatAuditSummary(summary, top).c_str(), stdout);
  return 0;
}

}  // namespace cell
