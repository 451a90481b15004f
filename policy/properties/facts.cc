#include "policy/properties/facts.h"

#include "absl/strings/str_cat.h"
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

bool ProbeFoundProxy(const Observation& observation) {
  const Json env = At(observation, "net", {"proxyEnv"});
  if (!env.is_object()) return false;
  for (const char* name : kProxyVariables) {
    if (env.value(name, Json()).is_string()) return true;
  }
  return false;
}

Json CommandNamespace(const Observation& observation, const char* kind) {
  const auto it = observation.command_namespaces.find(kind);
  return it != observation.command_namespaces.end()
             ? Json(it->second)
             : At(observation, "ns", {kind});
}

Json HostNamespace(const Observation& observation, const char* kind) {
  const auto it = observation.host_namespaces.find(kind);
  return it == observation.host_namespaces.end() ? Json() : Json(it->second);
}

bool WalkComplete(const Observation& observation, std::string* why) {
  const nlohmann::json truncated = At(observation, "reach", {"truncated"});
  const nlohmann::json unlistable = At(observation, "reach", {"unlistable"});
  if (truncated != false) {
    *why =
        "the walk of the cell was cut short (too many entries or too "
        "deep): what lies beyond was not seen; bind less";
    return false;
  }
  if (!unlistable.is_array()) {
    *why = "the walk did not report its unlistable directories";
    return false;
  }
  if (!unlistable.empty()) {
    *why = absl::StrCat(
        "directories the cell can pass through but not list hide what is "
        "in them: ",
        unlistable.dump());
    return false;
  }
  return true;
}

// `id` inside, as the host sees it through `map` ([[inside, outside,
// count], ...]), or null when unmapped.
nlohmann::json HostIdOf(const nlohmann::json& id, const nlohmann::json& map) {
  if (!id.is_number_integer() || !map.is_array()) return nullptr;
  const int64_t inside = id.get<int64_t>();
  for (const Json& entry : map) {
    if (!entry.is_array() || entry.size() != 3 ||
        !entry[0].is_number_integer() || !entry[1].is_number_integer() ||
        !entry[2].is_number_integer()) {
      continue;
    }
    const int64_t first = entry[0].get<int64_t>();
    if (inside >= first && inside - first < entry[2].get<int64_t>()) {
      return entry[1].get<int64_t>() + (inside - first);
    }
  }
  return nullptr;
}

}  // namespace cell::policy
