// The cell spec (JSON, version 1): the model, its parser and its resolver.
// Reference: docs/spec.md, "The cell spec". Field names follow the Nix
// parameters they come from. Both the launcher and the policy read it.
#ifndef CELL_LAUNCHER_SPEC_SPEC_H_
#define CELL_LAUNCHER_SPEC_SPEC_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace cell {

enum class MountType { kRoBind, kBind, kTmpfs, kDir, kSymlink };
enum class NetworkMode { kProxy, kNone };
enum class EngineKind { kTinyproxy, kBuiltin };
enum class Capabilities { kAll, kNone };

struct MountSpec {
  MountType type = MountType::kRoBind;
  // Host path for binds, link target for symlinks, empty otherwise.
  std::string src;
  // Absolute path inside the cell.
  std::string dst;
  // A bind whose source does not exist is skipped instead of an error.
  bool optional = false;

  bool operator==(const MountSpec& other) const {
    return type == other.type && src == other.src && dst == other.dst &&
           optional == other.optional;
  }
};

struct NetworkSpec {
  NetworkMode mode = NetworkMode::kProxy;
  // The builtin engine is the default: 4x tinyproxy's throughput and a
  // fifth of its latency here, and no extra process (README, "Speed").
  EngineKind engine = EngineKind::kBuiltin;
  // Port of the proxy listener on 127.0.0.1 inside the cell.
  int port = 3128;
};

struct IsolationSpec {
  bool pid_namespace = false;
  bool ipc_namespace = false;
  Capabilities capabilities = Capabilities::kAll;
  // The escape-route deny list of launcher/jail/seccomp.h.
  bool seccomp = false;
  // The root (the launcher's tmpfs: /etc, /bin links, mount points) is
  // remounted read-only after the mounts; the worktree, /tmp, /home/cell
  // and other mounts keep their own mode.
  bool read_only_root = false;
};

// Resource limits. The documented cell sets none: the command inherits the
// launcher's rlimits and cgroup.
struct LimitsSpec {
  // Rlimit name (see RlimitResources()) -> value, set as soft and hard
  // limit before exec.
  std::map<std::string, uint64_t> rlimits;
  // A cgroup of the cell's own (launcher/jail/cgroup.h) with these bounds:
  // bytes of memory (memory.max) and tasks (pids.max).
  std::optional<uint64_t> memory_max;
  std::optional<uint64_t> pids_max;

  bool NeedsCgroup() const {
    return memory_max.has_value() || pids_max.has_value();
  }
};

struct CellSpec {
  int version = 1;
  std::vector<std::string> command;
  std::string worktree_path;
  std::optional<std::string> tinyproxy_filter;
  std::optional<std::string> log_dir;
  // Named sets of the host's system paths (launcher/spec/presets.h),
  // expanded into `mounts` when the spec is resolved: only what exists on
  // this host, symlinks as symlinks.
  std::vector<std::string> presets;
  // A host CA bundle bound read-only at kCellTlsRoots, named by the
  // variables TLS clients read (TlsRootsEnvNames()); kHostTlsRoots stands
  // for the host's own bundle, found when the spec is resolved.
  std::optional<std::string> tls_roots;
  // A root launcher runs the cell as this host user (a name or a decimal
  // uid), as if that user had started it (launcher/spec/host_identity.h).
  std::optional<std::string> host_user;
  // Worktree-relative paths kept read-only inside the cell, also when they
  // do not exist yet (launcher/spec/protect.h): what the user's tools run or
  // trust after the cell exits (git hooks and config, .envrc, editor and
  // agent settings). "@defaults" in the spec stands for
  // DefaultProtectedPaths(); a trailing '/' marks a directory.
  std::vector<std::string> protect;
  std::string nix_daemon_socket = "/nix/var/nix/daemon-socket";
  std::string nix_store = "/nix/store";
  bool nix = true;
  // Unset until resolved: the default depends on the bound store.
  std::optional<std::vector<std::string>> path;
  std::vector<MountSpec> mounts;
  std::map<std::string, std::string> env;
  NetworkSpec network;
  IsolationSpec isolation;
  LimitsSpec limits;
};

// The rlimits `limits.rlimits` may set: spec name -> RLIMIT_* resource.
const std::vector<std::pair<absl::string_view, int>>& RlimitResources();

// A size as the CLI and the spec write it: a whole number of bytes, or one
// with a binary suffix K, M, G or T (either case: "512M" is 512 MiB).
// nullopt for anything else, a sign, or more than 2^62 bytes.
std::optional<uint64_t> ParseByteSize(absl::string_view text);

// The smallest `limits.memoryMax` accepted: below it the cell's first
// process would be killed before it could exec.
inline constexpr uint64_t kMinMemoryMax = 4 << 20;

// The in-cell paths the launcher always creates; spec mounts may not use
// them as destinations.
inline constexpr absl::string_view kCellHome = "/home/cell";
inline constexpr absl::string_view kCellWorktree = "/home/cell/worktree";
inline constexpr absl::string_view kCellLogDir = "/home/cell/log";
inline constexpr absl::string_view kCellNixStore = "/nix/store";
inline constexpr absl::string_view kCellNixDaemonDir = "/run/nix";
inline constexpr absl::string_view kCellTlsRoots = "/etc/cell-tls-roots.pem";

// `tlsRoots` value (and bare --tls-roots) for the host's own CA bundle.
inline constexpr absl::string_view kHostTlsRoots = "@host";

// The variables that point TLS clients at `tlsRoots` inside the cell
// (OpenSSL, curl, git, Nix, Python requests, pip, Node).
const std::vector<std::string>& TlsRootsEnvNames();

// The names `presets` takes: "host" (a distribution's userland) and "nix"
// (a Nix-only host's); launcher/spec/presets.h says what each binds.
const std::vector<std::string>& PresetNames();

// The paths "@defaults" in `protect` stands for.
const std::vector<std::string>& DefaultProtectedPaths();

// Environment names the launcher sets itself; the spec's `env` may not.
const std::vector<std::string>& ForcedEnvNames();

// Builds a spec from parsed JSON: types, required and unknown fields, enum
// values, mount destinations (absolute, no `..`, no collisions), env names.
// Errors name the field, e.g. "field `mounts[2].dst`: ..."; every error
// found is reported, one per line. Touches no files.
absl::StatusOr<CellSpec> SpecFromJson(const nlohmann::json& json);

// `status` with each line of its message prefixed "SOURCE: " (none for an
// empty `source`): every error names where it is.
absl::Status WithSource(const absl::Status& status, absl::string_view source);

// ParseJsonText + SpecFromJson; `source` names the text in errors.
absl::StatusOr<CellSpec> ParseSpec(absl::string_view text,
                                   absl::string_view source);

// ResolveSpec (host paths) is launcher/spec/resolve.h.

// The spec as JSON, every field present (the form `cell check-spec` prints).
nlohmann::json SpecToJson(const CellSpec& spec);

absl::string_view MountTypeName(MountType type);

}  // namespace cell

#endif  // CELL_LAUNCHER_SPEC_SPEC_H_
