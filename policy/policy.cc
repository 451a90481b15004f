#include "policy/policy.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/json_fields.h"
#include "base/json_text.h"
#include "base/status_macros.h"
#include "policy/properties/property.h"

namespace cell::policy {
namespace {

using Json = nlohmann::json;

const std::vector<std::pair<absl::string_view, Severity>> kSeverities = {
    {"fail", Severity::kFail},
    {"warn", Severity::kWarn},
    {"off", Severity::kOff}};
const std::vector<std::pair<absl::string_view, Capabilities>> kCapabilities = {
    {"all", Capabilities::kAll}, {"none", Capabilities::kNone}};

// The shipped profiles, as policy files a user could have written.
constexpr char kDocumentedProfile[] = R"({
  // The cell behaves exactly as docs/spec.md documents, unsafe defaults
  // included: what the spec asks for is what the probes must see.
  "version": 1,
  "name": "documented",
  // A cell launched by root is host root unless hostUser says otherwise:
  // documented, so a warning here (agent-strict fails it).
  "severity": {"host-identity": "warn"}
})";

constexpr char kAgentStrictProfile[] = R"({
  // What we recommend before letting an agent loose: its own PID and IPC
  // namespaces, no capabilities, the seccomp filter against escape routes,
  // a read-only root, an explicit filter that keeps private and metadata
  // addresses out, no credentials in the environment, nothing sensitive of
  // the host bound in. Resource limits depend on the host (a cgroup needs
  // delegation), so `limits.required` is left to site policies.
  "version": 1,
  "name": "agent-strict",
  "network": {
    "forbidAllowAll": true,
    "forbidPrivateAddresses": true
  },
  "mounts": {
    "forbiddenSources": ["/", "/etc", "/root", "/home", "~", "/var/run/docker.sock",
                         "/run/docker.sock", "~/.ssh", "~/.aws", "~/.config/gcloud",
                         "~/.kube", "~/.docker", "~/.gnupg", "~/.netrc"],
    "forbidWritableSystemDirs": true
  },
  "env": {
    "forbiddenNames": ["*_TOKEN", "*_SECRET", "*_SECRET_*", "*PASSWORD*",
                       "*_API_KEY", "AWS_*", "GOOGLE_APPLICATION_CREDENTIALS",
                       "AZURE_*", "SSH_AUTH_SOCK"]
  },
  // A cell of root is host root to the kernel's uid checks and trusted by
  // the Nix daemon: a root launcher runs it as another user (hostUser).
  // What runs code outside the cell later (git hooks, .envrc, ...) stays
  // read-only inside: "protect": ["@defaults"]. The Nix daemon's own
  // downloads pass no filter: a site policy that accepts them says so
  // ("nixDaemonEgress": "accept").
  "isolation": {"pidNamespace": true, "ipcNamespace": true,
                "capabilities": "none", "seccomp": true,
                "readOnlyRoot": true, "nonRootHostUser": true,
                "protectDefaults": true},
  "nixDaemonEgress": "fail"
})";

absl::Status ReadOptionalBool(const Json& object, absl::string_view prefix,
                              absl::string_view name,
                              std::optional<bool>* out) {
  if (FindField(object, name) == nullptr) return absl::OkStatus();
  bool value = false;
  CELL_RETURN_IF_ERROR(ReadBool(object, prefix, name, &value));
  *out = value;
  return absl::OkStatus();
}

// An object-valued section; `*section` is null when absent.
absl::Status Section(const Json& json, absl::string_view name,
                     const std::vector<absl::string_view>& known,
                     const Json** section) {
  *section = FindField(json, name);
  if (*section == nullptr) return absl::OkStatus();
  if (!(*section)->is_object()) return TypeError(name, "an object", **section);
  return CheckKnownFields(**section, name, known);
}

