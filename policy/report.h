// Report writers for cell-verify: text for people, JSON for tools, JUnit
// XML for CI systems. Observed and expected values side by side, and the
// exposure score (policy/score.h) in each.
#ifndef CELL_POLICY_REPORT_H_
#define CELL_POLICY_REPORT_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "policy/evaluate.h"

namespace cell::policy {

struct Report {
  // What was verified: a cell's spec file, or a foreign sandbox's command
  // line (cell-verify --sandbox); the other is empty.
  std::string spec;
  std::string sandbox;
  std::string policy;
  bool static_only = false;
  // ANSI colours for the outcome words (a terminal, and NO_COLOR unset).
  bool colour = false;
  std::vector<PropertyResult> results;
  // cell-verify --threshold: the highest exposure score that passes.
  std::optional<double> threshold;
  // Where cell-verify ran ("container": "podman (/run/.containerenv)",
  // masked /proc paths, seccomp, user-namespace limits, cgroups:
  // base/outer_runtime.h), in the order shown.
  std::vector<std::pair<std::string, std::string>> environment;
};

std::string FormatText(const Report& report);
std::string FormatJson(const Report& report);
std::string FormatJunit(const Report& report);

}  // namespace cell::policy

#endif  // CELL_POLICY_REPORT_H_
