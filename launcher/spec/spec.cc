#include "launcher/spec/spec.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/fs_util.h"
#include "base/host_path.h"
#include "base/json_fields.h"
#include "base/json_text.h"
#include "base/status_macros.h"
#include "launcher/proxy/filter.h"

namespace cell {
namespace {

using Json = nlohmann::json;

const std::vector<std::pair<absl::string_view, MountType>>& MountTypes() {
  static const auto* types =
      new std::vector<std::pair<absl::string_view, MountType>>{
          {"ro-bind", MountType::kRoBind},
          {"bind", MountType::kBind},
          {"tmpfs", MountType::kTmpfs},
          {"dir", MountType::kDir},
          {"symlink", MountType::kSymlink}};
  return *types;
}

const std::vector<std::pair<absl::string_view, NetworkMode>> kNetworkModes = {
    {"proxy", NetworkMode::kProxy}, {"none", NetworkMode::kNone}};
const std::vector<std::pair<absl::string_view, EngineKind>> kEngines = {
    {"tinyproxy", EngineKind::kTinyproxy}, {"builtin", EngineKind::kBuiltin}};
const std::vector<std::pair<absl::string_view, Capabilities>> kCapabilities = {
    {"all", Capabilities::kAll}, {"none", Capabilities::kNone}};

// "/a/./b//c" -> "/a/b/c"; `..` anywhere is an error because a destination
// must name exactly one place inside the cell.
absl::StatusOr<std::string> NormalizeCellPath(absl::string_view field,
                                              absl::string_view path) {
  if (path.empty() || path.front() != '/') {
    return FieldError(field, absl::StrCat("'", path,
                                          "' must be an absolute path inside "
                                          "the cell, e.g. /opt/tools"));
  }
  std::vector<absl::string_view> parts;
  for (absl::string_view part : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    if (part == ".") continue;
    if (part == "..") {
      return FieldError(field, absl::StrCat("'", path,
                                            "' contains `..`; name the "
                                            "destination without it"));
    }
    parts.push_back(part);
  }
  return absl::StrCat("/", absl::StrJoin(parts, "/"));
}

// Destinations the launcher mounts itself (before the spec's `mounts`).
std::vector<std::string> BaseDestinations(const CellSpec& spec) {
  std::vector<std::string> base = {std::string(kCellHome),
                                   std::string(kCellWorktree),
                                   "/tmp",
                                   "/proc",
                                   "/dev",
                                   "/etc/passwd",
                                   "/etc/group",
                                   "/etc/hosts"};
  if (spec.log_dir.has_value()) base.emplace_back(kCellLogDir);
  if (spec.tls_roots.has_value()) base.emplace_back(kCellTlsRoots);
  if (spec.nix) {
    base.emplace_back(kCellNixStore);
    base.emplace_back(kCellNixDaemonDir);
  }
  return base;
}

// Every error of a spec, so that one check shows them all.
class SpecErrors {
 public:
  void Add(absl::Status status) {
    if (!status.ok()) errors_.push_back(std::move(status));
  }
  bool empty() const { return errors_.empty(); }
  // One line per error, with the first error's code.
  absl::Status Combined() const {
    std::vector<absl::string_view> lines;
    for (const absl::Status& error : errors_) lines.push_back(error.message());
    return absl::Status(errors_.front().code(), absl::StrJoin(lines, "\n"));
  }

