// What a run leaves behind on the host.
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "policy/properties/property.h"

namespace cell::policy {
namespace {

Verdict Cleanup(const CellSpec&, const Observation& o) {
  const std::string leftovers =
      o.leftover_processes.empty()
          ? "no process left"
          : absl::StrCat("LEFT RUNNING: ",
                         absl::StrJoin(o.leftover_processes, ", "));
  if (o.foreign_sandbox) {
    return {true, o.leftover_processes.empty() && o.command_gone,
            "no process of the sandbox's left after it exited",
            absl::StrCat(leftovers, ", command ",
                         o.command_gone ? "gone" : "STILL RUNNING"),
            "the sandbox left processes running after it exited: they keep "
            "whatever access they had"};
  }
  return {
      true,
      o.jd_removed && o.proxy_gone && o.command_gone &&
          o.leftover_processes.empty(),
      "$JD removed, no proxy, command or other process left after exit",
      absl::StrCat("$JD ", o.jd_removed ? "removed" : "LEFT BEHIND", ", proxy ",
                   o.proxy_gone ? "gone" : "STILL RUNNING", ", command ",
                   o.command_gone ? "gone" : "STILL RUNNING", ", ", leftovers),
      "the run left something behind"};
}

}  // namespace

void AddCleanupProperties(std::vector<PropertyDef>* out) {
  out->push_back(
      {"cleanup",
       "$JD removed, no proxy, command or other process left after the run", "",
       5, nullptr, Cleanup});
}

}  // namespace cell::policy
