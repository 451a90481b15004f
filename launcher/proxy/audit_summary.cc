#include "launcher/proxy/audit_summary.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"

namespace cell {
namespace {

int64_t Int(const nlohmann::json& record, const char* field) {
  const auto it = record.find(field);
  return it != record.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
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
  UnreadableLines unreadable{std::string(source)};
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
      if (unreadable.count++ == 0) unreadable.first = number;
      continue;
    }
    // A request's two records share its run and number: `begin` before it
    // went out, the final one when it ended.
    const std::string key =
        absl::StrCat(record.value("run", nlohmann::json()).dump(), "/",
                     record.value("request", nlohmann::json()).dump());
    if (record.value("event", nlohmann::json()) == "begin") {
      const nlohmann::json host = record.value("host", nlohmann::json());
      summary->unfinished[key] =
          host.is_string() ? host.get<std::string>() : std::string("?");
      continue;
    }
    summary->unfinished.erase(key);
    ++summary->requests;
    if (const auto run = record.find("run");
        run != record.end() && run->is_string() &&
        std::find(summary->runs.begin(), summary->runs.end(),
                  run->get<std::string>()) == summary->runs.end()) {
      summary->runs.push_back(run->get<std::string>());
    }
    if (!record.value("host", nlohmann::json()).is_string()) {
      ++summary->errors;
      continue;
    }
    const std::string decision = record.value("decision", "");
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
    } else {
      ++summary->errors;
    }
  }
  if (unreadable.count > 0) {
    // One entry per file, however many parts it was read in.
    if (!summary->unreadable.empty() &&
        summary->unreadable.back().source == unreadable.source) {
      summary->unreadable.back().count += unreadable.count;
    } else {
      summary->unreadable.push_back(unreadable);
    }
  }
  summary->hosts.clear();
  for (auto& [name, activity] : hosts) summary->hosts.push_back(activity);
  std::sort(summary->hosts.begin(), summary->hosts.end(),
            [](const HostActivity& a, const HostActivity& b) {
              return a.requests != b.requests ? a.requests > b.requests
                                              : a.host < b.host;
            });
}

std::string FormatAuditSummary(const AuditSummary& summary, int top) {
  std::string out = absl::StrFormat(
      "%d requests: %d allowed, %d denied, %d errors; %d bytes up, %d bytes "
      "down\n",
      summary.requests, summary.allowed, summary.denied, summary.errors,
      summary.bytes_up, summary.bytes_down);
  if (!summary.runs.empty()) {
    absl::StrAppendFormat(&out, "%d runs\n", summary.runs.size());
  }
  for (const UnreadableLines& lines : summary.unreadable) {
    absl::StrAppendFormat(&out,
                          "%s: %d lines are not audit records (first: line "
                          "%d); not counted\n",
                          lines.source, lines.count, lines.first);
  }
  if (!summary.unfinished.empty()) {
    // Each went out; what it carried is not known.
    std::map<std::string, int> hosts;
    for (const auto& [key, host] : summary.unfinished) ++hosts[host];
    std::vector<std::string> named;
    for (const auto& [host, count] : hosts) {
      named.push_back(absl::StrCat(host, " (", count, ")"));
    }
    absl::StrAppendFormat(&out,
                          "%d requests went out with no final record (the "
                          "launcher was killed, or the log filled): %s\n",
                          summary.unfinished.size(),
                          absl::StrJoin(named, ", "));
  }
  absl::StrAppend(&out, "\ntop hosts:\n");
  absl::StrAppendFormat(&out, "  %8s %8s %12s %12s  %s\n", "requests", "denied",
                        "bytes up", "bytes down", "host");
  int shown = 0;
  for (const HostActivity& host : summary.hosts) {
    if (shown++ == top) break;
    absl::StrAppendFormat(&out, "  %8d %8d %12d %12d  %s\n", host.requests,
                          host.denied, host.bytes_up, host.bytes_down,
                          host.host);
  }
  absl::StrAppend(&out, "\ndenied hosts:\n");
  bool any = false;
  for (const HostActivity& host : summary.hosts) {
    if (host.denied == 0) continue;
    any = true;
    absl::StrAppendFormat(&out, "  %8d  %s\n", host.denied, host.host);
  }
  if (!any) absl::StrAppend(&out, "  (none)\n");
  return out;
}

}  // namespace cell
