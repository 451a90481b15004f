#include "launcher/cli/trust.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "base/fs_util.h"
#include "base/host_path.h"
#include "base/json_text.h"
#include "base/printable.h"
#include "base/status_macros.h"
#include "launcher/cli/common.h"
#include "launcher/spec/resolve.h"
#include "nlohmann/json.hpp"

namespace cell {
namespace {

constexpr char kTrustUsage[] = R"(Usage: cell trust [FILE...]

Marks spec files as reviewed, so that `cell run` and `cell check-spec`
given no --spec may use them. Without FILE: the cell.json they would find
here (./cell.json, or the nearest one up to the repository root).

A cell writes its worktree, so a cell.json found there may have been written
by the last agent that ran in it (binding your secrets for the next launch).
A found spec is used only while its bytes, and those of the filter and TLS
roots it names inside its own directory tree, are exactly the ones you
trusted: after any change, review them and run `cell trust` again. A spec
named with --spec=FILE needs no trust: naming it is the review.

Records of trusted specs are kept in $XDG_CONFIG_HOME/cell/trusted (default
~/.config/cell/trusted).
)";

bool Exists(const std::string& path) {
  struct stat info;
  return lstat(path.c_str(), &info) == 0;
}

// The store's name for the canonical `path`: '/' cannot be in a name.
std::string EntryName(const std::string& path) {
  return absl::StrReplaceAll(path, {{"%", "%25"}, {"/", "%2F"}});
}

// mkdir -p, following the user's own links (a ~/.config kept elsewhere by
// a dotfile manager): the store lies outside every worktree, in the
// user's own configuration.
absl::Status MakeStoreDirs(const std::string& path) {
  if (path.empty() || path == "/") return absl::OkStatus();
  struct stat info;
  if (stat(path.c_str(), &info) == 0) {
    return S_ISDIR(info.st_mode) ? absl::OkStatus()
                                 : absl::FailedPreconditionError(absl::StrCat(
                                       path, " is not a directory"));
  }
  CELL_RETURN_IF_ERROR(MakeStoreDirs(path.substr(0, path.rfind('/'))));
  if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoStatus(errno, absl::StrCat("mkdir ", path));
  }
  return absl::OkStatus();
}

// The store's canonical path (the user's links followed), so that what is
// read and written there goes through no link at all.
absl::StatusOr<std::string> CanonicalStore(const std::string& store) {
  char real[PATH_MAX];
  if (realpath(store.c_str(), real) == nullptr) {
    return ErrnoStatus(errno, store);
  }
  return std::string(real);
}

// Writes `path` (mode 0600) through a temporary file renamed over it.
absl::Status ReplaceFile(const std::string& path, const std::string& text) {
  const std::string temporary = absl::StrCat(path, ".new");
  unlink(temporary.c_str());
  CELL_RETURN_IF_ERROR(WriteNewFile(temporary, text, 0600));
  if (rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    unlink(temporary.c_str());
    return ErrnoStatus(error, absl::StrCat("rename to ", path));
  }
  return absl::OkStatus();
}

}  // namespace

std::optional<std::string> FindSpecUpwards(const std::string& cwd) {
  std::string dir = cwd;
  while (!dir.empty()) {
    const std::string candidate =
        absl::StrCat(dir == "/" ? "" : dir, "/", kSpecFileName);
    if (Exists(candidate)) return candidate;
    if (dir == "/" || Exists(absl::StrCat(dir, "/.git"))) break;
    const size_t slash = dir.rfind('/');
    dir = slash == 0 ? "/" : dir.substr(0, slash);
  }
  return std::nullopt;
}

absl::StatusOr<std::string> TrustStoreDir() {
  const char* config = getenv("XDG_CONFIG_HOME");
  if (config != nullptr && *config == '/') {
    return absl::StrCat(config, "/cell/trusted");
  }
  const char* home = getenv("HOME");
  if (home == nullptr || *home != '/') {
    return absl::FailedPreconditionError(
        "neither XDG_CONFIG_HOME nor HOME is set to an absolute path: no "
        "place for trusted specs; give the spec with --spec=FILE");
  }
  return absl::StrCat(home, "/.config/cell/trusted");
}

absl::StatusOr<FoundSpec> ReadSpecForTrust(const std::string& path) {
  FoundSpec spec;
  CELL_ASSIGN_OR_RETURN(spec.path, ResolveTrustedPathFromCwd(path));
  CELL_ASSIGN_OR_RETURN(spec.text,
                        ReadConfigFile(spec.path, kMaxJsonTextBytes));
  return spec;
}

std::vector<ProjectFile> ProjectFiles(const FoundSpec& spec) {
  std::vector<ProjectFile> files;
  absl::StatusOr<nlohmann::json> json = ParseJsonText(spec.text, spec.path);
  if (!json.ok() || !json->is_object()) return files;
  std::string dir = spec.path.substr(0, spec.path.rfind('/'));
  if (dir.empty()) dir = "/";
  AnchorSpecPaths(dir, &*json);
  for (const char* field : {"tinyproxyFilter", "tlsRoots"}) {
    const auto it = json->find(field);
    if (it == json->end() || !it->is_string()) continue;
    const std::string& named = it->get_ref<const std::string&>();
    if (named.empty() || named.front() != '/' ||
        !PathIsSameOrUnder(named, dir)) {
      continue;
    }
    ProjectFile file{field, named, std::nullopt};
    if (absl::StatusOr<std::string> content =
            ReadConfigFile(named, kMaxJsonTextBytes);
        content.ok()) {
      file.content = *std::move(content);
    }
    files.push_back(std::move(file));
  }
  return files;
}

