#include "policy/host_checks.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/fs_util.h"
#include "base/host_path.h"

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

std::string WritableCellView(const CellSpec& spec, const std::string& path) {
  for (const auto& [source, destination] : WritableBinds(spec)) {
    if (source.empty() || !PathIsSameOrUnder(path, source)) continue;
    return source == "/"
               ? absl::StrCat(destination, path)
               : absl::StrCat(destination, path.substr(source.size()));
  }
  return "";
}

std::map<std::string, std::string> ControlPaths(
    const CellSpec& spec, const std::map<std::string, std::string>& control) {
  std::map<std::string, std::string> paths;
  if (spec.log_dir.has_value()) paths[std::string(kCellLogDir)] = "logDir";
  for (const std::string& entry : spec.protect) {
    std::string relative = entry;
    while (!relative.empty() && relative.back() == '/') relative.pop_back();
    if (relative.empty()) continue;
    paths[absl::StrCat(kCellWorktree, "/", relative)] =
        absl::StrCat("protect: ", entry);
  }
  for (const auto& [host_path, what] : control) {
    const std::string view = WritableCellView(spec, host_path);
    if (!view.empty()) paths[view] = absl::StrCat(what, " (", host_path, ")");
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
  // refuses or, worse, follows).
  std::vector<std::pair<std::string, std::string>> sources;
  if (spec.tinyproxy_filter.has_value()) {
    sources.emplace_back("tinyproxyFilter", *spec.tinyproxy_filter);
  }
  if (spec.log_dir.has_value()) sources.emplace_back("logDir", *spec.log_dir);
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    if (spec.mounts[i].src.empty()) continue;
    sources.emplace_back(absl::StrCat("mounts[", i, "].src"),
                         spec.mounts[i].src);
  }
  for (const auto& [field, path] : sources) {
    for (const auto& [source, destination] : WritableBinds(spec)) {
      if (source.empty() || path == source ||
          !PathIsSameOrUnder(path, source)) {
        continue;
      }
      problems.push_back(absl::StrCat(
          field, ": ", path, " lies inside the writable bind of ", source, " (",
          destination,
          " in the cell), which can change it before the next launch; move "
          "it out"));
      break;
    }
  }
  return problems;
}

}  // namespace cell::policy
