// Fuzz target: cell-verify reading what the probes printed inside a cell
// (which an untrusted cell controls), then judging it against both shipped
// profiles. Any output must give a result per property, never a crash or
// an exception.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "launcher/spec/spec.h"
#include "policy/evaluate.h"
#include "policy/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string output(reinterpret_cast<const char*>(data), size);
  cell::policy::Observation observation;
  observation.facts = cell::policy::ParseProbeFacts(output);
  observation.expected_connect_statuses = {200, 403};
  observation.host_rlimits = {{"nofile", {{"soft", 1024}, {"hard", 4096}}}};
  observation.host_cgroups = {{"", "/"}};
  cell::CellSpec spec;
  spec.worktree_path = "/w";
  spec.path = std::vector<std::string>{"/usr/bin"};
  // The documented cell, and one with every limit (the limits probe's
  // tests are judged only then).
  cell::CellSpec limited = spec;
  limited.isolation.read_only_root = true;
  limited.limits.rlimits = {{"nofile", 64}};
  limited.limits.pids_max = 20;
  limited.limits.memory_max = 16 << 20;
  for (const cell::CellSpec* judged : {&spec, &limited}) {
    for (const char* profile : {"documented", "agent-strict"}) {
      const absl::StatusOr<cell::policy::Policy> policy =
          cell::policy::BuiltinProfile(profile);
      if (!policy.ok()) std::abort();
      if (cell::policy::Evaluate(*judged, *policy, observation, {}).empty()) {
        std::abort();
      }
    }
  }
  return 0;
}
