#include "policy/host_checks.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/fs_util.h"
#include "base/host_path.h"
#include "launcher/spec/protect.h"

namespace cell::policy {
namespace {

using Json = nlohmann::json;

// The read-write binds of `spec`: {host source, in-cell destination}.
std::vector<std::pair<std::string, std::string>> WritableBinds(
    const CellSpec& spec) {
  std::vector<std::pair<std::string, std::string>> binds = {
      {spec.worktree_path, std::string(kCellWorktree)}};
  for (const MountSpec& mount : spec.mounts) {
    if (mount.type != MountType::kBind) continue;
    binds.emplace_back(mount.src, mount.dst.empty() ? mount.src : mount.dst);
  }
  return binds;
}

// {field, path as written} for every host path of the raw spec.
std::vector<std::pair<std::string, std::string>> RawHostPaths(const Json& raw) {
  std::vector<std::pair<std::string, std::string>> paths;
  if (!raw.is_object()) return paths;
  for (const char* field : {"worktreePath", "tinyproxyFilter", "logDir",
                            "nixStore", "nixDaemonSocket"}) {
    const auto it = raw.find(field);
    if (it != raw.end() && it->is_string()) {
      paths.emplace_back(field, it->get<std::string>());
    }
  }
  const auto mounts = raw.find("mounts");
  if (mounts == raw.end() || !mounts->is_array()) return paths;
  for (size_t i = 0; i < mounts->size(); ++i) {
    const Json& mount = (*mounts)[i];
    if (!mount.is_object()) continue;
    const auto src = mount.find("src");
    if (src != mount.end() && src->is_string()) {
      paths.emplace_back(absl::StrCat("mounts[", i, "].src"),
                         src->get<std::string>());
    }
  }
  return paths;
}

}  // namespace

std::vector<std::string> WritableCellViews(const CellSpec& spec,
                                           const std::string& path) {
  std::vector<std::string> views;
  for (const auto& [source, destination] : WritableBinds(spec)) {
    if (source.empty()) continue;
    // By identity: another name for the directory (a host bind mount) or
    // a bind of the file itself is a view as much as its parent's bind.
    const std::optional<std::string> rest = PathUnderByIdentity(path, source);
    if (rest.has_value()) views.push_back(absl::StrCat(destination, *rest));
  }
  return views;
}

std::map<std::string, std::string> ProtectedHostPaths(const CellSpec& spec) {
  // What the launcher protects: the spec's paths and what they imply (git's
  // hooksPath and includes, symlink targets). Where it refuses the spec
  // instead, the launch fails and says why.
  std::vector<std::string> protect = spec.protect;
  if (absl::StatusOr<std::vector<ProtectEntry>> entries =
          ProtectedEntries(spec);
      entries.ok()) {
    protect.clear();
    for (const ProtectEntry& entry : *entries) protect.push_back(entry.entry);
  }
  std::map<std::string, std::string> paths;
  for (const std::string& entry : protect) {
    std::string relative = entry;
    while (!relative.empty() && relative.back() == '/') relative.pop_back();
    if (relative.empty()) continue;
    paths[absl::StrCat(spec.worktree_path, "/", relative)] =
        absl::StrCat("protect: ", entry);
  }
  return paths;
}

std::map<std::string, std::string> ControlPaths(
    const CellSpec& spec, const std::map<std::string, std::string>& control) {
  std::map<std::string, std::string> paths;
  std::map<std::string, std::string> all = control;
  if (spec.log_dir.has_value()) {
    paths[std::string(kCellLogDir)] = "logDir";
    all[*spec.log_dir] = "logDir";
  }
  for (const auto& [path, what] : ProtectedHostPaths(spec)) all[path] = what;
  // Every read-write view of each: the worktree's, a parent's bind, a bind
  // of the path itself.
  for (const auto& [host_path, what] : all) {
    for (const std::string& view : WritableCellViews(spec, host_path)) {
      paths[view] = absl::StrCat(what, " (", host_path, ")");
    }
  }
  return paths;
}

std::vector<std::string> HostPathProblems(const Json& raw,
                                          const CellSpec& spec) {
  std::vector<std::string> problems;
  for (const auto& [field, path] : RawHostPaths(raw)) {
    // The launcher's own rule, applied again from outside: only root's
    // links directly in / are followed.
    absl::StatusOr<std::string> resolved = ResolveTrustedPathFromCwd(path);
    if (!resolved.ok() &&
        absl::StrContains(resolved.status().message(), "symlink")) {
      problems.push_back(
          absl::StrCat(field, ": ", resolved.status().message()));
    }
  }
  // What a writable bind shows, the cell can replace before the next
  // launch (its content, or the path with a symlink, which the next launch
  // refuses or, worse, follows). A bind's own source is not "inside" it;
  // anything else equal to or under a writable bind, by identity, is.
  struct Source {
    std::string field;
    std::string path;
    std::string own_destination;  // The bind it is the source of, if any.
  };
  std::vector<Source> sources;
  if (spec.tinyproxy_filter.has_value()) {
    sources.push_back({"tinyproxyFilter", *spec.tinyproxy_filter, ""});
  }
  if (spec.log_dir.has_value()) {
    sources.push_back({"logDir", *spec.log_dir, ""});
  }
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    const MountSpec& mount = spec.mounts[i];
    if (mount.src.empty()) continue;
    sources.push_back({absl::StrCat("mounts[", i, "].src"), mount.src,
                       mount.type == MountType::kBind
                           ? (mount.dst.empty() ? mount.src : mount.dst)
                           : ""});
  }
  for (const Source& source : sources) {
    for (const auto& [bind, destination] : WritableBinds(spec)) {
      if (bind.empty() || destination == source.own_destination ||
          !PathUnderByIdentity(source.path, bind).has_value()) {
        continue;
      }
      problems.push_back(absl::StrCat(
          source.field, ": ", source.path, " lies inside the writable bind of ",
          bind, " (", destination,
          " in the cell), which can change it before the next launch; move "
          "it out"));
      break;
    }
  }
  return problems;
}

}  // namespace cell::policy
