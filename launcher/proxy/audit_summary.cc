#include "launcher/proxy/audit_summary.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/printable.h"
#include "nlohmann/json.hpp"

namespace cell {
namespace {

int64_t Int(const nlohmann::json& record, const char* field) {
  const auto it = record.find(field);
  return it != record.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

// A run's key in the summary: its id, or for records without one the file
// (those of different files are not known to be one run).
std::pair<std::string, std::string> RunKey(const RunActivity& run) {
  return {run.run, run.run.empty() ? run.sources.front() : std::string()};
}

// The run a record belongs to, added on first sight.
RunActivity& RunOf(
    const nlohmann::json& record, absl::string_view source,
    AuditSummary* summary,
    std::map<std::pair<std::string, std::string>, size_t>* runs) {
  const auto field = record.find("run");
  RunActivity key;
  if (field != record.end() && field->is_string()) {
    key.run = field->get<std::string>();
  }
  key.sources.push_back(std::string(source));
  const auto [it, added] = runs->emplace(RunKey(key), summary->runs.size());
  if (added) {
    summary->runs.push_back(std::move(key));
    return summary->runs.back();
  }
  RunActivity& run = summary->runs[it->second];
  if (std::find(run.sources.begin(), run.sources.end(), source) ==
      run.sources.end()) {
    run.sources.push_back(std::string(source));
  }
  return run;
}

template <typename T>
std::string Plural(T count, absl::string_view one, absl::string_view many) {
  return absl::StrCat(count, " ", count == 1 ? one : many);
}

}  // namespace

void AddAuditLines(absl::string_view jsonl, absl::string_view source,
                   AuditSummary* summary) {
  AddAuditLines(jsonl, source, 1, summary);
}

void AddAuditLines(absl::string_view jsonl, absl::string_view source,
                   int64_t first_line, AuditSummary* summary) {
  std::map<std::string, HostActivity> hosts;
  for (HostActivity& host : summary->hosts) hosts[host.host] = host;
  std::map<std::pair<std::string, std::string>, size_t> runs;
  for (size_t i = 0; i < summary->runs.size(); ++i) {
    runs[RunKey(summary->runs[i])] = i;
  }
  // One entry per file, however many parts it was read in.
  if (summary->unreadable.empty() ||
      summary->unreadable.back().source != source) {
    summary->unreadable.push_back(UnreadableLines{std::string(source)});
  }
  UnreadableLines& unreadable = summary->unreadable.back();
  int64_t number = first_line - 1;
  for (absl::string_view line : absl::StrSplit(jsonl, '\n')) {
    ++number;
    if (line.empty()) continue;
    const nlohmann::json record =
        nlohmann::json::parse(line.begin(), line.end(), nullptr, false);
    // A record: an object with a decision the engine writes.
    const nlohmann::json decision_field =
        record.is_object() ? record.value("decision", nlohmann::json())
                           : nlohmann::json();
    if (!decision_field.is_string()) {
      ++unreadable.count;
      if (unreadable.lines.size() < UnreadableLines::kListed) {
        unreadable.lines.push_back(number);
      }
      continue;
    }
    RunActivity& run = RunOf(record, source, summary, &runs);
    // A request's two records share its run and number: `begin` before it
    // went out, the final one when it ended.
    const std::string key =
        absl::StrCat(run.run.empty() ? absl::StrCat("file ", source) : run.run,
                     "/", record.value("request", nlohmann::json()).dump());
    if (record.value("event", nlohmann::json()) == "begin") {
      const nlohmann::json host = record.value("host", nlohmann::json());
      summary->unfinished[key] =
          host.is_string() ? host.get<std::string>() : std::string("?");
      continue;
    }
    summary->unfinished.erase(key);
    ++summary->requests;
    ++run.requests;
    if (!record.value("host", nlohmann::json()).is_string()) {
      ++summary->errors;
      continue;
    }
    const std::string decision = decision_field.get<std::string>();
    HostActivity& host = hosts[record["host"].get<std::string>()];
    host.host = record["host"].get<std::string>();
    ++host.requests;
    host.bytes_up += Int(record, "bytesUp");
    host.bytes_down += Int(record, "bytesDown");
    summary->bytes_up += Int(record, "bytesUp");
    summary->bytes_down += Int(record, "bytesDown");
    if (decision == "allow") {
      ++summary->allowed;
    } else if (decision == "deny") {
      ++summary->denied;
      ++host.denied;
      ++run.denied;
    } else {
      ++summary->errors;
    }
  }
  if (summary->unreadable.back().count == 0) summary->unreadable.pop_back();
  summary->hosts.clear();
  for (auto& [name, activity] : hosts) summary->hosts.push_back(activity);
  std::sort(summary->hosts.begin(), summary->hosts.end(),
            [](const HostActivity& a, const HostActivity& b) {
              return a.requests != b.requests ? a.requests > b.requests
                                              : a.host < b.host;
            });
}

std::vector<HostActivity> DeniedHosts(const AuditSummary& summary) {
  std::vector<HostActivity> denied;
  for (const HostActivity& host : summary.hosts) {
    if (host.denied > 0) denied.push_back(host);
  }
  std::sort(denied.begin(), denied.end(),
            [](const HostActivity& a, const HostActivity& b) {
              return a.denied != b.denied ? a.denied > b.denied
                                          : a.host < b.host;
            });
  return denied;
}

std::string FormatAuditSummary(const AuditSummary& summary, int top) {
  std::string out = absl::StrFormat(
      "%d requests: %d allowed, %d denied, %d errors; %d bytes up, %d bytes "
      "down\n",
      summary.requests, summary.allowed, summary.denied, summary.errors,
      summary.bytes_up, summary.bytes_down);
  for (const UnreadableLines& lines : summary.unreadable) {
    std::string numbers = absl::StrJoin(lines.lines, ", ");
    if (lines.count > static_cast<int64_t>(lines.lines.size())) {
      absl::StrAppend(&numbers, ", ...");
    }
    absl::StrAppendFormat(
        &out, "%s: %s (%s %s); not counted\n", Printable(lines.source),
        lines.count == 1
            ? "1 line is not an audit record"
            : absl::StrCat(lines.count, " lines are not audit records"),
        lines.count == 1 ? "line" : "lines", numbers);
  }
  if (!summary.unfinished.empty()) {
    // Each went out; what it carried is not known.
    std::map<std::string, int> hosts;
    for (const auto& [key, host] : summary.unfinished) ++hosts[host];
    std::vector<std::string> named;
    for (const auto& [host, count] : hosts) {
      named.push_back(absl::StrCat(Printable(host), " (", count, ")"));
    }
    absl::StrAppendFormat(&out,
                          "%d requests went out with no final record (the "
                          "launcher was killed, or the log filled): %s\n",
                          summary.unfinished.size(),
                          absl::StrJoin(named, ", "));
  }

  // The runs in the order they first appear (a shared logDir is appended
  // to run after run): the last `top` of them.
  if (!summary.runs.empty()) {
    absl::StrAppendFormat(&out, "\n%s:\n",
                          Plural(summary.runs.size(), "run", "runs"));
    absl::StrAppendFormat(&out, "  %8s %8s  %s\n", "requests", "denied",
                          "run (file)");
    const size_t shown =
        std::min(summary.runs.size(), static_cast<size_t>(std::max(top, 0)));
    const size_t skipped = summary.runs.size() - shown;
    if (skipped > 0) {
      absl::StrAppendFormat(&out, "  (%s before these; --top=N shows more)\n",
                            Plural(skipped, "run", "runs"));
    }
    for (size_t i = skipped; i < summary.runs.size(); ++i) {
      const RunActivity& run = summary.runs[i];
      std::vector<std::string> sources;
      for (const std::string& source : run.sources) {
        sources.push_back(Printable(source));
      }
      absl::StrAppendFormat(&out, "  %8d %8d  %s (%s)\n", run.requests,
                            run.denied,
                            run.run.empty() ? "no run id" : Printable(run.run),
                            absl::StrJoin(sources, ", "));
    }
  }

  absl::StrAppend(&out, "\ntop hosts:\n");
  absl::StrAppendFormat(&out, "  %8s %8s %12s %12s  %s\n", "requests", "denied",
                        "bytes up", "bytes down", "host");
  int shown = 0;
  for (const HostActivity& host : summary.hosts) {
    if (shown++ == top) break;
    absl::StrAppendFormat(&out, "  %8d %8d %12d %12d  %s\n", host.requests,
                          host.denied, host.bytes_up, host.bytes_down,
                          Printable(host.host));
  }
  absl::StrAppend(&out, "\ndenied hosts:\n");
  const std::vector<HostActivity> denied = DeniedHosts(summary);
  for (const HostActivity& host : denied) {
    absl::StrAppendFormat(&out, "  %8d  %s\n", host.denied,
                          Printable(host.host));
  }
  if (denied.empty()) absl::StrAppend(&out, "  (none)\n");
  return out;
}

}  // namespace cell
