#include "policy/evaluate.h"

#include <algorithm>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace cell::policy {
namespace {

using Json = nlohmann::json;

// One property's result: the verdict, with the policy's severity applied.
// A missing probe or fact makes it an error, never a pass.
PropertyResult Judged(const Policy& policy, const PropertyDef& property,
                      Verdict verdict) {
  PropertyResult result{property.id, Outcome::kPass,
                        std::move(verdict.expected),
                        std::move(verdict.observed), ""};
  const Severity severity = SeverityOf(policy, property.id);
  if (severity == Severity::kOff) {
    result.outcome = Outcome::kOff;
  } else if (!verdict.have_facts) {
    result.outcome = Outcome::kError;
    result.message = "the probe did not report this; see the probe output";
  } else if (!verdict.ok) {
    result.outcome =
        severity == Severity::kWarn ? Outcome::kWarn : Outcome::kFail;
    result.message = std::move(verdict.message);
  }
  return result;
}

// A message cut at its '...'-quoted names: parts.size() == names.size() + 1,
// and parts[0] 'names[0]' parts[1] ... is the message again.
struct QuotedNames {
  std::vector<std::string> parts;
  std::vector<std::string> names;
};

bool IsAlnum(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c));
}

QuotedNames CutQuotedNames(absl::string_view message) {
  QuotedNames cut;
  std::string part;
  size_t i = 0;
  while (i < message.size()) {
    // An apostrophe inside a word ("host's") neither opens nor closes.
    if (message[i] == '\'' && (i == 0 || !IsAlnum(message[i - 1]))) {
      size_t close = i + 1;
      while (close < message.size() &&
             !(message[close] == '\'' &&
               (close + 1 == message.size() || !IsAlnum(message[close + 1])))) {
        ++close;
      }
      if (close < message.size()) {
        cut.parts.push_back(std::move(part));
        part.clear();
        cut.names.emplace_back(message.substr(i + 1, close - i - 1));
        i = close + 1;
        continue;
      }
    }
    part += message[i++];
  }
  cut.parts.push_back(std::move(part));
  return cut;
}

// The first words of a message without its quoted names, for a finding's
// id: plain words only (file lines such as "f:3" and regexes vary with the
// spec and are left out), but a `field` in backquotes is kept, dashed, as
// it names what the finding is about.
std::string Slug(const QuotedNames& cut) {
  constexpr int kWords = 5;
  std::vector<std::string> words;
  const std::string text = absl::StrJoin(cut.parts, " ");
  bool code = false;  // Pieces between backquotes alternate with the rest.
  for (absl::string_view piece : absl::StrSplit(text, '`')) {
    if (code) {
      std::string word;
      for (const char c : piece) {
        if (IsAlnum(c)) {
          word += absl::ascii_tolower(static_cast<unsigned char>(c));
        } else if (!word.empty() && word.back() != '-') {
          word += '-';
        }
      }
      while (!word.empty() && word.back() == '-') word.pop_back();
      if (!word.empty()) words.push_back(std::move(word));
    } else {
      for (absl::string_view token :
           absl::StrSplit(piece, absl::ByAnyChar(" \t\n"), absl::SkipEmpty())) {
        while (!token.empty() &&
               absl::string_view("(\"[").find(token.front()) !=
                   absl::string_view::npos) {
          token.remove_prefix(1);
        }
        while (!token.empty() &&
               absl::string_view(",;:.)\"]!?").find(token.back()) !=
                   absl::string_view::npos) {
          token.remove_suffix(1);
        }
        std::string word;
        bool plain = true;
        bool letters = false;
        for (const char c : token) {
          if (c == '\'') continue;  // "host's" is "hosts".
          const bool letter =
              absl::ascii_isalpha(static_cast<unsigned char>(c));
          letters = letters || letter;
          plain = plain && (letter || c == '-');
          word += absl::ascii_tolower(static_cast<unsigned char>(c));
        }
        if (!plain || !letters || word == "the" || word == "a" ||
            word == "an") {
          continue;
        }
        words.push_back(std::move(word));
      }
    }
    code = !code;
  }
  if (words.size() > kWords) words.resize(kWords);
  return words.empty() ? "finding" : absl::StrJoin(words, "-");
}

// The static properties, each from its findings.
void EvaluateFindings(const Policy& policy,
                      const std::vector<Finding>& findings,
                      std::vector<PropertyResult>* results) {
  for (const PropertyDef& property : Properties()) {
    if (property.judge != nullptr) continue;
    std::vector<std::string> failures;
    std::vector<std::string> warnings;
    std::vector<Finding> own;
    for (const Finding& finding : findings) {
      if (finding.property != property.id) continue;
      (finding.level == FindingLevel::kFail ? failures : warnings)
          .push_back(finding.message);
      own.push_back(finding);
    }
    PropertyResult result{property.id, Outcome::kPass, "no findings", "", ""};
    const Severity severity = SeverityOf(policy, property.id);
    if (severity == Severity::kOff) {
      result.outcome = Outcome::kOff;
    } else if (!failures.empty()) {
      result.outcome =
          severity == Severity::kWarn ? Outcome::kWarn : Outcome::kFail;
      failures.insert(failures.end(), warnings.begin(), warnings.end());
      result.message = absl::StrJoin(failures, "; ");
    } else if (!warnings.empty()) {
      result.outcome = Outcome::kWarn;
      result.message = absl::StrJoin(warnings, "; ");
    }
    result.observed = absl::StrCat(failures.size(), " failing, ",
                                   warnings.size(), " advisory");
    // An "off" property hides its findings as it hides its message.
    if (severity != Severity::kOff) {
      result.findings = GroupFindings(own, severity == Severity::kWarn);
    }
    results->push_back(std::move(result));
  }
  // A finding for no static property is a bug in a rule: shown, never
  // dropped.
  for (const Finding& finding : findings) {
    const PropertyDef* property = FindProperty(finding.property);
    if (property == nullptr || property->judge != nullptr) {
      results->push_back({finding.property, Outcome::kError, "a known property",
                          finding.message,
                          "a static rule reported an unknown property",
                          GroupFindings({finding}, /*as_warnings=*/false)});
    }
  }
}

}  // namespace

