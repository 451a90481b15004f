#include "launcher/cli/common.h"

#include <errno.h>
#include <limits.h>
#include <unistd.h>

#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/fs_util.h"
#include "base/host_path.h"
#include "base/json_text.h"
#include "base/status_macros.h"
#include "launcher/spec/resolve.h"

namespace cell {
using Json = nlohmann::json;

absl::StatusOr<SpecSource> ReadSpecJson(const Invocation& invocation) {
  SpecSource source{{{"version", 1}}, "command line"};
  if (invocation.spec_file.has_value() && invocation.packed_file.has_value()) {
    return UsageError("give --spec or --packed, not both");
  }
  if (invocation.spec_file.has_value()) {
    source.name = *invocation.spec_file;
    CELL_ASSIGN_OR_RETURN(
        std::string text,
        ReadConfigFile(*invocation.spec_file, kMaxJsonTextBytes));
    CELL_ASSIGN_OR_RETURN(source.json, ParseJsonText(text, source.name));
  }
  if (invocation.packed_file.has_value()) {
    source.name = absl::StrCat(*invocation.packed_file, " (packed spec)");
    CELL_ASSIGN_OR_RETURN(std::optional<PackedSpec> packed,
                          ReadPackedSpec(*invocation.packed_file));
    if (!packed.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--packed=", *invocation.packed_file,
                       ": not a packed cell (no spec is appended to it); "
                       "make one with `cell pack`"));
    }
    source.json = std::move(packed->spec);
  }
  ApplyOverrides(invocation, &source.json);
  return source;
}

namespace {

absl::StatusOr<CellSpec> LoadSpec(const Invocation& invocation) {
  CELL_ASSIGN_OR_RETURN(SpecSource source, ReadSpecJson(invocation));
  CELL_ASSIGN_OR_RETURN(CellSpec spec, SpecFrom(source.json, source.name));
  CELL_ASSIGN_OR_RETURN(std::string cwd, CurrentDirectory());
  return ResolveSpec(std::move(spec), cwd);
}

}  // namespace

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
  if (!spec.ok()) {
    return absl::Status(spec.status().code(),
                        absl::StrCat(source, ": ", spec.status().message()));
  }
  return spec;
}

void PrintError(const absl::Status& status) {
  std::fprintf(stderr, "cell: %s\n", std::string(status.message()).c_str());
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
  absl::StatusOr<CellSpec> spec = LoadSpec(*invocation);
  if (!spec.ok()) {
    PrintError(spec.status());
    *exit_code = error_exit;
    return std::nullopt;
  }
  return Loaded{*std::move(invocation), *std::move(spec)};
}

std::string SelfName(const char* argv0) {
  char buffer[PATH_MAX];
  const ssize_t n = readlink(kSelfExe, buffer, sizeof(buffer) - 1);
  return n > 0 ? std::string(buffer, n) : std::string(argv0);
}

}  // namespace cell
