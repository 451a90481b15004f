#include "launcher/cli/common.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/fs_util.h"
#include "base/host_path.h"
#include "base/json_text.h"
#include "base/printable.h"
#include "base/status_macros.h"
#include "base/unique_fd.h"
#include "launcher/cli/trust.h"
#include "launcher/spec/resolve.h"

namespace cell {
using Json = nlohmann::json;

namespace {

// True for a file that starts as an ELF executable (a packed cell given as
// --spec).
bool LooksLikeElf(const std::string& path) {
  absl::StatusOr<UniqueFd> fd = OpenWithoutSymlinks(path, O_RDONLY);
  if (!fd.ok()) {
    // Through the trusted symlinks a spec path may take.
    absl::StatusOr<std::string> resolved = ResolveTrustedPathFromCwd(path);
    if (!resolved.ok()) return false;
    fd = OpenWithoutSymlinks(*resolved, O_RDONLY);
    if (!fd.ok()) return false;
  }
  char magic[4];
  return pread(fd->get(), magic, sizeof(magic), 0) == sizeof(magic) &&
         std::memcmp(magic,
                     "\x7f"
                     "ELF",
                     4) == 0;
}

absl::Status ReadPackedInto(const std::string& path, absl::string_view flag,
                            SpecSource* source) {
  source->name = absl::StrCat(path, " (packed spec)");
  if (absl::StatusOr<std::string> resolved = ResolveTrustedPathFromCwd(path);
      resolved.ok()) {
    source->file = *std::move(resolved);
  }
  CELL_ASSIGN_OR_RETURN(std::optional<PackedSpec> packed, ReadPackedSpec(path));
  if (!packed.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        flag, "=", path,
        ": not a packed cell (a program with no spec appended to it), and "
        "not a spec; make one with `cell pack`"));
  }
  source->json = std::move(packed->spec);
  return absl::OkStatus();
}

// `text` of the spec file at canonical `path`.
absl::Status ParseSpecTextInto(const std::string& path, const std::string& text,
                               SpecSource* source) {
  source->name = path;
  source->file = path;
  CELL_ASSIGN_OR_RETURN(source->json, ParseJsonText(text, source->name));
  // The spec's own relative paths mean the same wherever it is used from:
  // relative to its directory (worktreePath excepted: where the cell runs).
  AnchorSpecPaths(path.substr(0, std::max<size_t>(1, path.rfind('/'))),
                  &source->json);
  return absl::OkStatus();
}