 private:
  std::vector<absl::Status> errors_;
};

absl::Status ReadMount(const Json& item, const std::string& prefix,
                       CellSpec* spec);

// `indices`: each read mount's index in the spec's list, for errors.
absl::Status ReadMounts(const Json& object, CellSpec* spec,
                        std::vector<size_t>* indices, SpecErrors* errors) {
  const Json* value = FindField(object, "mounts");
  if (value == nullptr) return absl::OkStatus();
  if (!value->is_array())
    return TypeError("mounts", "a list of mounts", *value);
  for (size_t i = 0; i < value->size(); ++i) {
    const size_t before = spec->mounts.size();
    errors->Add(ReadMount((*value)[i], absl::StrCat("mounts[", i, "]"), spec));
    if (spec->mounts.size() > before) indices->push_back(i);
  }
  return absl::OkStatus();
}

// One entry of `mounts`, appended to spec->mounts when valid.
absl::Status ReadMount(const Json& item, const std::string& prefix,
                       CellSpec* spec) {
  {
    if (!item.is_object()) {
      return TypeError(prefix,
                       "an object like {\"type\": \"ro-bind\", "
                       "\"src\": ..., \"dst\": ...}",
                       item);
    }
    CELL_RETURN_IF_ERROR(
        CheckKnownFields(item, prefix, {"type", "src", "dst", "optional"}));
    if (FindField(item, "type") == nullptr) {
      return FieldError(FieldName(prefix, "type"), "is required");
    }
    MountSpec mount;
    CELL_RETURN_IF_ERROR(
        ReadEnum(item, prefix, "type", MountTypes(), &mount.type));
    CELL_RETURN_IF_ERROR(ReadString(item, prefix, "src", &mount.src));
    CELL_RETURN_IF_ERROR(ReadString(item, prefix, "dst", &mount.dst));
    CELL_RETURN_IF_ERROR(ReadBool(item, prefix, "optional", &mount.optional));
    const bool needs_src = mount.type == MountType::kRoBind ||
                           mount.type == MountType::kBind ||
                           mount.type == MountType::kSymlink;
    if (needs_src && mount.src.empty()) {
      return FieldError(FieldName(prefix, "src"),
                        absl::StrCat("is required for type \"",
                                     MountTypeName(mount.type), "\""));
    }
    if (!needs_src && !mount.src.empty()) {
      return FieldError(FieldName(prefix, "src"),
                        absl::StrCat("is not allowed for type \"",
                                     MountTypeName(mount.type), "\""));
    }
    if (mount.dst.empty()) {
      // "ro-bind /usr" is commonly meant as "the same path inside".
      if (!needs_src || mount.type == MountType::kSymlink ||
          mount.src.front() != '/') {
        return FieldError(FieldName(prefix, "dst"), "is required");
      }
      mount.dst = mount.src;
    }
    CELL_ASSIGN_OR_RETURN(
        mount.dst, NormalizeCellPath(FieldName(prefix, "dst"), mount.dst));
    if (mount.dst == "/") {
      return FieldError(FieldName(prefix, "dst"),
                        "cannot replace the cell's root");
    }
    spec->mounts.push_back(std::move(mount));
  }
  return absl::OkStatus();
}

// One mount's destination against the launcher's own and the earlier
// mounts' (`seen`).
absl::Status CheckMountDestination(const MountSpec& mount,
                                   const std::string& field,
                                   const std::vector<std::string>& base,
                                   std::set<std::string>* seen) {
  const std::string& dst = mount.dst;
  // The kernel's own trees in the cell take no mount of the spec's:
  // under /proc one would pass for part of the cell's own /proc.
  for (const char* kernel : {"/proc", "/sys"}) {
    if (PathIsSameOrUnder(dst, kernel)) {
      return FieldError(field, absl::StrCat("'", dst, "' is under ", kernel,
                                            ", which only the launcher "
                                            "mounts; choose another path"));
    }
  }
  if (!seen->insert(dst).second) {
    return FieldError(field, absl::StrCat("'", dst,
                                          "' is already the destination of "
                                          "an earlier mount"));
  }
  // A persistent home: a read-write bind replaces the launcher's tmpfs at
  // /home/cell (the worktree and logDir are mounted inside it).
  if (dst == kCellHome) {
    if (mount.type == MountType::kBind) return absl::OkStatus();
    return FieldError(field,
                      "only a read-write bind (\"type\": \"bind\") may "
                      "replace the cell's home /home/cell, e.g. "
                      "--bind=$HOME/.local/share/cell/home:/home/cell");
  }
  for (const std::string& fixed : base) {
    if (dst == fixed) {
      return FieldError(field, absl::StrCat("'", dst,
                                            "' is mounted by the launcher "
                                            "itself; choose another path"));
    }
    if (PathIsSameOrUnder(fixed, dst)) {
      return FieldError(field, absl::StrCat("'", dst, "' would hide '", fixed,
                                            "', which the launcher mounts; "
                                            "choose a path that does not "
                                            "contain it"));
    }
  }
  return absl::OkStatus();
}

void CheckMountDestinations(const CellSpec& spec,
                            const std::vector<size_t>& indices,
                            SpecErrors* errors) {
  const std::vector<std::string> base = BaseDestinations(spec);
  std::set<std::string> seen;
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    errors->Add(CheckMountDestination(
        spec.mounts[i], absl::StrCat("mounts[", indices[i], "].dst"), base,
        &seen));
  }
}

bool IsValidEnvName(absl::string_view name) {
  if (name.empty() || absl::ascii_isdigit(name.front())) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return absl::ascii_isalnum(c) || c == '_'; });
}

