// Properties judged on the spec alone, from the static rules' findings
// (policy/static_rules.h); they need no cell.
#include "policy/properties/property.h"

namespace cell::policy {

void AddStaticProperties(std::vector<PropertyDef>* out) {
  out->push_back({"filter-policy",
                  "the filter allows only what the policy allows, in every "
                  "spelling of an address",
                  "", 8, nullptr, nullptr});
  out->push_back({"mount-policy",
                  "no mount the policy forbids (sensitive host paths, "
                  "read-write system directories)",
                  "", 8, nullptr, nullptr});
  out->push_back({"env-policy", "no variable the policy forbids", "", 4,
                  nullptr, nullptr});
  out->push_back({"isolation-policy",
                  "the isolation settings the policy requires", "", 5, nullptr,
                  nullptr});
  out->push_back({"nix-policy",
                  "the Nix daemon's trust and egress as the policy accepts", "",
                  6, nullptr, nullptr});
}

}  // namespace cell::policy