absl::StatusOr<Policy> PolicyFromJson(const Json& json) {
  if (!json.is_object()) return TypeError("(top level)", "an object", json);
  CELL_RETURN_IF_ERROR(CheckKnownFields(
      json, "",
      {"version", "name", "network", "mounts", "env", "isolation", "limits",
       "nixDaemonRequired", "nixDaemonEgress", "severity"}));
  const Json* version = FindField(json, "version");
  if (version == nullptr || !version->is_number_integer() ||
      version->get<int64_t>() != 1) {
    return FieldError("version", "is required and must be 1");
  }
  Policy policy;
  CELL_RETURN_IF_ERROR(ReadString(json, "", "name", &policy.name));

  const Json* network = nullptr;
  CELL_RETURN_IF_ERROR(Section(
      json, "network",
      {"mustAllow", "mustDeny", "forbidAllowAll", "forbidPrivateAddresses"},
      &network));
  if (network != nullptr) {
    CELL_RETURN_IF_ERROR(ReadStringList(*network, "network", "mustAllow",
                                        &policy.network.must_allow));
    CELL_RETURN_IF_ERROR(ReadStringList(*network, "network", "mustDeny",
                                        &policy.network.must_deny));
    CELL_RETURN_IF_ERROR(ReadBool(*network, "network", "forbidAllowAll",
                                  &policy.network.forbid_allow_all));
    CELL_RETURN_IF_ERROR(ReadBool(*network, "network", "forbidPrivateAddresses",
                                  &policy.network.forbid_private_addresses));
  }
  const Json* mounts = nullptr;
  CELL_RETURN_IF_ERROR(Section(
      json, "mounts",
      {"forbiddenSources", "writableSourcesUnder", "forbidWritableSystemDirs"},
      &mounts));
  if (mounts != nullptr) {
    CELL_RETURN_IF_ERROR(ReadStringList(*mounts, "mounts", "forbiddenSources",
                                        &policy.mounts.forbidden_sources));
    CELL_RETURN_IF_ERROR(ReadStringList(*mounts, "mounts",
                                        "writableSourcesUnder",
                                        &policy.mounts.writable_sources_under));
    CELL_RETURN_IF_ERROR(ReadBool(*mounts, "mounts", "forbidWritableSystemDirs",
                                  &policy.mounts.forbid_writable_system_dirs));
    for (const std::vector<std::string>* list :
         {&policy.mounts.forbidden_sources,
          &policy.mounts.writable_sources_under}) {
      for (const std::string& path : *list) {
        if (path.empty() ||
            (path.front() != '/' && path.rfind("~/", 0) != 0 && path != "~")) {
          return FieldError("mounts",
                            absl::StrCat("'", path,
                                         "' must be an absolute path or start "
                                         "with ~/"));
        }
      }
    }
  }
  const Json* env = nullptr;
  CELL_RETURN_IF_ERROR(Section(json, "env", {"forbiddenNames"}, &env));
  if (env != nullptr) {
    CELL_RETURN_IF_ERROR(ReadStringList(*env, "env", "forbiddenNames",
                                        &policy.env.forbidden_names));
  }
  const Json* isolation = nullptr;
  CELL_RETURN_IF_ERROR(
      Section(json, "isolation",
              {"pidNamespace", "ipcNamespace", "capabilities", "seccomp",
               "readOnlyRoot", "nonRootHostUser", "protectDefaults"},
              &isolation));
  if (isolation != nullptr) {
    CELL_RETURN_IF_ERROR(ReadOptionalBool(*isolation, "isolation",
                                          "pidNamespace",
                                          &policy.isolation.pid_namespace));
    CELL_RETURN_IF_ERROR(ReadOptionalBool(*isolation, "isolation",
                                          "ipcNamespace",
                                          &policy.isolation.ipc_namespace));
    CELL_RETURN_IF_ERROR(ReadOptionalBool(*isolation, "isolation", "seccomp",
                                          &policy.isolation.seccomp));
    CELL_RETURN_IF_ERROR(ReadOptionalBool(*isolation, "isolation",
                                          "readOnlyRoot",
                                          &policy.isolation.read_only_root));
    CELL_RETURN_IF_ERROR(
        ReadOptionalBool(*isolation, "isolation", "nonRootHostUser",
                         &policy.isolation.non_root_host_user));
    CELL_RETURN_IF_ERROR(ReadOptionalBool(*isolation, "isolation",
                                          "protectDefaults",
                                          &policy.isolation.protect_defaults));
    if (FindField(*isolation, "capabilities") != nullptr) {
      Capabilities capabilities = Capabilities::kAll;
      CELL_RETURN_IF_ERROR(ReadEnum(*isolation, "isolation", "capabilities",
                                    kCapabilities, &capabilities));
      policy.isolation.capabilities = capabilities;
    }
  }
  const Json* limits = nullptr;
  CELL_RETURN_IF_ERROR(Section(json, "limits", {"required"}, &limits));
  if (limits != nullptr) {
    CELL_RETURN_IF_ERROR(
        ReadStringList(*limits, "limits", "required", &policy.limits.required));
    for (size_t i = 0; i < policy.limits.required.size(); ++i) {
      const std::string& name = policy.limits.required[i];
      const auto& rlimits = RlimitResources();
      if (name != "memoryMax" && name != "pidsMax" &&
          std::none_of(
              rlimits.begin(), rlimits.end(),
              [&name](const auto& entry) { return entry.first == name; })) {
        return FieldError(
            absl::StrCat("limits.required[", i, "]"),
            absl::StrCat("'", name,
                         "' is not a limit; expected memoryMax, pidsMax or an "
                         "rlimit name such as nofile or nproc"));
      }
    }
  }
  CELL_RETURN_IF_ERROR(
      ReadBool(json, "", "nixDaemonRequired", &policy.nix_daemon_required));
  static const auto* const kDaemonEgress =
      new std::vector<std::pair<absl::string_view, Policy::DaemonEgress>>{
          {"accept", Policy::DaemonEgress::kAccept},
          {"warn", Policy::DaemonEgress::kWarn},
          {"fail", Policy::DaemonEgress::kFail}};
  CELL_RETURN_IF_ERROR(ReadEnum(json, "", "nixDaemonEgress", *kDaemonEgress,
                                &policy.nix_daemon_egress));

  const Json* severity = FindField(json, "severity");
  if (severity != nullptr) {
    if (!severity->is_object()) {
      return TypeError("severity",
                       "an object of property: \"fail\"|\"warn\"|"
                       "\"off\"",
                       *severity);
    }
    std::vector<absl::string_view> ids(PropertyIds().begin(),
                                       PropertyIds().end());
    CELL_RETURN_IF_ERROR(CheckKnownFields(*severity, "severity", ids));
    for (const auto& item : severity->items()) {
      Severity value = Severity::kFail;
      CELL_RETURN_IF_ERROR(
          ReadEnum(*severity, "severity", item.key(), kSeverities, &value));
      policy.severity[item.key()] = value;
    }
  }
  return policy;
}

}  // namespace

