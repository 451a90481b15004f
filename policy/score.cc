#include "policy/score.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "policy/properties/property.h"

namespace cell::policy {

int PropertyWeight(absl::string_view property) {
  const PropertyDef* def = FindProperty(property);
  return def == nullptr ? 10 : def->weight;
}

absl::string_view ExposureBand(double score) {
  // Compared in tenths so that a score printed as 2.0 is never "OK".
  const int64_t tenths = std::llround(score * 10);
  if (tenths < 20) return "OK";
  if (tenths < 50) return "MEDIUM";
  if (tenths < 75) return "EXPOSED";
  return "UNSAFE";
}

Exposure ScoreExposure(const std::vector<PropertyResult>& results) {
  // In integers, with exposure doubled (a warn is half), so the rounding
  // does not depend on the order of a floating-point sum.
  int64_t exposed2 = 0;
  int64_t total = 0;
  // The worst single result sets a floor: one failing escape-class
  // property must not hide behind many passing ones (a weighted share
  // alone would score one weight-10 failure among 26 properties 0.5, "OK").
  // A fail or error scores at least 0.75 x its weight, a warn 0.3 x.
  int64_t floor_tenths = 0;
  for (const PropertyResult& result : results) {
    int64_t exposure2 = 0;
    switch (result.outcome) {
      case Outcome::kOff:
        continue;
      case Outcome::kPass:
        break;
      case Outcome::kWarn:
        exposure2 = 1;
        break;
      case Outcome::kFail:
      case Outcome::kError:
        exposure2 = 2;
        break;
    }
    const int64_t weight = PropertyWeight(result.property);
    exposed2 += weight * exposure2;
    total += weight;
    const int64_t floor = exposure2 == 2   ? (75 * weight + 5) / 10
                          : exposure2 == 1 ? 3 * weight
                                           : 0;
    floor_tenths = std::max(floor_tenths, floor);
  }
  // 10 * exposed2 / (2 * total), in tenths, rounded half up.
  const int64_t share = total == 0 ? 0 : (100 * exposed2 + total) / (2 * total);
  const int64_t tenths = std::min<int64_t>(100, std::max(share, floor_tenths));
  const double score = static_cast<double>(tenths) / 10;
  return {score, ExposureBand(score)};
}

absl::StatusOr<double> ParseThreshold(absl::string_view text) {
  double value = 0;
  if (!absl::SimpleAtod(text, &value) || !std::isfinite(value) || value < 0 ||
      value > 10) {
    return absl::InvalidArgumentError(
        absl::StrCat("--threshold=", text,
                     ": expected an exposure score from 0 to 10 (e.g. 3.5)"));
  }
  return value;
}

bool Acceptable(const std::vector<PropertyResult>& results,
                std::optional<double> threshold) {
  if (!threshold.has_value()) return AllPassed(results);
  for (const PropertyResult& result : results) {
    if (result.outcome == Outcome::kError) return false;
  }
  return ScoreExposure(results).score <= *threshold;
}

}  // namespace cell::policy