std::string TrustRecord(const FoundSpec& spec,
                        const std::vector<ProjectFile>& files) {
  std::string record = spec.text;
  for (const ProjectFile& file : files) {
    // NUL separates: a spec is JSON text, which holds none.
    absl::StrAppend(&record, std::string(1, '\0'), file.field, "=", file.path,
                    std::string(1, '\0'),
                    file.content.value_or("(unreadable)"));
  }
  return record;
}

absl::StatusOr<bool> IsTrusted(const FoundSpec& spec,
                               const std::string& store) {
  if (!Exists(store)) return false;
  CELL_ASSIGN_OR_RETURN(const std::string canonical, CanonicalStore(store));
  const std::string entry = absl::StrCat(canonical, "/", EntryName(spec.path));
  if (!Exists(entry)) return false;
  CELL_ASSIGN_OR_RETURN(const std::string trusted,
                        ReadConfigFile(entry, 4 * kMaxJsonTextBytes));
  const std::vector<ProjectFile> files = ProjectFiles(spec);
  if (trusted != TrustRecord(spec, files)) return false;
  // The copies the launch will use must hold what was just compared: a
  // file swapped while `cell trust` read it could otherwise have left a
  // copy of other bytes than its record.
  for (const ProjectFile& file : files) {
    if (!file.content.has_value()) continue;
    absl::StatusOr<std::string> copy =
        ReadConfigFile(absl::StrCat(entry, ".", file.field), kMaxJsonTextBytes);
    if (!copy.ok() || *copy != *file.content) return false;
  }
  return true;
}

absl::Status TrustSpec(const std::string& path, const std::string& store) {
  CELL_ASSIGN_OR_RETURN(const FoundSpec spec, ReadSpecForTrust(path));
  // Only what parses as JSON: trusting a broken file helps no one.
  CELL_RETURN_IF_ERROR(ParseJsonText(spec.text, spec.path).status());
  CELL_RETURN_IF_ERROR(MakeStoreDirs(store));
  CELL_ASSIGN_OR_RETURN(const std::string canonical, CanonicalStore(store));
  const std::string entry = absl::StrCat(canonical, "/", EntryName(spec.path));
  // Each project file read once: its copy and the record that vouches for
  // it are made of the same bytes (read twice, a file swapped in between
  // would give a copy of other bytes than the record: attacker round 11).
  const std::vector<ProjectFile> files = ProjectFiles(spec);
  for (const ProjectFile& file : files) {
    if (!file.content.has_value()) continue;
    CELL_RETURN_IF_ERROR(
        ReplaceFile(absl::StrCat(entry, ".", file.field), *file.content));
  }
  return ReplaceFile(entry, TrustRecord(spec, files));
}

absl::StatusOr<std::optional<FoundSpec>> DiscoverSpec(const std::string& cwd) {
  const std::optional<std::string> found = FindSpecUpwards(cwd);
  if (!found.has_value()) return std::nullopt;
  CELL_ASSIGN_OR_RETURN(const std::string store, TrustStoreDir());
  const auto where = [&found](const absl::Status& status) {
    return absl::Status(status.code(),
                        absl::StrCat("found ", *found,
                                     " (no --spec given): ", status.message()));
  };
  absl::StatusOr<FoundSpec> spec = ReadSpecForTrust(*found);
  if (!spec.ok()) return where(spec.status());
  absl::StatusOr<bool> trusted = IsTrusted(*spec, store);
  if (!trusted.ok()) return where(trusted.status());
  if (!*trusted) {
    return absl::FailedPreconditionError(absl::StrCat(
        "found ", *found,
        " (no --spec given), but it is not trusted: it, or the filter or TLS "
        "roots it names in its directory, is new or changed since you last "
        "trusted it, and a cell may have written it; review it, then run "
        "`cell trust ",
        *found, "` (or name it: --spec=", *found, ")"));
  }
  CELL_ASSIGN_OR_RETURN(const std::string canonical, CanonicalStore(store));
  const std::string entry = absl::StrCat(canonical, "/", EntryName(spec->path));
  for (const ProjectFile& file : ProjectFiles(*spec)) {
    spec->copies[file.field] = absl::StrCat(entry, ".", file.field);
  }
  std::fprintf(stderr, "cell: using %s\n", Printable(*found).c_str());
  return *std::move(spec);
}

std::string TrustUsage() { return kTrustUsage; }

int Trust(const std::vector<std::string>& args) {
  std::vector<std::string> files;
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-h") {
      std::fputs(kTrustUsage, stdout);
      return 0;
    }
    if (!arg.empty() && arg[0] == '-') {
      PrintError(UsageError(
          absl::StrCat("unknown flag ", arg, " (see 'cell help trust')")));
      return kExitUsage;
    }
    files.push_back(arg);
  }
  if (files.empty()) {
    absl::StatusOr<std::string> cwd = CurrentDirectory();
    if (!cwd.ok()) {
      PrintError(cwd.status());
      return kExitUsage;
    }
    std::optional<std::string> found = FindSpecUpwards(*cwd);
    if (!found.has_value()) {
      PrintError(UsageError(absl::StrCat(
          "no ", kSpecFileName,
          " here or above (up to the repository root); name the file: cell "
          "trust FILE")));
      return kExitUsage;
    }
    files.push_back(*found);
  }
  absl::StatusOr<std::string> store = TrustStoreDir();
  if (!store.ok()) {
    PrintError(store.status());
    return kExitUsage;
  }
  for (const std::string& file : files) {
    if (absl::Status status = TrustSpec(file, *store); !status.ok()) {
      PrintError(status);
      return kExitUsage;
    }
    std::printf("trusted %s\n", Printable(file).c_str());
  }
  return 0;
}

}  // namespace cell
