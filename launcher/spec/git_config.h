// What git on the host will run or read from a repository's worktree
// beyond the fixed `@defaults` (spec.cc): the directory `core.hooksPath`
// names, and the files `include.path` / `includeIf.*.path` pull config
// from. When one of them lies in the worktree, the cell could write hooks
// or config there that the user's next `git commit` runs on the host
// (found by an attacker review: a hooks directory other than .husky).
//
// Pure: the caller reads the config files. Host side, before the clone.
#ifndef CELL_LAUNCHER_SPEC_GIT_CONFIG_H_
#define CELL_LAUNCHER_SPEC_GIT_CONFIG_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace cell {

// One setting that names a path: `core.hookspath`, `include.path`,
// `includeif.<condition>.path` or (in .gitmodules) `submodule.<name>.path`
// (section and key lower-cased), with its value unquoted.
struct GitPathSetting {
  std::string key;
  std::string value;
};

// The path settings of git config text, in order. Tolerant: a line it
// cannot read is skipped (git would refuse the file, and run nothing).
std::vector<GitPathSetting> GitPathSettings(absl::string_view text);

// `path` made absolute (relative to `base`, "~/" from `home`), with "."
// removed and ".." resolved lexically; "" when it cannot be ("~/" without
// `home`, ".." above the root).
std::string ResolveGitPath(absl::string_view path, absl::string_view base,
                           absl::string_view home);

// Absolute, normalized `path` relative to `worktree`, or "" when it is not
// inside it (the worktree itself included).
std::string WorktreeRelative(absl::string_view path,
                             absl::string_view worktree);

// `setting`'s path, absolute, with "." removed and ".." resolved
// lexically ("" when it cannot be made absolute: "~/" without `home`).
// `config_dir` is the directory of the file it came from (include paths
// are relative to it); hooksPath is relative to the worktree, where hooks
// run.
std::string GitSettingPath(const GitPathSetting& setting,
                           absl::string_view worktree,
                           absl::string_view config_dir,
                           absl::string_view home);

// `setting`'s path (GitSettingPath) as a `protect` entry relative to
// `worktree` (with a trailing '/' for core.hooksPath, a directory), or ""
// when it is outside the worktree. Paths are compared as written.
std::string GitPathProtectEntry(const GitPathSetting& setting,
                                absl::string_view worktree,
                                absl::string_view config_dir,
                                absl::string_view home);

}  // namespace cell

#endif  // CELL_LAUNCHER_SPEC_GIT_CONFIG_H_
