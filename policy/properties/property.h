// A verified property in one place: its id, what it checks, the probes
// whose facts it reads, its weight in the exposure score, and the judge
// that turns the spec and what was observed into a verdict. cell-verify's
// evaluation, the policy's `severity` keys and the report all loop over
// the registry (Properties()), so a property id exists exactly once: a
// judge cannot misspell one, and a policy naming an unknown one is refused.
#ifndef CELL_POLICY_PROPERTIES_PROPERTY_H_
#define CELL_POLICY_PROPERTIES_PROPERTY_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "launcher/spec/spec.h"
#include "nlohmann/json.hpp"

namespace cell::policy {

// Everything observed about one run of the probes in a cell.
struct Observation {
  // Probe name -> facts, as cell-probe printed them.
  std::map<std::string, nlohmann::json> facts;
  // What the host saw.
  std::map<std::string, uint64_t> host_namespaces;
  std::string host_pid1_comm;
  int host_capability_count = 0;  // cap_last_cap + 1.
  uid_t uid = 0;
  gid_t gid = 0;
  // After the run.
  // Bytes waiting in the input of the terminal cell-verify started the
  // cell under (raw mode; nothing else writes there): pushed by the cell.
  // -1: not measured.
  int caller_terminal_input = -1;
  // What the fs probe tried to write (--try-write): in-cell path -> what it
  // is ("logDir", "protect: .git/hooks/", "the spec (/host/path)").
  std::map<std::string, std::string> control_paths;
  // The spec's host paths as cell-verify found them (host_checks.h): a
  // symlink on the way, a source inside a writable bind. One line each.
  std::vector<std::string> host_path_problems;
  // "DEV:INO" of the worktree the spec names, opened without following a
  // symlink; "" when it could not be opened.
  std::string host_worktree_id;
  // The command as the host saw it while it ran (policy/command_view.h):
  // descriptors 3 and up on every thread, and each thread's cwd and root
  // ("DEV:INO"); the host's own root for comparison.
  bool command_inspected = false;
  std::vector<std::string> command_descriptors;
  std::vector<std::string> command_cwd_ids;
  std::vector<std::string> command_root_ids;
  // Its namespaces (kind -> inode) and network (interfaces, routes) as the
  // host reads them from /proc/PID: what a sandbox cannot show the probe
  // otherwise (a fake /proc). Empty / null when not inspected.
  std::map<std::string, uint64_t> command_namespaces;
  nlohmann::json command_network;
  // Whether it runs in the session its launcher was started in (the one
  // cell-verify's stand-in terminal controls); null when not inspected.
  nlohmann::json command_in_caller_session;
  // Its cgroups as the host names them (controllers -> path); null when
  // not inspected. A cgroup namespace shows the probe other paths.
  nlohmann::json command_cgroups;
  std::string host_root_id;
  bool jd_removed = false;
  bool proxy_gone = true;
  bool command_gone = true;
  // Processes that outlived the run: descendants of what cell-verify
  // started (it is their subreaper), alive after it exited ("PID NAME").
  std::vector<std::string> leftover_processes;
  // The probes ran in a foreign sandbox (cell-verify --sandbox), judged
  // against policy/sandbox.h's reference spec: no launcher of ours, so no
  // $JD, status file or proxy URL of ours to expect.
  bool foreign_sandbox = false;
  // For a foreign sandbox: the policy's limits.required ("memoryMax",
  // "pidsMax", rlimit names), which it must show bounded.
  std::vector<std::string> required_limits;
  // cell-verify's own rlimits ({"soft","hard"}, null for unlimited, by
  // RlimitResources() name) and cgroups (controllers -> path, "" for the
  // unified hierarchy): what a cell without `limits` must show.
  nlohmann::json host_rlimits = nlohmann::json::object();
  nlohmann::json host_cgroups = nlohmann::json::object();
  // cell-verify itself runs under a seccomp filter (a container's), which
  // every process it starts inherits: a cell's mode 2 is then not its own.
  bool host_seccomp_filter = false;
  // The status each --connect target should get from the proxy, in order:
  // 200 where the filter (as the static analysis reads it) allows the
  // canary's host, 403 where it denies it.
  std::vector<int> expected_connect_statuses;
  // Likewise for each --get target (a plain GET to cell-verify's HTTP
  // canary whose Host header differs from the request line), judged by the
  // request line's host.
  std::vector<int> expected_get_statuses;
};

// What a judge concludes about one property.
struct Verdict {
  bool have_facts = true;  // False: the probe did not report (an error).
  bool ok = false;
  std::string expected;
  std::string observed;
  std::string message;  // Why, and what fixes it, when not ok.
};

struct PropertyDef {
  const char* id;
  const char* summary;  // What it checks, one line.
  const char* probes;   // The probes it reads, comma-separated; "" for none.
  int weight;           // 1 (cosmetic) .. 10 (an escape): the score's weight.
  // Whether the spec has this property at all (nullptr: always).
  bool (*applies)(const CellSpec& spec);
  // The dynamic judgement; nullptr for a static property, judged from the
  // spec's findings alone.
  Verdict (*judge)(const CellSpec& spec, const Observation& observation);
};

// Every property, in report order: the dynamic ones, then the static.
const std::vector<PropertyDef>& Properties();
// nullptr when `id` is not a property.
const PropertyDef* FindProperty(absl::string_view id);

// The areas, one file each; Properties() lists them in this order.
void AddNamespaceProperties(std::vector<PropertyDef>* out);
void AddNetworkProperties(std::vector<PropertyDef>* out);
void AddNixProperties(std::vector<PropertyDef>* out);
void AddCapabilityProperties(std::vector<PropertyDef>* out);
void AddHostProperties(std::vector<PropertyDef>* out);
void AddFilesystemProperties(std::vector<PropertyDef>* out);
void AddLimitProperties(std::vector<PropertyDef>* out);
void AddCleanupProperties(std::vector<PropertyDef>* out);
void AddStaticProperties(std::vector<PropertyDef>* out);

}  // namespace cell::policy

#endif  // CELL_POLICY_PROPERTIES_PROPERTY_H_
