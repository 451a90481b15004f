#include "policy/properties/facts.h"

#include "base/fs_util.h"

namespace cell::policy {

using Json = nlohmann::json;

Json At(const Observation& observation, const std::string& probe,
        std::initializer_list<const char*> keys) {
  const auto it = observation.facts.find(probe);
  if (it == observation.facts.end()) return nullptr;
  const Json* node = &it->second;
  for (const char* key : keys) {
    if (!node->is_object() || !node->contains(key)) return nullptr;
    node = &(*node)[key];
  }
  return *node;
}

std::string Show(const Json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

bool BoundBySpec(const CellSpec& spec, const std::string& path) {
  for (const MountSpec& mount : spec.mounts) {
    if (PathIsSameOrUnder(path, mount.dst)) return true;
  }
  return false;
}

Json HostNamespace(const Observation& observation, const char* kind) {
  const auto it = observation.host_namespaces.find(kind);
  return it == observation.host_namespaces.end() ? Json() : Json(it->second);
}

}  // namespace cell::policy
