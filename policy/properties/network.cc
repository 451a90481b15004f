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

// A listener of the probe's "listeners" fact, for a message.
std::string ListenerName(const Json& listener) {
  if (listener.contains("abstract")) {
    return absl::StrCat("abstract socket ",
                        Show(listener.value("abstract", Json())));
  }
  return absl::StrCat(Show(listener.value("address", Json())), " port ",
                      Show(listener.value("port", Json())));
}

// Listeners in the sandbox's network namespace that let the canary on the
// host's loopback through (as an HTTP or SOCKS5 proxy): "NAME (PROTOCOL)".
std::vector<std::string> OpenListeners(const Observation& o) {
  std::vector<std::string> open;
  const Json listeners = At(o, "net", {"listeners"});
  for (const Json& listener :
       listeners.is_array() ? listeners : Json::array()) {
    if (!listener.is_object()) continue;
    for (const auto& [protocol, opened] :
         {std::pair{"http", Json(200)}, std::pair{"socks5", Json("granted")}}) {
      if (listener.value(protocol, Json()) == opened) {
        open.push_back(
            absl::StrCat(ListenerName(listener), " (", protocol, ")"));
      }
    }
  }
  return open;
}

// Listeners no proxy variable names: a fresh network namespace has none,
// so each is a door someone put there (a bridge, a forward to a host
// service) with no filter behind it that anyone declared.
std::vector<std::string> UnnamedListeners(const Observation& o) {
  std::vector<std::string> unnamed;
  const Json listeners = At(o, "net", {"listeners"});
  for (const Json& listener :
       listeners.is_array() ? listeners : Json::array()) {
    if (listener.is_object() && listener.value("named", false) != true) {
      unnamed.push_back(ListenerName(listener));
    }
  }
  if (At(o, "net", {"listenersCut"}) == true) {
    unnamed.push_back("more listeners than the probe checks (32)");
  }
  return unnamed;
}

Verdict NoRoutes(const CellSpec& spec, const Observation& o) {
  const Json v4 = At(o, "net", {"ipv4", "count"});
  const Json v6 = At(o, "net", {"ipv6", "default"});
  const Json interfaces = At(o, "net", {"interfaces"});
  const Json direct = At(o, "net", {"direct", "connected"});
  const bool only_lo = interfaces.is_object() && interfaces.size() == 1 &&
                       interfaces.contains("lo");
  // The host's reading of the command's network namespace, where it has
  // one: both views must show no way out (a fake /proc fools only the
  // probe's).
  const Json& host = o.command_network;
  const bool host_ok =
      !host.is_object() ||
      (host.value("interfaces", Json()) == Json::array({"lo"}) &&
       host.value("ipv4Routes", Json()) == 0 &&
       host.value("ipv6Default", Json()) == false);
  // A listener no proxy variable names is a door (found in review: a
  // bridge on 127.0.0.2, on [::1], on an abstract socket, a plain forward
  // to a host service); without a proxy, a named one that reaches the
  // host's loopback is a way out too (with one, proxy-hostile judges the
  // named ones against the filter).
  std::vector<std::string> bridges = UnnamedListeners(o);
  if (spec.network.mode == NetworkMode::kNone) {
    for (const std::string& open : OpenListeners(o)) bridges.push_back(open);
  }
  return {
      !v4.is_null() && !interfaces.is_null(),
      v4 == 0 && v6 == false && only_lo && direct == false && host_ok &&
          bridges.empty(),
      "only lo, no IPv4 routes, no IPv6 default, direct connect fails",
      absl::StrCat("interfaces ", Show(interfaces), ", ", Show(v4),
                   " IPv4 routes, IPv6 default ", Show(v6), ", direct connect ",
                   direct == true ? "succeeded" : "failed",
                   host_ok ? "" : absl::StrCat("; the host sees ", host.dump()),
                   bridges.empty()
                       ? ""
                       : absl::StrCat("; listeners no proxy variable names, or "
                                      "reaching the host: ",
                                      absl::StrJoin(bridges, ", "))),
      "the cell has a way out besides the proxy"};
}

bool Proxied(const CellSpec& spec) {
  return spec.network.mode == NetworkMode::kProxy;
}

// The canary's i-th CONNECT as the probe reported it: its target, the
// status (null when none), and "TARGET -> STATUS" (or the error).
struct Connect {
  Json target;
  Json code;
  std::string text;
};

Connect ConnectAt(const Observation& o, size_t i) {
  const Json connects = At(o, "net", {"connect"});
  const Json item =
      connects.is_array() && i < connects.size() ? connects[i] : Json::object();
  Connect connect;
  connect.target = item.is_object() ? item.value("target", Json()) : Json();
  connect.code = item.is_object() ? item.value("status", Json()) : Json();
  connect.text = absl::StrCat(Show(connect.target), " -> ",
                              connect.code.is_null()
                                  ? Show(item.value("error", Json("no answer")))
                                  : Show(connect.code));
  return connect;
}

// The canary's CONNECTs in [begin, end) against what the filter means.
void CompareConnects(const Observation& o, size_t begin, size_t end,
                     std::vector<std::string>* expected,
                     std::vector<std::string>* observed, bool* ok) {
  const Json connects = At(o, "net", {"connect"});
  *ok = *ok && connects.is_array() &&
        connects.size() == o.expected_connect_statuses.size() && begin < end;
  for (size_t i = begin; i < end && i < o.expected_connect_statuses.size();
       ++i) {
    const Connect connect = ConnectAt(o, i);
    expected->push_back(absl::StrCat("CONNECT ", Show(connect.target), " -> ",
                                     o.expected_connect_statuses[i]));
    observed->push_back(absl::StrCat("CONNECT ", connect.text));
    *ok = *ok && connect.code == o.expected_connect_statuses[i];
  }
}