const std::vector<std::string>& SystemDirectories() {
  static const auto* const kDirs = new std::vector<std::string>{
      "/usr",    "/bin", "/sbin", "/lib", "/lib32",   "/lib64",
      "/libx32", "/etc", "/boot", "/opt", "/var/lib", "/var/cache"};
  return *kDirs;
}

const std::vector<std::string>& PropertyIds() {
  static const auto* ids = [] {
    auto* list = new std::vector<std::string>;
    for (const PropertyDef& property : Properties()) {
      list->push_back(property.id);
    }
    return list;
  }();
  return *ids;
}

absl::StatusOr<Policy> ParsePolicy(absl::string_view text,
                                   absl::string_view source) {
  CELL_ASSIGN_OR_RETURN(Json json, ParseJsonText(text, source));
  absl::StatusOr<Policy> policy = PolicyFromJson(json);
  if (!policy.ok()) {
    return absl::Status(policy.status().code(),
                        absl::StrCat(source, ": ", policy.status().message()));
  }
  if (policy->name.empty()) policy->name = std::string(source);
  return policy;
}

const std::vector<std::string>& BuiltinProfileNames() {
  static const auto* names =
      new std::vector<std::string>{"documented", "agent-strict"};
  return *names;
}

absl::StatusOr<Policy> BuiltinProfile(absl::string_view name) {
  if (name == "documented") return ParsePolicy(kDocumentedProfile, name);
  if (name == "agent-strict") return ParsePolicy(kAgentStrictProfile, name);
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown profile '", name, "'; expected documented or agent-strict"));
}

Severity SeverityOf(const Policy& policy, absl::string_view property) {
  const auto it = policy.severity.find(std::string(property));
  return it == policy.severity.end() ? Severity::kFail : it->second;
}

absl::string_view SeverityName(Severity severity) {
  return EnumName(kSeverities, severity);
}

}  // namespace cell::policy
