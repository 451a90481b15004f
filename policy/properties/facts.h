// Reading probe facts for a judge: facts come from inside a cell and are
// never trusted to be well formed, so every lookup may be null.
#ifndef CELL_POLICY_PROPERTIES_FACTS_H_
#define CELL_POLICY_PROPERTIES_FACTS_H_

#include <initializer_list>
#include <string>

#include "launcher/spec/spec.h"
#include "nlohmann/json.hpp"
#include "policy/properties/property.h"

namespace cell::policy {

// A fact at a path of keys, or null when any step is missing.
nlohmann::json At(const Observation& observation, const std::string& probe,
                  std::initializer_list<const char*> keys);

// A fact for a message: strings as they are, the rest as JSON.
std::string Show(const nlohmann::json& value);

// True when the spec itself puts something at `path` (a mount at it or
// above it): then seeing it is what the spec asked for.
bool BoundBySpec(const CellSpec& spec, const std::string& path);

// Whether the reach probe's walk of the cell covered everything: not cut
// short (entries, depth) and no directory it could pass through but not
// list. When not, `why` says what was missed; a judge reading the walk
// then has no facts (an error, never a pass).
bool WalkComplete(const Observation& observation, std::string* why);

// `id` inside, as the host sees it through `map` ([[inside, outside,
// count], ...], as /proc/self/uid_map), or null when unmapped.
nlohmann::json HostIdOf(const nlohmann::json& id, const nlohmann::json& map);

// The variables a client finds its proxy in, in the order the probe
// reads them (probes/network.cc).
inline constexpr const char* kProxyVariables[] = {"http_proxy", "https_proxy",
                                                  "HTTP_PROXY", "HTTPS_PROXY"};

// Whether the probe found a proxy in any of them.
bool ProbeFoundProxy(const Observation& observation);

// The command's namespace id for `kind`: as the host read it from
// /proc/PID where it did (a sandbox cannot forge that), else as the probe
// reported it; null when neither has it.
nlohmann::json CommandNamespace(const Observation& observation,
                                const char* kind);

// The namespace id the host reported for `kind`, or null.
nlohmann::json HostNamespace(const Observation& observation, const char* kind);

}  // namespace cell::policy

#endif  // CELL_POLICY_PROPERTIES_FACTS_H_
