// What of the host's files a cell sees and may change.
#include <string>
#include <vector>

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
      writable == true ? "writable" : Show(At(o, "fs", {"root", "error"})),
      "the root's mode does not match isolation.readOnlyRoot"};
}

Verdict WorktreeWritable(const CellSpec&, const Observation& o) {
  const Json writable = At(o, "fs", {"worktree", "writable"});
  return {
      !writable.is_null(), writable == true, "writable at /home/cell/worktree",
      writable == true ? "writable" : Show(At(o, "fs", {"worktree", "error"})),
      "the worktree cannot be written"};
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
}

}  // namespace cell::policy