absl::Status ReadSpecFileInto(const std::string& path, SpecSource* source) {
  CELL_ASSIGN_OR_RETURN(const std::string resolved,
                        ResolveTrustedPathFromCwd(path));
  CELL_ASSIGN_OR_RETURN(std::string text,
                        ReadConfigFile(resolved, kMaxJsonTextBytes));
  CELL_RETURN_IF_ERROR(ParseSpecTextInto(resolved, text, source));
  // Errors name the file as the user wrote it.
  source->name = path;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SpecSource> ReadSpecJson(const Invocation& invocation) {
  SpecSource source{{{"version", 1}}, "command line"};
  if (invocation.spec_file.has_value() && invocation.packed_file.has_value()) {
    return UsageError("give --spec or --packed, not both");
  }
  const std::optional<std::string>& spec_file = invocation.spec_file;
  if (!spec_file.has_value() && !invocation.packed_file.has_value()) {
    CELL_ASSIGN_OR_RETURN(const std::string cwd, CurrentDirectory());
    CELL_ASSIGN_OR_RETURN(std::optional<FoundSpec> found, DiscoverSpec(cwd));
    if (found.has_value()) {
      // The bytes the trust check read, not the file read again; and the
      // trusted copies of the project files it names.
      CELL_RETURN_IF_ERROR(
          ParseSpecTextInto(found->path, found->text, &source));
      for (const auto& [field, copy] : found->copies) {
        source.json[field] = copy;
      }
      for (const ProjectFile& file : ProjectFiles(*found)) {
        source.project_files.push_back(file.path);
      }
    }
  }
  if (spec_file.has_value()) {
    if (LooksLikeElf(*spec_file)) {
      CELL_RETURN_IF_ERROR(ReadPackedInto(*spec_file, "--spec", &source));
    } else {
      CELL_RETURN_IF_ERROR(ReadSpecFileInto(*spec_file, &source));
    }
  }
  if (invocation.packed_file.has_value()) {
    CELL_RETURN_IF_ERROR(
        ReadPackedInto(*invocation.packed_file, "--packed", &source));
  }
  ApplyOverrides(invocation, &source.json);
  return source;
}

namespace {

absl::StatusOr<CellSpec> LoadSpec(const Invocation& invocation,
                                  Subcommand subcommand,
                                  std::string* source_name,
                                  std::vector<std::string>* control_files) {
  CELL_ASSIGN_OR_RETURN(SpecSource source, ReadSpecJson(invocation));
  *source_name = source.name;
  if (source.file.has_value()) control_files->push_back(*source.file);
  control_files->insert(control_files->end(), source.project_files.begin(),
                        source.project_files.end());
  CELL_ASSIGN_OR_RETURN(CellSpec spec, SpecFrom(source.json, source.name));
  CELL_ASSIGN_OR_RETURN(std::string cwd, CurrentDirectory());
  if (subcommand == Subcommand::kRun && !invocation.dry_run) {
    CELL_RETURN_IF_ERROR(CreateLogDir(spec, cwd));
  }
  return ResolveSpec(std::move(spec), cwd);
}

}  // namespace

// logDir is made when it does not exist yet (mode 0700, parents too), so
// that a spec naming one works on a fresh machine. Its nearest existing
// ancestor is resolved through trusted symlinks only; resolution checks the
// result again.
absl::Status MakeDirectories(const std::string& absolute, mode_t mode) {
  // The nearest existing ancestor, through trusted symlinks only. An
  // untrusted link or a `..` on the way is for resolution to name.
  absl::StatusOr<ExistingAncestor> ancestor = FindExistingAncestor(absolute);
  if (!ancestor.ok()) return absl::OkStatus();
  std::string existing = ancestor->resolved;
  const std::vector<std::string>& missing = ancestor->missing;
  if (missing.empty()) return absl::OkStatus();
  // Then one component at a time, each relative to the directory opened
  // before it and opened without following a link: a link planted on the
  // way (by a cell writing that directory) fails the step, never leads the
  // launcher elsewhere.
  CELL_ASSIGN_OR_RETURN(UniqueFd dir,
                        OpenWithoutSymlinks(existing, O_PATH | O_DIRECTORY));
  for (const std::string& component : missing) {
    existing = absl::StrCat(existing == "/" ? "" : existing, "/", component);
    if (mkdirat(dir.get(), component.c_str(), mode) != 0 && errno != EEXIST) {
      return ErrnoStatus(errno, absl::StrCat("cannot create ", existing));
    }
    UniqueFd next(openat(dir.get(), component.c_str(),
                         O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (next.get() < 0) {
      return ErrnoStatus(errno, absl::StrCat("cannot open ", existing,
                                             " (a link or not a directory)"));
    }
    dir = std::move(next);
  }
  return absl::OkStatus();
}

absl::Status CreateLogDir(const CellSpec& spec, const std::string& cwd) {
  if (!spec.log_dir.has_value() || spec.log_dir->empty()) {
    return absl::OkStatus();
  }
  const std::string absolute = spec.log_dir->front() == '/'
                                   ? *spec.log_dir
                                   : absl::StrCat(cwd, "/", *spec.log_dir);
  const absl::Status made = MakeDirectories(absolute, 0700);
  if (made.ok()) return made;
  return absl::Status(made.code(),
                      absl::StrCat("field `logDir`: ", made.message()));
}

absl::StatusOr<std::string> CurrentDirectory() {
  char buffer[PATH_MAX];
  if (getcwd(buffer, sizeof(buffer)) == nullptr) {
    return ErrnoStatus(errno, "cannot read the current directory");
  }
  return std::string(buffer);
}

absl::Status UsageError(absl::string_view message) {
  return absl::InvalidArgumentError(message);
}

absl::StatusOr<CellSpec> SpecFrom(const nlohmann::json& json,
                                  absl::string_view source) {
  absl::StatusOr<CellSpec> spec = SpecFromJson(json);
  if (!spec.ok()) return WithSource(spec.status(), source);
  return spec;
}

void PrintError(const absl::Status& status) {
  // Messages quote spec values and paths, which a hostile spec or a
  // directory name may fill with terminal escapes: shown as \xNN.
  for (absl::string_view line : absl::StrSplit(status.message(), '\n')) {
    std::fprintf(stderr, "cell: %s\n", Printable(line).c_str());
  }
}

std::optional<Loaded> ParseAndLoad(const std::vector<std::string>& args,
                                   Subcommand subcommand,
                                   const std::string& usage, int error_exit,
                                   int* exit_code) {
  absl::StatusOr<Invocation> invocation = ParseFlags(args, subcommand);
  if (!invocation.ok()) {
    PrintError(invocation.status());
    *exit_code = error_exit;
    return std::nullopt;
  }
  if (invocation->help) {
    std::fputs(usage.c_str(), stdout);
    *exit_code = 0;
    return std::nullopt;
  }
  std::string source;
  std::vector<std::string> control_files;
  absl::StatusOr<CellSpec> spec =
      LoadSpec(*invocation, subcommand, &source, &control_files);
  if (!spec.ok()) {
    PrintError(spec.status());
    *exit_code = error_exit;
    return std::nullopt;
  }
  return Loaded{*std::move(invocation), *std::move(spec), std::move(source),
                std::move(control_files)};
}

std::string SelfName(const char* argv0) {
  char buffer[PATH_MAX];
  const ssize_t n = readlink(kSelfExe, buffer, sizeof(buffer) - 1);
  return n > 0 ? std::string(buffer, n) : std::string(argv0);
}

}  // namespace cell
