#include "policy/report.h"

#include <map>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "base/printable.h"
#include "nlohmann/json.hpp"
#include "policy/score.h"

namespace cell::policy {
namespace {

std::map<Outcome, int> Counts(const Report& report) {
  std::map<Outcome, int> counts;
  for (const PropertyResult& result : report.results) ++counts[result.outcome];
  return counts;
}

std::string Summary(const Report& report) {
  std::map<Outcome, int> counts = Counts(report);
  return absl::StrCat(
      report.results.size(), " properties: ", counts[Outcome::kPass],
      " passed, ", counts[Outcome::kFail], " failed, ", counts[Outcome::kWarn],
      " warned, ", counts[Outcome::kError], " errors, ", counts[Outcome::kOff],
      " off");
}

// "exposure 6.2/10 (EXPOSED)", and against the threshold when there is one.
std::string ExposureLine(const Report& report) {
  const Exposure exposure = ScoreExposure(report.results);
  std::string line =
      absl::StrFormat("exposure %.1f/10 (%s)", exposure.score, exposure.band);
  if (report.threshold.has_value()) {
    absl::StrAppend(&line,
                    exposure.score > *report.threshold ? ", above" : ", within",
                    absl::StrFormat(" the threshold %g", *report.threshold));
  }
  return line;
}

std::string XmlEscape(const std::string& text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // XML 1.0 forbids most control characters even escaped.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') {
          out += ' ';
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string Coloured(Outcome outcome, const std::string& word) {
  const char* colour = "";
  switch (outcome) {
    case Outcome::kPass:
      colour = "\033[32m";
      break;
    case Outcome::kFail:
    case Outcome::kError:
      colour = "\033[1;31m";
      break;
    case Outcome::kWarn:
      colour = "\033[33m";
      break;
    case Outcome::kOff:
      colour = "\033[2m";
      break;
  }
  return absl::StrFormat("%s%-5s\033[0m", colour, word);
}

std::string Detail(const PropertyResult& result) {
  return absl::StrCat("expected: ", result.expected,
                      "\nobserved: ", result.observed,
                      result.message.empty() ? "" : "\n", result.message);
}

nlohmann::json Environment(const Report& report) {
  nlohmann::json environment = nlohmann::json::object();
  for (const auto& [name, value] : report.environment) {
    environment[name] = value;
  }
  return environment;
}

}  // namespace

std::string FormatText(const Report& report) {
  std::string out = absl::StrCat(
      "cell-verify: ",
      Printable(report.sandbox.empty()
                    ? report.spec
                    : absl::StrCat("sandbox `", report.sandbox, "`")),
      " against '", Printable(report.policy), "'",
      report.static_only ? " (static only)" : "", "\n");
  for (const PropertyResult& result : report.results) {
    const std::string word = absl::AsciiStrToUpper(OutcomeName(result.outcome));
    absl::StrAppend(
        &out, absl::StrFormat("  %s %-20s %s\n",
                              report.colour ? Coloured(result.outcome, word)
                                            : absl::StrFormat("%-5s", word),
                              result.property,
                              // One line per property: NIX_CONFIG has newlines.
                              // What was observed comes from inside a sandbox:
                              // its control characters are shown, not obeyed.
                              Printable(absl::StrReplaceAll(result.observed,
                                                            {{"\n", "\\n"}}))));
    if (result.outcome == Outcome::kPass || result.outcome == Outcome::kOff) {
      continue;
    }
    absl::StrAppend(&out, "        expected: ", Printable(result.expected),
                    "\n");
    // Static findings one per line, near-identical ones as one (grouped);
    // a dynamic property's one message as it is.
    for (const FindingEntry& finding : result.findings) {
      absl::StrAppend(
          &out, "        - ", finding.severity, ": ",
          Printable(finding.message),
          finding.count > 1 ? absl::StrCat(" (", finding.count, " alike)") : "",
          "\n");
    }
    if (result.findings.empty() && !result.message.empty()) {
      absl::StrAppend(&out, "        ", Printable(result.message), "\n");
    }
  }
  absl::StrAppend(&out, Summary(report), "\n", ExposureLine(report), "\n");
  if (!report.environment.empty()) {
    absl::StrAppend(&out, "environment (where cell-verify ran):\n");
    for (const auto& [name, value] : report.environment) {
      absl::StrAppend(&out, "  ", name, ": ", Printable(value), "\n");
    }
  }
  return out;
}

std::string FormatJson(const Report& report) {
  nlohmann::json results = nlohmann::json::array();
  for (const PropertyResult& result : report.results) {
    nlohmann::json findings = nlohmann::json::array();
    for (const FindingEntry& finding : result.findings) {
      findings.push_back({{"id", finding.id},
                          {"severity", finding.severity},
                          {"field", finding.field},
                          {"flag", finding.flag},
                          {"message", finding.message},
                          {"count", finding.count}});
    }
    results.push_back({{"property", result.property},
                       {"outcome", OutcomeName(result.outcome)},
                       {"expected", result.expected},
                       {"observed", result.observed},
                       {"message", result.message},
                       {"findings", std::move(findings)}});
  }
  const Exposure score = ScoreExposure(report.results);
  nlohmann::json exposure = {{"score", score.score},
                             {"band", std::string(score.band)},
                             {"threshold", nullptr}};
  if (report.threshold.has_value()) exposure["threshold"] = *report.threshold;
  std::map<Outcome, int> counts = Counts(report);
  nlohmann::json summary;
  for (const Outcome outcome : {Outcome::kPass, Outcome::kFail, Outcome::kWarn,
                                Outcome::kError, Outcome::kOff}) {
    summary[std::string(OutcomeName(outcome))] = counts[outcome];
  }
  return nlohmann::json(
             {{"spec", report.spec.empty() ? nlohmann::json()
                                           : nlohmann::json(report.spec)},
              {"sandbox", report.sandbox.empty()
                              ? nlohmann::json()
                              : nlohmann::json(report.sandbox)},
              {"policy", report.policy},
              {"staticOnly", report.static_only},
              // As the exit status says: --threshold included.
              {"passed", Acceptable(report.results, report.threshold)},
              {"summary", summary},
              {"exposure", exposure},
              {"environment", Environment(report)},
              {"results", results}})
             .dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
         "\n";
}

std::string FormatJunit(const Report& report) {
  std::map<Outcome, int> counts = Counts(report);
  const std::string suite = absl::StrCat("cell-verify.", report.policy);
  std::string out = absl::StrCat(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n",
      "  <testsuite name=\"", XmlEscape(suite), "\" tests=\"",
      report.results.size(), "\" failures=\"", counts[Outcome::kFail],
      "\" errors=\"", counts[Outcome::kError], "\" skipped=\"",
      counts[Outcome::kOff], "\">\n");
  // The score as suite properties, for CI systems that chart them.
  const Exposure exposure = ScoreExposure(report.results);
  absl::StrAppend(&out, "    <properties>\n",
                  absl::StrFormat("      <property name=\"exposure\" "
                                  "value=\"%.1f\"/>\n",
                                  exposure.score),
                  "      <property name=\"exposureBand\" value=\"",
                  exposure.band, "\"/>\n");
  if (report.threshold.has_value()) {
    absl::StrAppend(
        &out, absl::StrFormat("      <property name=\"exposureThreshold\" "
                              "value=\"%g\"/>\n",
                              *report.threshold));
  }
  for (const auto& [name, value] : report.environment) {
    absl::StrAppend(&out, "      <property name=\"environment.",
                    XmlEscape(name), "\" value=\"", XmlEscape(value), "\"/>\n");
  }
  absl::StrAppend(&out, "    </properties>\n");
  for (const PropertyResult& result : report.results) {
    absl::StrAppend(&out, "    <testcase classname=\"", XmlEscape(suite),
                    "\" name=\"", XmlEscape(result.property), "\">");
    const std::string detail = XmlEscape(Detail(result));
    switch (result.outcome) {
      case Outcome::kPass:
        break;
      case Outcome::kFail:
        absl::StrAppend(&out, "\n      <failure message=\"",
                        XmlEscape(result.message), "\">", detail,
                        "</failure>\n    ");
        break;
      case Outcome::kError:
        absl::StrAppend(&out, "\n      <error message=\"",
                        XmlEscape(result.message), "\">", detail,
                        "</error>\n    ");
        break;
      case Outcome::kWarn:
        absl::StrAppend(&out, "\n      <system-out>warning: ", detail,
                        "</system-out>\n    ");
        break;
      case Outcome::kOff:
        absl::StrAppend(&out, "\n      <skipped message=\"",
                        result.message.empty() ? "off in the policy"
                                               : XmlEscape(result.message),
                        "\"/>\n    ");
        break;
    }
    absl::StrAppend(&out, "</testcase>\n");
  }
  absl::StrAppend(&out, "    <system-out>", XmlEscape(ExposureLine(report)),
                  "</system-out>\n  </testsuite>\n</testsuites>\n");
  return out;
}

}  // namespace cell::policy