std::vector<FindingEntry> GroupFindings(const std::vector<Finding>& findings,
                                        bool as_warnings) {
  struct Group {
    FindingEntry entry;
    QuotedNames cut;
    std::vector<std::vector<std::string>> names;  // Per quoted place, once.
  };
  std::vector<Group> groups;
  // (severity, field, flag, message without its quoted names) -> groups[i].
  std::map<std::tuple<std::string, std::string, std::string,
                      std::vector<std::string>>,
           size_t>
      index;
  for (const FindingLevel level : {FindingLevel::kFail, FindingLevel::kWarn}) {
    for (const Finding& finding : findings) {
      if (finding.level != level) continue;
      const std::string severity =
          level == FindingLevel::kFail && !as_warnings ? "fail" : "warn";
      QuotedNames cut = CutQuotedNames(finding.message);
      const std::vector<std::string> found = cut.names;
      const auto [it, added] = index.try_emplace(
          std::make_tuple(severity, finding.field, finding.flag, cut.parts),
          groups.size());
      if (added) {
        Group group;
        group.entry = {absl::StrCat(finding.property, ".", Slug(cut)),
                       severity,
                       finding.field,
                       finding.flag,
                       finding.message,
                       0};
        group.names.resize(cut.names.size());
        group.cut = std::move(cut);
        groups.push_back(std::move(group));
      }
      Group& group = groups[it->second];
      ++group.entry.count;
      for (size_t i = 0; i < found.size(); ++i) {
        std::vector<std::string>& seen = group.names[i];
        if (std::find(seen.begin(), seen.end(), found[i]) == seen.end()) {
          seen.push_back(found[i]);
        }
      }
    }
  }
  std::vector<FindingEntry> entries;
  std::map<std::string, int> ids;
  for (Group& group : groups) {
    FindingEntry& entry = group.entry;
    if (const int n = ++ids[entry.id]; n > 1) {
      absl::StrAppend(&entry.id, "-", n);
    }
    if (entry.count > 1) {
      entry.message = group.cut.parts[0];
      for (size_t i = 0; i < group.names.size(); ++i) {
        absl::StrAppend(&entry.message, "'",
                        absl::StrJoin(group.names[i], "', '"), "'",
                        group.cut.parts[i + 1]);
      }
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

absl::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kPass:
      return "pass";
    case Outcome::kFail:
      return "fail";
    case Outcome::kWarn:
      return "warn";
    case Outcome::kError:
      return "error";
    case Outcome::kOff:
      return "off";
  }
  return "?";
}

bool AllPassed(const std::vector<PropertyResult>& results) {
  for (const PropertyResult& result : results) {
    if (result.outcome == Outcome::kFail || result.outcome == Outcome::kError) {
      return false;
    }
  }
  return true;
}

std::vector<PropertyResult> EvaluateStatic(
    const Policy& policy, const std::vector<Finding>& findings) {
  std::vector<PropertyResult> results;
  EvaluateFindings(policy, findings, &results);
  return results;
}

std::map<std::string, Json> ParseProbeFacts(absl::string_view probe_output) {
  std::map<std::string, Json> facts;
  for (absl::string_view line :
       absl::StrSplit(probe_output, '\n', absl::SkipEmpty())) {
    Json parsed = Json::parse(line.begin(), line.end(), nullptr,
                              /*allow_exceptions=*/false);
    if (!parsed.is_object()) continue;
    const auto probe = parsed.find("probe");
    const auto probe_facts = parsed.find("facts");
    if (probe == parsed.end() || !probe->is_string() ||
        probe_facts == parsed.end() || !probe_facts->is_object()) {
      continue;
    }
    facts[probe->get<std::string>()] = std::move(*probe_facts);
  }
  return facts;
}

std::vector<PropertyResult> Evaluate(const CellSpec& spec, const Policy& policy,
                                     const Observation& observation,
                                     const std::vector<Finding>& findings) {
  std::vector<PropertyResult> results;
  for (const PropertyDef& property : Properties()) {
    if (property.judge == nullptr) continue;
    if (property.applies != nullptr && !property.applies(spec)) continue;
    results.push_back(
        Judged(policy, property, property.judge(spec, observation)));
  }
  EvaluateFindings(policy, findings, &results);
  return results;
}

std::vector<PropertyResult> EvaluateSandbox(const CellSpec& reference,
                                            const Policy& policy,
                                            const Observation& observation) {
  std::vector<PropertyResult> results =
      Evaluate(reference, policy, observation, {});
  for (PropertyResult& result : results) {
    const PropertyDef* property = FindProperty(result.property);
    if (property == nullptr || property->judge != nullptr) continue;
    result.outcome = Outcome::kOff;
    result.expected = "a spec to check";
    result.observed = "not judged: a foreign sandbox has no spec";
    result.message = result.observed;
    result.findings.clear();
  }
  return results;
}

}  // namespace cell::policy
