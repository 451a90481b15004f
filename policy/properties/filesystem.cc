// What of the host's files a cell sees and may change.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "policy/properties/facts.h"
#include "policy/properties/property.h"

namespace cell::policy {
namespace {

using Json = nlohmann::json;

Verdict OnlyExplicitBinds(const CellSpec& spec, const Observation& o) {
  const Json visible = At(o, "mounts", {"hostPathsVisible"});
  std::vector<std::string> leaked;
  if (visible.is_object()) {
    for (const auto& [path, seen] : visible.items()) {
      if (seen != true || BoundBySpec(spec, path)) continue;
      leaked.push_back(path);
    }
  }
  return {
      visible.is_object(), leaked.empty(), "no host path visible unless bound",
      leaked.empty() ? "none visible"
                     : absl::StrCat("visible: ", absl::StrJoin(leaked, ", ")),
      "host paths are visible that the spec does not bind"};
}

Verdict RootReadOnly(const CellSpec& spec, const Observation& o) {
  const Json writable = At(o, "fs", {"root", "writable"});
  const bool want_read_only = spec.isolation.read_only_root;
  return {
      !writable.is_null(),
      want_read_only ? writable == false : writable == true,
      want_read_only ? "/ read-only (EROFS)" : "/ writable (a private tmpfs)",
      writable == true
          ? (want_read_only ? "writable" : "a writable tmpfs, as the spec says")
          : absl::StrCat(want_read_only ? "read-only, as the spec says: " : "",
                         Show(At(o, "fs", {"root", "error"}))),
      "the root's mode does not match isolation.readOnlyRoot"};
}

Verdict WorktreeWritable(const CellSpec&, const Observation& o) {
  const Json writable = At(o, "fs", {"worktree", "writable"});
  return {
      !writable.is_null(), writable == true, "writable at /home/cell/worktree",
      writable == true ? "writable" : Show(At(o, "fs", {"worktree", "error"})),
      "the worktree cannot be written"};
}

// What controls the next launch, and what the user's tools run later: the
// probe tried to write each (an open for writing; a file made and removed
// in a directory).
Verdict ControlFiles(const CellSpec&, const Observation& o) {
  const Json writes = At(o, "fs", {"controlWrites"});
  const Json renames = At(o, "fs", {"controlRenames"});
  std::vector<std::string> landed;
  for (const auto& [path, what] : o.control_paths) {
    const auto result = writes.is_object() ? writes.find(path) : writes.end();
    if (writes.is_object() && result != writes.end() && *result == "ok") {
      landed.push_back(absl::StrCat(what, " at ", path));
    }
  }
  // A protected path, or a directory on the way to it, renamed away (and
  // so replaceable).
  if (renames.is_object()) {
    for (const auto& [path, result] : renames.items()) {
      if (result.is_string() &&
          absl::StartsWith(result.get<std::string>(), "ok")) {
        landed.push_back(absl::StrCat(path, " can be renamed away (",
                                      result.get<std::string>(), ")"));
      }
    }
  }
  return {writes.is_object() && renames.is_object(), landed.empty(),
          "logDir, every protect path, and the spec, filter and cell binary "
          "where a writable bind shows them: all refuse writes; no protect "
          "path, nor a directory on its way, can be renamed away",
          landed.empty()
              ? absl::StrCat(o.control_paths.size(), " paths, none writable")
              : absl::StrCat("writable: ", absl::StrJoin(landed, "; ")),
          "the cell can change what the next launch or the user's tools "
          "trust; protect the path (`protect`), or move the file out of the "
          "writable binds"};
}

// Sources as the spec names them: a symlink a cell made redirects a bind
// (or the filter, or the log) at the next launch; one inside a writable
// bind can be swapped by the cell. And the worktree the cell got must be
// the directory the spec names.
Verdict BindSources(const CellSpec&, const Observation& o) {
  std::vector<std::string> problems = o.host_path_problems;
  const Json inside = At(o, "fs", {"worktreeId"});
  if (!o.host_worktree_id.empty() && inside.is_string() &&
      inside != o.host_worktree_id) {
    problems.push_back(absl::StrCat(
        "the cell's worktree is ", inside.get<std::string>(),
        ", not the directory the spec names (", o.host_worktree_id, ")"));
  }
  return {inside.is_string(), problems.empty(),
          "no host path reached through a symlink or inside a writable "
          "bind; the worktree is the one named",
          problems.empty() ? "none" : absl::StrJoin(problems, "; "),
          "a bind source can be redirected; name real paths (realpath) "
          "outside the cell's writable binds"};
}

// Credentials an agent could read: files by name anywhere the cell sees
// (~/.ssh keys, .aws, .netrc, .git-credentials, .docker, .kube, gh, Nix's
// netrc, gcloud, /run/secrets), and secret-looking variables of its
// processes. What the spec itself puts there (a mount at that path, a
// variable in `env`) is declared: env-policy and mount-policy judge those.
Verdict Secrets(const CellSpec& spec, const Observation& o) {
  if (std::string why; !WalkComplete(o, &why)) {
    return {false, false, "a complete walk of the cell", why, ""};
  }
  const Json files = At(o, "reach", {"secretFiles"});
  const Json variables = At(o, "reach", {"secretVariables"});
  std::vector<std::string> found;
  if (files.is_array()) {
    for (const Json& file : files) {
      if (!file.is_string()) continue;
      const std::string path = file.get<std::string>();
      const bool declared = std::any_of(
          spec.mounts.begin(), spec.mounts.end(),
          [&path](const MountSpec& mount) { return mount.dst == path; });
      if (!declared) found.push_back(path);
    }
  }
  if (variables.is_array()) {
    for (const Json& variable : variables) {
      if (!variable.is_string() ||
          spec.env.count(variable.get<std::string>()) > 0) {
        continue;
      }
      found.push_back(absl::StrCat("$", variable.get<std::string>()));
    }
  }
  return {files.is_array() && variables.is_array(), found.empty(),
          "no credential file or secret-looking variable the spec did not "
          "put there",
          found.empty()
              ? "none found"
              : absl::StrCat("reachable: ", absl::StrJoin(found, ", ")),
          "credentials are within the agent's reach; move them out of the "
          "worktree and the binds"};
}

// Every mount of the cell: nosuid (a set-uid file in a bind, or one the
// agent writes, must not run with another uid), nodev unless it is a device
// node bound over a file or the cell's own devpts (a device node made or
// found in a bind must not open the host's disk), and private: a mount
// that receives the host's mount events (master) or shares them (shared)
// shows what the host mounts later beneath a bind's source.
Verdict MountFlags(const CellSpec&, const Observation& o) {
  const Json mounts = At(o, "mounts", {"mounts"});
  std::vector<std::string> wrong;
  bool have = mounts.is_array() && !mounts.empty();
  for (const Json& mount : mounts.is_array() ? mounts : Json::array()) {
    if (!mount.is_object() || !mount.contains("nosuid") ||
        !mount.contains("propagation")) {
      have = false;
      continue;
    }
    const std::string where = Show(mount.value("mountPoint", Json()));
    std::vector<std::string> problems;
    if (mount.value("nosuid", Json()) != true) problems.push_back("suid");
    if (mount.value("nodev", Json()) != true &&
        mount.value("device", Json()) != true &&
        mount.value("fsType", Json()) != "devpts") {
      problems.push_back("dev");
    }
    if (mount.value("propagation", Json()) != "private") {
      problems.push_back(Show(mount.value("propagation", Json())));
    }
    if (!problems.empty()) {
      wrong.push_back(
          absl::StrCat(where, " (", absl::StrJoin(problems, ", "), ")"));
    }
  }
  return {have, wrong.empty(),
          "every mount nosuid, nodev (but device nodes and devpts), and "
          "private",
          wrong.empty() ? absl::StrCat(mounts.is_array() ? mounts.size() : 0,
                                       " mounts, all nosuid, nodev and private")
                        : absl::StrCat("not so: ", absl::StrJoin(wrong, "; ")),
          "a mount lets set-uid files or device nodes work, or receives the "
          "host's mounts"};
}

}  // namespace

void AddFilesystemProperties(std::vector<PropertyDef>* out) {
  out->push_back({"only-explicit-binds",
                  "no host path is visible unless the spec binds it", "mounts",
                  9, nullptr, OnlyExplicitBinds});
  out->push_back({"root-read-only",
                  "the cell's root is read-only when isolation.readOnlyRoot "
                  "asks, a private tmpfs otherwise",
                  "fs", 2, nullptr, RootReadOnly});
  out->push_back({"worktree-writable", "the worktree can be written", "fs", 1,
                  nullptr, WorktreeWritable});
  out->push_back({"control-files",
                  "what controls the next launch (spec, filter, cell, logDir) "
                  "and every protect path refuse writes from inside",
                  "fs", 9, nullptr, ControlFiles});
  out->push_back({"secrets",
                  "no credential file or secret-looking variable is "
                  "reachable that the spec did not declare",
                  "reach", 7, nullptr, Secrets});
  out->push_back({"mount-flags",
                  "every mount is nosuid, nodev (but device nodes and devpts) "
                  "and private (no mount propagation from the host)",
                  "mounts", 6, nullptr, MountFlags});
  out->push_back({"bind-sources",
                  "no bind source, filter or logDir is reached through a "
                  "symlink or lies inside a writable bind",
                  "fs", 9, nullptr, BindSources});
}

}  // namespace cell::policy
