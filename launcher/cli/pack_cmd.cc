// `cell pack`: this launcher's image with a checked spec appended, written
// atomically.
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/fs_util.h"
#include "base/status_macros.h"
#include "launcher/cli/common.h"
#include "launcher/cli/pack.h"
#include "launcher/spec/resolve.h"

namespace cell {
namespace {

constexpr char kPackUsage[] =
    R"(Usage: cell pack --spec=FILE --output=FILE [--unchecked-paths] [OVERRIDES]

Writes a self-contained executable: this launcher (a static binary) with the
spec appended. Running it is `cell run` with that spec; arguments given to
it are appended to the spec's `command`. It needs nothing beside it but what
the spec itself names on the host (worktree, filter, store, daemon socket,
tinyproxy), so it can be copied anywhere and run.

The spec is checked now, as `cell check-spec` would, and embedded with every
default filled in. Host paths are resolved each time the cell runs, so a
relative `worktreePath` such as "." means the directory the packed cell is
run in; the spec file's other relative paths (filter, logDir, bind sources)
are relative to the spec file's directory, and embedded as absolute paths.
OVERRIDES (see `cell help run`) are applied first.

)";

constexpr char kPackUsageTail[] = R"(
A packed cell takes these options before its first argument:
  --help, --cell-help        which spec it carries, and how to run it
  --cell-status-file=PATH    as `cell run --status-file`
  --                         ends the options (`CELL -- --help` passes --help
                             to the command)

`cell check-spec --packed=CELL` prints the spec a packed cell carries.

Example:
  cell pack --spec=agent.json --output=agent-cell
  cd ~/project && ./agent-cell --model=fast    # runs the spec's command
)";

bool SameFile(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  return stat(a.c_str(), &sa) == 0 && stat(b.c_str(), &sb) == 0 &&
         sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

absl::Status PackCell(const Invocation& invocation) {
  if (invocation.output.empty()) {
    return UsageError(
        "--output=FILE is required: where to write the packed cell");
  }
  if (invocation.packed_file.has_value()) {
    return UsageError(
        "cell pack reads --spec=FILE; to re-pack a packed cell, extract its "
        "spec with `cell check-spec --packed=CELL`");
  }
  if (invocation.spec_file.has_value() &&
      SameFile(*invocation.spec_file, invocation.output)) {
    return UsageError(absl::StrCat("--output=", invocation.output,
                                   " is the spec file itself; refusing to "
                                   "overwrite it"));
  }
  CELL_ASSIGN_OR_RETURN(SpecSource source, ReadSpecJson(invocation));
  CELL_ASSIGN_OR_RETURN(CellSpec spec, SpecFrom(source.json, source.name));
  if (!invocation.unchecked_paths) {
    CELL_ASSIGN_OR_RETURN(std::string cwd, CurrentDirectory());
    absl::Status resolved = ResolveSpec(spec, cwd).status();
    if (!resolved.ok()) {
      return absl::Status(
          resolved.code(),
          absl::StrCat(resolved.message(),
                       " (or pass --unchecked-paths to check host paths only "
                       "when the cell runs)"));
    }
  }
  PackedSpec packed{SpecToJson(spec), source.name};
  if (invocation.spec_file.has_value()) {
    char absolute[PATH_MAX];
    if (realpath(invocation.spec_file->c_str(), absolute) != nullptr) {
      packed.source = absolute;
    }
  }
  return WritePackedCell(kSelfExe, packed, invocation.output);
}

}  // namespace

std::string PackUsage() {
  return absl::StrCat(kPackUsage, OwnFlagHelp(Subcommand::kPack),
                      kPackUsageTail);
}

int Pack(const std::vector<std::string>& args) {
  absl::StatusOr<Invocation> invocation = ParseFlags(args, Subcommand::kPack);
  if (invocation.ok() && invocation->help) {
    std::fputs(PackUsage().c_str(), stdout);
    return 0;
  }
  absl::Status status =
      invocation.ok() ? PackCell(*invocation) : invocation.status();
  if (!status.ok()) {
    PrintError(status);
    return kExitUsage;
  }
  std::fprintf(stderr, "cell: packed %s; run `%s --help` to see its spec\n",
               invocation->output.c_str(), invocation->output.c_str());
  return 0;
}

// A packed cell: `NAME [--cell-OPTION...] [--] [ARG...]`. Every argument
// from the first that is not one of its options goes to the command, so the
// cell behaves like the program it wraps.
}  // namespace cell
