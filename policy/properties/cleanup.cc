// What a run leaves behind on the host.
#include "absl/strings/str_cat.h"
#include "policy/properties/property.h"

namespace cell::policy {
namespace {

Verdict Cleanup(const CellSpec&, const Observation& o) {
  return {true, o.jd_removed && o.proxy_gone && o.command_gone,
          "$JD removed, no proxy or command left after exit",
          absl::StrCat("$JD ", o.jd_removed ? "removed" : "LEFT BEHIND",
                       ", proxy ", o.proxy_gone ? "gone" : "STILL RUNNING",
                       ", command ", o.command_gone ? "gone" : "STILL RUNNING"),
          "the run left something behind"};
}

}  // namespace

void AddCleanupProperties(std::vector<PropertyDef>* out) {
  out->push_back({"cleanup",
                  "$JD removed, no proxy or command left after the run", "", 5,
                  nullptr, Cleanup});
}

}  // namespace cell::policy
