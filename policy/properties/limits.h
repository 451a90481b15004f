// What the limits probe is asked to test for a spec, and how it reports an
// rlimit: shared by cell-verify (which runs the probe) and the judges.
#ifndef CELL_POLICY_PROPERTIES_LIMITS_H_
#define CELL_POLICY_PROPERTIES_LIMITS_H_

#include <cstdint>

#include "launcher/spec/spec.h"
#include "nlohmann/json.hpp"

namespace cell::policy {

// The limits probe's cgroup tests for `spec` (0: not run): forks past
// `limits.pidsMax`, and MiB past `limits.memoryMax`, while that stays cheap
// (pidsMax up to 1024, memoryMax up to 512 MiB); larger bounds are judged
// by the cell's cgroup path alone.
int ForkTestCount(const CellSpec& spec);
int MemoryTestMiB(const CellSpec& spec);

// An rlimit as the limits probe reports it: {"soft": N, "hard": N}, null
// for unlimited.
nlohmann::json RlimitFacts(uint64_t soft, uint64_t hard);

}  // namespace cell::policy

#endif  // CELL_POLICY_PROPERTIES_LIMITS_H_