absl::Status ReadEnv(const Json& object, CellSpec* spec) {
  const Json* value = FindField(object, "env");
  if (value == nullptr) return absl::OkStatus();
  if (!value->is_object()) {
    return TypeError("env", "an object of NAME: \"value\"", *value);
  }
  for (const auto& item : value->items()) {
    const std::string field = absl::StrCat("env.", item.key());
    if (!IsValidEnvName(item.key())) {
      return FieldError(field,
                        "is not a valid variable name (letters, digits, _; "
                        "not starting with a digit)");
    }
    const std::vector<std::string>& forced = ForcedEnvNames();
    if (std::find(forced.begin(), forced.end(), item.key()) != forced.end()) {
      return FieldError(field,
                        item.key() == "PATH"
                            ? "PATH is set from the spec's `path` field; set "
                              "that instead"
                            : "is set by the launcher and cannot be "
                              "overridden; remove it from `env`");
    }
    if (!item.value().is_string())
      return TypeError(field, "a string", item.value());
    CELL_RETURN_IF_ERROR(
        CheckText(field, item.value().get_ref<const std::string&>()));
    spec->env[item.key()] = item.value().get<std::string>();
  }
  return absl::OkStatus();
}

absl::Status ReadNetwork(const Json& object, CellSpec* spec) {
  const Json* value = FindField(object, "network");
  if (value == nullptr) return absl::OkStatus();
  if (!value->is_object()) return TypeError("network", "an object", *value);
  CELL_RETURN_IF_ERROR(
      CheckKnownFields(*value, "network", {"mode", "engine", "port"}));
  CELL_RETURN_IF_ERROR(
      ReadEnum(*value, "network", "mode", kNetworkModes, &spec->network.mode));
  CELL_RETURN_IF_ERROR(
      ReadEnum(*value, "network", "engine", kEngines, &spec->network.engine));
  if (const Json* port = FindField(*value, "port"); port != nullptr) {
    if (!port->is_number_integer() || port->get<int64_t>() < 1 ||
        port->get<int64_t>() > 65535) {
      return FieldError(
          "network.port",
          absl::StrCat("expected a port number 1-65535, got ", port->dump()));
    }
    spec->network.port = port->get<int>();
  }
  return absl::OkStatus();
}

absl::Status ReadIsolation(const Json& object, CellSpec* spec) {
  const Json* value = FindField(object, "isolation");
  if (value == nullptr) return absl::OkStatus();
  if (!value->is_object()) return TypeError("isolation", "an object", *value);
  CELL_RETURN_IF_ERROR(
      CheckKnownFields(*value, "isolation",
                       {"pidNamespace", "ipcNamespace", "capabilities",
                        "seccomp", "readOnlyRoot"}));
  CELL_RETURN_IF_ERROR(
      ReadBool(*value, "isolation", "seccomp", &spec->isolation.seccomp));
  CELL_RETURN_IF_ERROR(ReadBool(*value, "isolation", "readOnlyRoot",
                                &spec->isolation.read_only_root));
  CELL_RETURN_IF_ERROR(ReadBool(*value, "isolation", "pidNamespace",
                                &spec->isolation.pid_namespace));
  CELL_RETURN_IF_ERROR(ReadBool(*value, "isolation", "ipcNamespace",
                                &spec->isolation.ipc_namespace));
  return ReadEnum(*value, "isolation", "capabilities", kCapabilities,
                  &spec->isolation.capabilities);
}

