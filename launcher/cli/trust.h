// The spec `cell` finds when given none (./cell.json, or the nearest one up
// to the repository root), and the trust it needs first. Host side.
//
// A cell writes its worktree, so a cell.json there may be the last agent's
// work: binds of the user's secrets for the next launch. As direnv does
// with .envrc, a found spec is used only while its bytes are exactly those
// the user approved with `cell trust FILE`; a copy of them is kept in the
// user's configuration directory, outside every worktree.
#ifndef CELL_LAUNCHER_CLI_TRUST_H_
#define CELL_LAUNCHER_CLI_TRUST_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cell {

inline constexpr absl::string_view kSpecFileName = "cell.json";

// The nearest kSpecFileName from `cwd` upwards, stopping at the first
// directory that holds `.git` (the repository root) or at "/"; nullopt when
// there is none. Pure file-system walk, no trust check.
std::optional<std::string> FindSpecUpwards(const std::string& cwd);

// Where records of trusted specs are kept: $XDG_CONFIG_HOME/cell/trusted,
// else $HOME/.config/cell/trusted.
absl::StatusOr<std::string> TrustStoreDir();

// A spec file as read once: what is checked is what is used.
struct FoundSpec {
  std::string path;  // Canonical.
  std::string text;
  // Spec field -> the trusted copy to use in place of the project file it
  // names (filled by DiscoverSpec): what was checked is what is used, even
  // if the project file changes after the check.
  std::map<std::string, std::string> copies;
};

// A file a spec names inside its own directory tree, as read now.
struct ProjectFile {
  std::string field;                   // "tinyproxyFilter", "tlsRoots".
  std::string path;                    // Absolute.
  std::optional<std::string> content;  // nullopt: unreadable.
};

// The filter and TLS roots `spec` names inside its own directory tree: in
// a project, a cell could rewrite them as easily as the spec.
std::vector<ProjectFile> ProjectFiles(const FoundSpec& spec);

// What trusting `spec` covers: its bytes, and those of `files` (its
// ProjectFiles, read once by the caller). Missing files are recorded as
// missing.
std::string TrustRecord(const FoundSpec& spec,
                        const std::vector<ProjectFile>& files);

// FindSpecUpwards, then: a trusted one is named on stderr ("cell: using
// ...") and returned; an untrusted or changed one is an error that says how
// to review and trust it; none is nullopt.
absl::StatusOr<std::optional<FoundSpec>> DiscoverSpec(const std::string& cwd);

// Records `path`'s current TrustRecord as trusted (`store` is
// TrustStoreDir()).
absl::Status TrustSpec(const std::string& path, const std::string& store);

// Whether `spec`'s TrustRecord is the one recorded for its path.
absl::StatusOr<bool> IsTrusted(const FoundSpec& spec, const std::string& store);

// `cell trust [FILE...]`.
int Trust(const std::vector<std::string>& args);
std::string TrustUsage();

}  // namespace cell

#endif  // CELL_LAUNCHER_CLI_TRUST_H_
