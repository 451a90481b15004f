// The network path: no route out but the proxy, and the proxy decides as
// the filter says.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "launcher/spec/plan.h"
#include "policy/properties/facts.h"
#include "policy/properties/property.h"

namespace cell::policy {
namespace {

using Json = nlohmann::json;

Verdict NoRoutes(const CellSpec&, const Observation& o) {
  const Json v4 = At(o, "net", {"ipv4", "count"});
  const Json v6 = At(o, "net", {"ipv6", "default"});
  const Json interfaces = At(o, "net", {"interfaces"});
  const Json direct = At(o, "net", {"direct", "connected"});
  const bool only_lo = interfaces.is_object() && interfaces.size() == 1 &&
                       interfaces.contains("lo");
  return {
      !v4.is_null() && !interfaces.is_null(),
      v4 == 0 && v6 == false && only_lo && direct == false,
      "only lo, no IPv4 routes, no IPv6 default, direct connect fails",
      absl::StrCat("interfaces ", Show(interfaces), ", ", Show(v4),
                   " IPv4 routes, IPv6 default ", Show(v6), ", direct connect ",
                   direct == true ? "succeeded" : "failed"),
      "the cell has a way out besides the proxy"};
}

bool Proxied(const CellSpec& spec) {
  return spec.network.mode == NetworkMode::kProxy;
}

Verdict Proxy(const CellSpec& spec, const Observation& o) {
  const Json env = At(o, "net", {"proxyEnv", "http_proxy"});
  const Json connects = At(o, "net", {"connect"});
  std::vector<std::string> expected = {
      absl::StrCat("http_proxy=", ProxyUrl(spec.network.port))};
  std::vector<std::string> observed = {absl::StrCat("http_proxy=", Show(env))};
  bool ok = env == ProxyUrl(spec.network.port) &&
            !o.expected_connect_statuses.empty() && connects.is_array() &&
            connects.size() == o.expected_connect_statuses.size();
  for (size_t i = 0; i < o.expected_connect_statuses.size(); ++i) {
    const Json item = connects.is_array() && i < connects.size()
                          ? connects[i]
                          : Json::object();
    const Json target =
        item.is_object() ? item.value("target", Json()) : Json();
    const Json code = item.is_object() ? item.value("status", Json()) : Json();
    expected.push_back(absl::StrCat("CONNECT ", Show(target), " -> ",
                                    o.expected_connect_statuses[i]));
    observed.push_back(absl::StrCat(
        "CONNECT ", Show(target), " -> ",
        code.is_null() ? Show(item.value("error", Json("no answer")))
                       : Show(code)));
    ok = ok && code == o.expected_connect_statuses[i];
  }
  return {o.facts.count("net") > 0, ok, absl::StrJoin(expected, ", "),
          absl::StrJoin(observed, ", "),
          "the proxy is unreachable, or its decisions differ from what the "
          "filter says (static analysis)"};
}

}  // namespace

void AddNetworkProperties(std::vector<PropertyDef>* out) {
  out->push_back({"no-routes",
                  "only lo, no routes: nothing leaves but through the proxy",
                  "net", 10, nullptr, NoRoutes});
  out->push_back({"proxy",
                  "the proxy answers, and allows and denies as the filter says",
                  "net", 8, Proxied, Proxy});
}

}  // namespace cell::policy