// The canary's two names (cell-verify's kCanaryHosts).
constexpr size_t kPlainTargets = 2;

Verdict Proxy(const CellSpec& spec, const Observation& o) {
  // A foreign sandbox names its proxy as it likes, and maybe only in
  // another of the variables the probe reads (in its order).
  std::string name = kProxyVariables[0];
  Json env = At(o, "net", {"proxyEnv", kProxyVariables[0]});
  for (const char* other : kProxyVariables) {
    if (!o.foreign_sandbox || !env.is_null()) break;
    name = other;
    env = At(o, "net", {"proxyEnv", other});
  }
  std::vector<std::string> expected = {absl::StrCat(
      name, "=",
      o.foreign_sandbox ? "a proxy URL" : ProxyUrl(spec.network.port))};
  std::vector<std::string> observed = {absl::StrCat(name, "=", Show(env))};
  bool ok =
      o.foreign_sandbox ? env.is_string() : env == ProxyUrl(spec.network.port);
  CompareConnects(o, 0, kPlainTargets, &expected, &observed, &ok);
  return {o.facts.count("net") > 0, ok, absl::StrJoin(expected, ", "),
          absl::StrJoin(observed, ", "),
          "the proxy is unreachable, or its decisions differ from what the "
          "filter says (static analysis)"};
}

// Plain GETs to the HTTP canary (on another port) whose Host header names
// another virtual host than the request line: judged by the request line,
// and upstream asked for the host the filter judged (the canary answers
// with the Host it was sent).
void JudgeFrontedGets(const Observation& o, std::vector<std::string>* decided,
                      std::vector<std::string>* through, bool* have) {
  const Json gets = At(o, "net", {"get"});
  const size_t count = o.expected_get_statuses.size();
  *have = *have && (count == 0 || (gets.is_array() && gets.size() == count));
  for (size_t i = 0; i < count && gets.is_array() && i < gets.size(); ++i) {
    const Json item = gets[i].is_object() ? gets[i] : Json::object();
    const Json target = item.value("target", Json());
    const Json code = item.value("status", Json());
    const Json body = item.value("body", Json());
    // No answer at all (the proxy unreachable): nothing was judged.
    *have = *have && (!code.is_null() || !ProbeFoundProxy(o));
    const std::string line = absl::StrCat(
        "GET http://", Show(target),
        "/ (Host: ", Show(item.value("hostHeader", Json())), ") -> ",
        code.is_null() ? Show(item.value("error", Json("no answer")))
                       : Show(code));
    decided->push_back(line);
    if (code == 200 && o.expected_get_statuses[i] != 200) {
      through->push_back(line);
    } else if (code == 200 && body != target) {
      through->push_back(
          absl::StrCat(line, ", upstream asked for ", Show(body), " instead"));
    }
  }
}

// The same loopback canary under every other spelling: the proxy must
// never let one through that the filter does not mean to allow. Any other
// refusal (a spelling the engine cannot resolve: 502) denies all the same.
Verdict ProxyHostile(const CellSpec&, const Observation& o) {
  const Json connects = At(o, "net", {"connect"});
  std::vector<std::string> through, decided;
  const size_t count = o.expected_connect_statuses.size();
  bool answered = true;
  for (size_t i = kPlainTargets; i < count; ++i) {
    const Connect connect = ConnectAt(o, i);
    const std::string& line = connect.text;
    const Json& code = connect.code;
    decided.push_back(line);
    if (code == 200 && o.expected_connect_statuses[i] != 200) {
      through.push_back(line);
    }
    // No answer at all (the proxy not listening yet, or gone): that
    // spelling was not judged, and a verdict needs every one (found when a
    // sandbox's proxy came up after the probe had asked: a vacuous PASS).
    answered = answered && (!code.is_null() || !ProbeFoundProxy(o));
  }
  bool have = o.facts.count("net") > 0 && connects.is_array() &&
              connects.size() == count && count > kPlainTargets && answered;
  JudgeFrontedGets(o, &decided, &through, &have);
  // Every listener in the sandbox's network namespace, asked for the first
  // canary target as an HTTP and as a SOCKS5 proxy: none may let through
  // what the filter denies (a second proxy, a bridge nobody named).
  have = have && At(o, "net", {"listeners"}).is_array();
  if (!o.expected_connect_statuses.empty() &&
      o.expected_connect_statuses[0] != 200) {
    for (const std::string& listener : OpenListeners(o)) {
      through.push_back(absl::StrCat("the listener at ", listener,
                                     " lets the canary through"));
    }
  }
  return {have, through.empty(),
          "no spelling of the loopback canary, and no Host header that "
          "differs from the request line, gets through unless the filter "
          "allows it",
          through.empty()
              ? absl::StrJoin(decided, ", ")
              : absl::StrCat("through: ", absl::StrJoin(through, ", ")),
          "a spelling of a loopback or private address, or a Host header "
          "naming another host, gets through the proxy although the filter "
          "does not mean it"};
}

}  // namespace

void AddNetworkProperties(std::vector<PropertyDef>* out) {
  out->push_back({"no-routes",
                  "only lo, no routes: nothing leaves but through the proxy",
                  "net", 10, nullptr, NoRoutes});
  out->push_back({"proxy",
                  "the proxy answers, and allows and denies as the filter says",
                  "net", 8, Proxied, Proxy});
  out->push_back({"proxy-hostile",
                  "every spelling of a loopback address, and every Host "
                  "header naming another host than the request line, gets "
                  "what the filter means from the live proxy",
                  "net", 10, Proxied, ProxyHostile});
}

}  // namespace cell::policy
