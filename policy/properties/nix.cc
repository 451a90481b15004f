// The Nix store and daemon as a cell sees them.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "policy/properties/facts.h"
#include "policy/properties/property.h"

namespace cell::policy {
namespace {

using Json = nlohmann::json;

bool HasNix(const CellSpec& spec) { return spec.nix; }

Verdict StoreReadOnly(const CellSpec&, const Observation& o) {
  const Json read_only = At(o, "store", {"mount", "readOnly"});
  const Json error = At(o, "store", {"writeError"});
  // Read-only until the command remounts it: the remount must fail too.
  const Json remount = At(o, "store", {"remountWritable"});
  return {!read_only.is_null(),
          read_only == true && At(o, "store", {"writable"}) == false &&
              remount.is_string() && remount != "ok",
          "/nix/store mounted read-only, writes fail with EROFS, a read-write "
          "remount fails",
          absl::StrCat("read-only ", Show(read_only), ", write: ", Show(error),
                       ", remount read-write: ", Show(remount)),
          remount == "ok" ? "the command can remount the store read-write"
                          : "the store is writable from inside the cell"};
}

Verdict NixConfig(const CellSpec&, const Observation& o) {
  const Json config = At(o, "nix", {"NIX_CONFIG"});
  const Json remote = At(o, "nix", {"NIX_REMOTE"});
  return {
      o.facts.count("nix") > 0,
      config ==
              "experimental-features = nix-command flakes\nsubstitute = "
              "true" &&
          remote == "unix:///run/nix/socket",
      "NIX_CONFIG and NIX_REMOTE forced",
      absl::StrCat("NIX_CONFIG=", Show(config), " NIX_REMOTE=", Show(remote)),
      "the forced Nix variables are missing or changed"};
}

Verdict NixDaemon(const CellSpec&, const Observation& o) {
  const Json handshake = At(o, "nix", {"daemon", "handshake"});
  return {o.facts.count("nix") > 0, handshake == true,
          "the daemon answers the worker handshake at /run/nix/socket",
          handshake == true
              ? absl::StrCat("protocol ",
                             Show(At(o, "nix", {"daemon", "protocolVersion"})))
              : Show(At(o, "nix", {"daemon", "error"})),
          "the Nix daemon is not reachable; check nixDaemonSocket"};
}

// A daemon that trusts the cell lets it build with `--option sandbox false`
// and an empty build-users-group: the builder then runs as the daemon's
// user (root) in the host's namespaces. The launcher refuses cells the
// daemon's config (as it reads it) trusts; this asks the daemon itself.
Verdict NixTrust(const CellSpec&, const Observation& o) {
  if (std::string why; !WalkComplete(o, &why)) {
    return {false, false, "a complete walk of the cell", why, ""};
  }
  // Every daemon the cell reaches: the one at /run/nix/socket, and any
  // socket found through the binds that answers the worker handshake.
  std::vector<std::pair<Json, Json>> daemons;  // {socket, daemon facts}
  const Json own = At(o, "nix", {"daemon"});
  if (own.is_object()) daemons.emplace_back(own.value("socket", Json()), own);
  const Json sockets = At(o, "reach", {"sockets"});
  if (sockets.is_array()) {
    for (const Json& socket : sockets) {
      daemons.emplace_back(socket.value("path", Json()),
                           socket.value("nix", Json()));
    }
  }
  std::vector<std::string> trusted, untrusted, unknown;
  for (const auto& [path, daemon] : daemons) {
    if (!daemon.is_object() || daemon.value("handshake", false) != true) {
      continue;
    }
    const Json trust = daemon.value("trust", Json::object());
    const Json verdict =
        trust.is_object() ? trust.value("trusted", Json()) : Json();
    (verdict == true    ? trusted
     : verdict == false ? untrusted
                        : unknown)
        .push_back(Show(path));
  }
  std::string observed =
      trusted.empty() && untrusted.empty() && unknown.empty()
          ? "no daemon answered"
          : absl::StrCat(
                trusted.empty()
                    ? ""
                    : absl::StrCat("trusted by ", absl::StrJoin(trusted, ", "),
                                   "; "),
                untrusted.empty()
                    ? ""
                    : absl::StrCat("not trusted by ",
                                   absl::StrJoin(untrusted, ", "), "; "),
                unknown.empty() ? ""
                                : absl::StrCat("no answer on trust from ",
                                               absl::StrJoin(unknown, ", ")));
  return {sockets.is_array() && unknown.empty(), trusted.empty(),
          "every Nix daemon the cell reaches ignores a restricted setting "
          "sent from it (not a trusted user)",
          observed,
          "a Nix daemon trusts the cell: it can build with the sandbox off, "
          "as the daemon's user on the host. Run the cell as a user the "
          "daemon does not trust (hostUser; take it out of trusted-users), or "
          "do not bind the daemon's socket"};
}

}  // namespace

void AddNixProperties(std::vector<PropertyDef>* out) {
  out->push_back({"store-read-only",
                  "/nix/store is read-only and cannot be remounted writable",
                  "store", 8, HasNix, StoreReadOnly});
  out->push_back({"nix-config", "NIX_CONFIG and NIX_REMOTE are forced", "nix",
                  2, HasNix, NixConfig});
  out->push_back({"nix-daemon", "the Nix daemon answers inside the cell", "nix",
                  2, HasNix, NixDaemon});
  out->push_back({"nix-trust",
                  "the Nix daemon does not treat the cell as a trusted user",
                  "nix,reach", 10, nullptr, NixTrust});
}

}  // namespace cell::policy