// A non-negative integer field, or null (leaves `*out` unset).
// A count at `name`; for bytes, also a size string as the CLI takes it
// ("512M"), so that a spec and a flag read alike.
absl::Status ReadCount(const Json& object, absl::string_view prefix,
                       absl::string_view name, uint64_t minimum,
                       absl::string_view unit, std::optional<uint64_t>* out) {
  const Json* value = FindField(object, name);
  if (value == nullptr || value->is_null()) return absl::OkStatus();
  const std::string field = FieldName(prefix, name);
  const bool bytes = unit == "bytes";
  std::optional<uint64_t> parsed;
  if (value->is_number_integer() && value->get<int64_t>() >= 0) {
    parsed = value->get<uint64_t>();
  } else if (bytes && value->is_string()) {
    parsed = ParseByteSize(value->get<std::string>());
  }
  if (!parsed.has_value()) {
    return TypeError(
        field,
        bytes ? "a whole number of bytes, or a size such as \"512M\" "
                "(suffixes K, M, G, T)"
              : absl::StrCat("a whole number of ", unit),
        *value);
  }
  const uint64_t count = *parsed;
  if (count < minimum) {
    return FieldError(field, absl::StrCat(count, " is below the minimum of ",
                                          minimum, " ", unit));
  }
  *out = count;
  return absl::OkStatus();
}

absl::Status ReadLimits(const Json& object, CellSpec* spec) {
  const Json* value = FindField(object, "limits");
  if (value == nullptr) return absl::OkStatus();
  if (!value->is_object()) return TypeError("limits", "an object", *value);
  CELL_RETURN_IF_ERROR(
      CheckKnownFields(*value, "limits", {"rlimits", "memoryMax", "pidsMax"}));
  CELL_RETURN_IF_ERROR(ReadCount(*value, "limits", "memoryMax", kMinMemoryMax,
                                 "bytes", &spec->limits.memory_max));
  CELL_RETURN_IF_ERROR(ReadCount(*value, "limits", "pidsMax", 1, "tasks",
                                 &spec->limits.pids_max));
  const Json* rlimits = FindField(*value, "rlimits");
  if (rlimits == nullptr) return absl::OkStatus();
  if (!rlimits->is_object()) {
    return TypeError("limits.rlimits", "an object like {\"nofile\": 1024}",
                     *rlimits);
  }
  std::vector<absl::string_view> names;
  for (const auto& [name, resource] : RlimitResources()) {
    names.push_back(name);
  }
  CELL_RETURN_IF_ERROR(CheckKnownFields(*rlimits, "limits.rlimits", names));
  for (const auto& item : rlimits->items()) {
    std::optional<uint64_t> limit;
    CELL_RETURN_IF_ERROR(
        ReadCount(*rlimits, "limits.rlimits", item.key(), 0, "units", &limit));
    if (limit.has_value()) spec->limits.rlimits[item.key()] = *limit;
  }
  return absl::OkStatus();
}

}  // namespace

const std::vector<std::string>& ForcedEnvNames() {
  static const auto* names = new std::vector<std::string>{
      "HOME",       "USER",        "PATH",       "NIX_CONFIG",
      "NIX_REMOTE", "NIX_PATH",    "http_proxy", "https_proxy",
      "HTTP_PROXY", "HTTPS_PROXY", "no_proxy",   "NO_PROXY"};
  return *names;
}

std::optional<uint64_t> ParseByteSize(absl::string_view text) {
  uint64_t scale = 1;
  if (!text.empty()) {
    const char suffix = absl::ascii_toupper(text.back());
    const absl::string_view suffixes = "KMGT";
    if (const size_t at = suffixes.find(suffix);
        at != absl::string_view::npos) {
      scale = uint64_t{1} << (10 * (at + 1));
      text.remove_suffix(1);
    }
  }
  uint64_t value = 0;
  if (text.empty() ||
      text.find_first_not_of("0123456789") != absl::string_view::npos ||
      !absl::SimpleAtoi(text, &value) || value > (uint64_t{1} << 62) / scale) {
    return std::nullopt;
  }
  return value * scale;
}

