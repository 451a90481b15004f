#include <vector>

#include "policy/properties/property.h"

namespace cell::policy {

const std::vector<PropertyDef>& Properties() {
  static const auto* const properties = [] {
    auto* list = new std::vector<PropertyDef>;
    AddNamespaceProperties(list);
    AddNetworkProperties(list);
    AddNixProperties(list);
    AddCapabilityProperties(list);
    AddHostProperties(list);
    AddFilesystemProperties(list);
    AddLimitProperties(list);
    AddCleanupProperties(list);
    AddStaticProperties(list);
    return list;
  }();
  return *properties;
}

const PropertyDef* FindProperty(absl::string_view id) {
  for (const PropertyDef& property : Properties()) {
    if (id == property.id) return &property;
  }
  return nullptr;
}

}  // namespace cell::policy
