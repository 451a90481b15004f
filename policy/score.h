// The exposure score, in the manner of `systemd-analyze security`: how much
// of what cell-verify judged is exposed, 0.0 (nothing) to 10.0 (all of it),
// each property counted with its weight in the registry
// (policy/properties), and a band for people. `--threshold=N` turns it into
// cell-verify's exit status.
#ifndef CELL_POLICY_SCORE_H_
#define CELL_POLICY_SCORE_H_

#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "policy/evaluate.h"

namespace cell::policy {

struct Exposure {
  double score = 0;  // 0.0 .. 10.0, rounded to one decimal.
  absl::string_view band;
};

// score = max(10 * sum(weight * exposure) / sum(weight), the worst
// result's floor), over every result that is not off; exposure is 1 for a
// fail or an error (a property that could not be judged is never safe),
// 0.5 for a warn, 0 for a pass. The floor is 0.75 x weight for a fail or
// an error and 0.3 x weight for a warn, so that one failing escape
// (weight 10: 7.5, UNSAFE) cannot hide among many passes. No counted
// result scores 0.0.
Exposure ScoreExposure(const std::vector<PropertyResult>& results);

// The band of a score (one decimal): below 2.0 "OK", below 5.0 "MEDIUM",
// below 7.5 "EXPOSED", else "UNSAFE".
absl::string_view ExposureBand(double score);

// The registry's weight of `property`; 10 for an id the registry does not
// know (a static rule's typo must not lower the score).
int PropertyWeight(absl::string_view property);

// `--threshold`'s value: a number from 0 to 10, decimals allowed.
absl::StatusOr<double> ParseThreshold(absl::string_view text);

// Whether cell-verify exits 0. Without a threshold: no fail and no error.
// With one: the score is at most `threshold` and no property is an error
// (an unjudged property must not pass on the strength of the others).
bool Acceptable(const std::vector<PropertyResult>& results,
                std::optional<double> threshold);

}  // namespace cell::policy

#endif  // CELL_POLICY_SCORE_H_