const std::vector<std::pair<absl::string_view, int>>& RlimitResources() {
  static const auto* resources =
      new std::vector<std::pair<absl::string_view, int>>{
          {"as", RLIMIT_AS},           {"core", RLIMIT_CORE},
          {"cpu", RLIMIT_CPU},         {"data", RLIMIT_DATA},
          {"fsize", RLIMIT_FSIZE},     {"locks", RLIMIT_LOCKS},
          {"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE},
          {"nofile", RLIMIT_NOFILE},   {"nproc", RLIMIT_NPROC},
          {"rss", RLIMIT_RSS},         {"sigpending", RLIMIT_SIGPENDING},
          {"stack", RLIMIT_STACK}};
  return *resources;
}

absl::string_view MountTypeName(MountType type) {
  return EnumName(MountTypes(), type);
}

const std::vector<std::string>& DefaultProtectedPaths() {
  // Each runs code, or decides what runs, outside the cell later: git's
  // hooks and config (core.fsmonitor, aliases, filters), submodule URLs,
  // direnv, MCP servers, editor tasks, coding agents' own settings, shell
  // start-up files (when the worktree is a home directory).
  static const std::vector<std::string>* const kDefaults =
      new std::vector<std::string>{
          // git: hooks, and every file it reads config from (commondir
          // and worktrees redirect to another config; modules hold
          // submodules' own), hooks elsewhere (husky's core.hooksPath).
          ".git/hooks/", ".git/config", ".git/commondir",
          ".git/config.worktree", ".git/worktrees/", ".git/modules/",
          ".gitmodules", ".gitconfig", ".husky/",
          // The worktree's root read as a bare repository: git falls back
          // to it when .git is broken (attacker round 6: a cell broke
          // .git/HEAD and wrote config, objects/ and refs/ at the root). A
          // HEAD it cannot write (an empty placeholder when missing, which
          // git refuses) keeps the root from ever being one.
          "HEAD",
          // Environments and tools that run what a file says.
          ".envrc", ".mcp.json", ".devcontainer/",
          // Editors' and coding agents' settings (tasks, MCP servers).
          ".vscode/", ".idea/", ".zed/", ".cursor/", ".claude/", ".codex/",
          ".gemini/", ".continue/", ".windsurf/",
          // More agents' project settings, which can start MCP or
          // language servers (attacker round 7).
          ".opencode/", "opencode.json", ".crush.json", ".aider.conf.yml",
          ".amazonq/", ".roo/", ".kiro/", ".qwen/",
          // Shell start-up files, when the worktree is a home directory.
          ".bashrc", ".bash_profile", ".bash_login", ".profile", ".zshrc",
          ".zprofile", ".zshenv", ".zlogin"};
  return *kDefaults;
}

namespace {

// `protect`: worktree-relative paths, "@defaults" expanded.
absl::Status ReadProtect(const Json& json, CellSpec* spec) {
  std::vector<std::string> entries;
  CELL_RETURN_IF_ERROR(ReadStringList(json, "", "protect", &entries));
  for (size_t i = 0; i < entries.size(); ++i) {
    const std::string& entry = entries[i];
    if (entry == "@defaults") {
      for (const std::string& path : DefaultProtectedPaths()) {
        if (std::find(spec->protect.begin(), spec->protect.end(), path) ==
            spec->protect.end()) {
          spec->protect.push_back(path);
        }
      }
      continue;
    }
    const absl::string_view body = absl::StripSuffix(entry, "/");
    bool valid = !body.empty() && body.front() != '/';
    for (absl::string_view part : absl::StrSplit(body, '/')) {
      valid = valid && !part.empty() && part != "." && part != "..";
    }
    if (!valid) {
      return FieldError(absl::StrCat("protect[", i, "]"),
                        absl::StrCat("'", entry,
                                     "' must be a path inside the worktree "
                                     "(relative, no `.` or `..`), or "
                                     "\"@defaults\""));
    }
    if (std::find(spec->protect.begin(), spec->protect.end(), entry) ==
        spec->protect.end()) {
      spec->protect.push_back(entry);
    }
  }
  return absl::OkStatus();
}

// `presets`: a name or a list of names, each known (PresetNames()).
absl::Status ReadPresets(const Json& json, CellSpec* spec) {
  const Json* value = FindField(json, "presets");
  if (value == nullptr) return absl::OkStatus();
  std::vector<std::string> names;
  if (value->is_string()) {
    names.push_back(value->get<std::string>());
  } else {
    CELL_RETURN_IF_ERROR(ReadStringList(json, "", "presets", &names));
  }
  const std::vector<std::string>& known = PresetNames();
  for (size_t i = 0; i < names.size(); ++i) {
    if (std::find(known.begin(), known.end(), names[i]) == known.end()) {
      return FieldError(
          value->is_string() ? "presets" : absl::StrCat("presets[", i, "]"),
          absl::StrCat("unknown preset \"", names[i], "\"; the presets are ",
                       absl::StrJoin(known, ", "),
                       " (`cell help presets` lists what each binds)"));
    }
    if (std::find(spec->presets.begin(), spec->presets.end(), names[i]) ==
        spec->presets.end()) {
      spec->presets.push_back(names[i]);
    }
  }
  return absl::OkStatus();
}

absl::Status ReadVersion(const Json& json) {
  const Json* version = FindField(json, "version");
  if (version == nullptr) {
    return FieldError("version", "is required; this launcher reads version 1");
  }
  if (!version->is_number_integer() || version->get<int64_t>() != 1) {
    return FieldError("version", absl::StrCat("this launcher reads version 1, "
                                              "got ",
                                              version->dump()));
  }
  return absl::OkStatus();
}

absl::Status ReadCommand(const Json& json, CellSpec* spec) {
  CELL_RETURN_IF_ERROR(ReadStringList(json, "", "command", &spec->command));
  if (!spec->command.empty() && spec->command.front().empty()) {
    return FieldError("command[0]", "the program name must not be empty");
  }
  return absl::OkStatus();
}

absl::Status ReadWorktree(const Json& json, CellSpec* spec) {
  if (FindField(json, "worktreePath") == nullptr) {
    return FieldError("worktreePath",
                      "is required: the host directory bound read-write at "
                      "/home/cell/worktree (or pass --worktree=DIR)");
  }
  return ReadString(json, "", "worktreePath", &spec->worktree_path);
}

absl::Status ReadHostUser(const Json& json, CellSpec* spec) {
  CELL_RETURN_IF_ERROR(
      ReadNullableString(json, "", "hostUser", &spec->host_user));
  if (spec->host_user.has_value() &&
      (spec->host_user->empty() ||
       spec->host_user->find_first_of(":\n") != std::string::npos)) {
    return FieldError("hostUser",
                      "must be a user name or a decimal uid, e.g. \"agent\"");
  }
  return absl::OkStatus();
}

absl::Status ReadPath(const Json& json, CellSpec* spec) {
  if (FindField(json, "path") == nullptr) return absl::OkStatus();
  std::vector<std::string> path;
  CELL_RETURN_IF_ERROR(ReadStringList(json, "", "path", &path));
  for (size_t i = 0; i < path.size(); ++i) {
    const std::string field = absl::StrCat("path[", i, "]");
    if (path[i].empty() || path[i].front() != '/' ||
        path[i].find(':') != std::string::npos) {
      return FieldError(field, absl::StrCat("'", path[i],
                                            "' must be an absolute directory "
                                            "inside the cell without ':'"));
    }
  }
  spec->path = std::move(path);
  return absl::OkStatus();
}

}  // namespace

const std::vector<std::string>& PresetNames() {
  static const auto* names = new std::vector<std::string>{"host", "nix"};
  return *names;
}

const std::vector<std::string>& TlsRootsEnvNames() {
  static const auto* names = new std::vector<std::string>{
      "SSL_CERT_FILE",      "NIX_SSL_CERT_FILE", "CURL_CA_BUNDLE",
      "REQUESTS_CA_BUNDLE", "GIT_SSL_CAINFO",    "PIP_CERT",
      "NODE_EXTRA_CA_CERTS"};
  return *names;
}

absl::StatusOr<CellSpec> SpecFromJson(const Json& json) {
  if (!json.is_object()) return TypeError("(top level)", "an object", json);
  SpecErrors errors;
  errors.Add(CheckKnownFields(
      json, "",
      {"version", "command", "worktreePath", "tinyproxyFilter", "logDir",
       "nixDaemonSocket", "nixStore", "nix", "path", "mounts", "env", "network",
       "isolation", "limits", "hostUser", "protect", "presets", "tlsRoots"}));
  CellSpec spec;
  errors.Add(ReadVersion(json));
  errors.Add(ReadCommand(json, &spec));
  errors.Add(ReadWorktree(json, &spec));
  errors.Add(
      ReadNullableString(json, "", "tinyproxyFilter", &spec.tinyproxy_filter));
  errors.Add(ReadNullableString(json, "", "logDir", &spec.log_dir));
  errors.Add(ReadHostUser(json, &spec));
  errors.Add(ReadString(json, "", "nixDaemonSocket", &spec.nix_daemon_socket));
  errors.Add(ReadString(json, "", "nixStore", &spec.nix_store));
  errors.Add(ReadBool(json, "", "nix", &spec.nix));
  errors.Add(ReadPath(json, &spec));
  errors.Add(ReadPresets(json, &spec));
  errors.Add(ReadNullableString(json, "", "tlsRoots", &spec.tls_roots));
  if (spec.tls_roots.has_value() && spec.tls_roots->empty()) {
    errors.Add(FieldError("tlsRoots",
                          "must name a CA bundle file, or \"@host\" for the "
                          "host's own"));
  }
  errors.Add(ReadProtect(json, &spec));
  std::vector<size_t> mount_indices;
  errors.Add(ReadMounts(json, &spec, &mount_indices, &errors));
  errors.Add(ReadEnv(json, &spec));
  errors.Add(ReadNetwork(json, &spec));
  errors.Add(ReadIsolation(json, &spec));
  errors.Add(ReadLimits(json, &spec));
  CheckMountDestinations(spec, mount_indices, &errors);
  if (!errors.empty()) return errors.Combined();
  return spec;
}

absl::StatusOr<CellSpec> ParseSpec(absl::string_view text,
                                   absl::string_view source) {
  CELL_ASSIGN_OR_RETURN(Json json, ParseJsonText(text, source));
  absl::StatusOr<CellSpec> spec = SpecFromJson(json);
  if (!spec.ok()) return WithSource(spec.status(), source);
  return spec;
}

absl::Status WithSource(const absl::Status& status, absl::string_view source) {
  if (status.ok() || source.empty()) return status;
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(status.message(), '\n')) {
    lines.push_back(absl::StrCat(source, ": ", line));
  }
  return absl::Status(status.code(), absl::StrJoin(lines, "\n"));
}

Json SpecToJson(const CellSpec& spec) {
  Json json = Json::object();
  json["version"] = spec.version;
  json["command"] = spec.command;
  json["worktreePath"] = spec.worktree_path;
  json["tinyproxyFilter"] =
      spec.tinyproxy_filter.has_value() ? Json(*spec.tinyproxy_filter) : Json();
  json["logDir"] = spec.log_dir.has_value() ? Json(*spec.log_dir) : Json();
  // Empty once resolved: the presets' paths are then among `mounts`.
  json["presets"] = spec.presets;
  json["tlsRoots"] =
      spec.tls_roots.has_value() ? Json(*spec.tls_roots) : Json();
  json["hostUser"] =
      spec.host_user.has_value() ? Json(*spec.host_user) : Json();
  json["protect"] = spec.protect;
  json["nixDaemonSocket"] = spec.nix_daemon_socket;
  json["nixStore"] = spec.nix_store;
  json["nix"] = spec.nix;
  // Unset only before resolution (a packed spec): omitted, so that the
  // output parses again and the default is computed where the cell runs.
  if (spec.path.has_value()) json["path"] = *spec.path;
  json["mounts"] = Json::array();
  for (const MountSpec& mount : spec.mounts) {
    Json item = {{"type", MountTypeName(mount.type)},
                 {"dst", mount.dst},
                 {"optional", mount.optional}};
    if (!mount.src.empty()) item["src"] = mount.src;
    json["mounts"].push_back(std::move(item));
  }
  json["env"] = Json::object();
  for (const auto& [name, value] : spec.env) json["env"][name] = value;
  json["network"] = {{"mode", EnumName(kNetworkModes, spec.network.mode)},
                     {"engine", EnumName(kEngines, spec.network.engine)},
                     {"port", spec.network.port}};
  json["isolation"] = {
      {"pidNamespace", spec.isolation.pid_namespace},
      {"ipcNamespace", spec.isolation.ipc_namespace},
      {"capabilities", EnumName(kCapabilities, spec.isolation.capabilities)},
      {"seccomp", spec.isolation.seccomp},
      {"readOnlyRoot", spec.isolation.read_only_root}};
  Json rlimits = Json::object();
  for (const auto& [name, limit] : spec.limits.rlimits) rlimits[name] = limit;
  json["limits"] = {
      {"rlimits", std::move(rlimits)},
      {"memoryMax", spec.limits.memory_max.has_value()
                        ? Json(*spec.limits.memory_max)
                        : Json()},
      {"pidsMax", spec.limits.pids_max.has_value() ? Json(*spec.limits.pids_max)
                                                   : Json()}};
  return json;
}

}  // namespace cell
