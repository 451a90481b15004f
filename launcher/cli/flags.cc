#include "launcher/cli/flags.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "base/json_fields.h"
#include "base/status_macros.h"
#include "launcher/spec/spec.h"

namespace cell {
namespace {

using Json = nlohmann::json;

constexpr FlagDef kFlagTable[] = {
    {"worktree", "DIR", FlagKind::kText, "worktreePath", "", kForAll,
     "host dir bound read-write at /home/cell/worktree, the cwd inside"},
    {"filter", "FILE", FlagKind::kText, "tinyproxyFilter", "", kForAll,
     "allowed hosts, one extended regex per line; the builtin engine "
     "reaches a loopback, private or metadata address only through a line "
     "that is exactly that address"},
    {"log-dir", "DIR", FlagKind::kText, "logDir", "", kForAll,
     "proxy logs go there; bound read-only at /home/cell/log (the cell "
     "reads them, cannot change them)"},
    {"host-user", "NAME|UID", FlagKind::kText, "hostUser", "", kForAll,
     "(root only) run the cell as this host user, as if it had started it: "
     "a cell of root is host root to the kernel and the Nix daemon"},
    {"nix-daemon-socket", "DIR", FlagKind::kText, "nixDaemonSocket", "",
     kForAll, "dir holding the daemon's `socket`"},
    {"nix-store", "DIR", FlagKind::kText, "nixStore", "", kForAll,
     "store bound read-only at /nix/store"},
    {"no-nix", "", FlagKind::kSwitchOff, "nix", "", kForAll,
     "no store, no socket, no NIX_* variables"},
    {"network", "", FlagKind::kChoice, "network.mode", "proxy|none", kForAll,
     "proxy: egress only through the filtering proxy; none: loopback only"},
    {"engine", "", FlagKind::kChoice, "network.engine", "builtin|tinyproxy",
     kForAll,
     "the proxy: builtin (in the launcher, default) or a tinyproxy process "
     "per run"},
    {"ro-bind", "SRC[:DST]", FlagKind::kMount, "mounts", "", kForAll,
     "bind SRC read-only at DST (default: SRC)"},
    {"bind", "SRC[:DST]", FlagKind::kMount, "mounts", "", kForAll,
     "bind SRC read-write at DST (default: SRC)"},
    {"tmpfs", "DST", FlagKind::kMountAt, "mounts", "", kForAll,
     "a fresh, empty, writable tmpfs at DST"},
    {"dir", "DST", FlagKind::kMountAt, "mounts", "", kForAll,
     "an empty directory at DST (in the cell's root)"},
    {"symlink", "TARGET:DST", FlagKind::kSymlinkAt, "mounts", "", kForAll,
     "a symlink at DST pointing to TARGET"},
    {"preset", "NAME", FlagKind::kPreset, "presets", "host|nix", kForAll,
     "bind a working userland read-only: host (the distribution's /usr, "
     "/bin, /lib*, /etc/alternatives, CA certificates, loader cache, time "
     "zone) or nix (a Nix-only host's profiles, /bin/sh, /usr/bin/env); "
     "only what exists; see `cell help presets`"},
    {"tls-roots", "[=FILE]", FlagKind::kTlsRoots, "tlsRoots", "", kForAll,
     "bind a CA bundle read-only at /etc/cell-tls-roots.pem and point "
     "SSL_CERT_FILE, CURL_CA_BUNDLE, GIT_SSL_CAINFO, NIX_SSL_CERT_FILE, "
     "REQUESTS_CA_BUNDLE, PIP_CERT and NODE_EXTRA_CA_CERTS at it; without "
     "FILE, the host's own bundle"},
    {"env", "NAME[=VALUE]", FlagKind::kEnv, "env", "", kForAll,
     "set a variable inside; NAME alone passes this environment's value"},
    {"protect", "PATH", FlagKind::kProtect, "protect", "", kForAll,
     "keep worktree path PATH read-only inside, also when it does not exist "
     "yet (PATH/ for a directory); @defaults: git hooks and every config "
     "git reads, .envrc, .mcp.json, editor and agent settings, shell rc "
     "files"},
    {"pid-namespace", "", FlagKind::kSwitchOn, "isolation.pidNamespace", "",
     kForAll, "own PID namespace and /proc"},
    {"ipc-namespace", "", FlagKind::kSwitchOn, "isolation.ipcNamespace", "",
     kForAll, "own IPC namespace"},
    {"seccomp", "", FlagKind::kSwitchOn, "isolation.seccomp", "", kForAll,
     "deny the syscalls that leave or widen a cell (namespaces, ptrace, "
     "keyrings, bpf, io_uring, modules, TIOCSTI) with EPERM"},
    {"capabilities", "", FlagKind::kChoice, "isolation.capabilities",
     "all|none", kForAll,
     "capabilities kept across exec inside the user namespace"},
    {"read-only-root", "", FlagKind::kSwitchOn, "isolation.readOnlyRoot", "",
     kForAll,
     "the cell's root (/, /etc, /bin links) read-only; mounts keep "
     "their mode"},
    {"rlimit", "NAME=VALUE", FlagKind::kRlimit, "limits.rlimits", "", kForAll,
     "set rlimit NAME (nofile, nproc, as, cpu, fsize, core, ...) as soft and "
     "hard limit"},
    {"memory-max", "SIZE", FlagKind::kBytes, "limits.memoryMax", "", kForAll,
     "the cell's own cgroup with this much memory, e.g. 512M (needs root or "
     "a delegated cgroup)"},
    {"pids-max", "N", FlagKind::kCount, "limits.pidsMax", "", kForAll,
     "the cell's own cgroup with at most N tasks"},
    {"spec", "FILE", FlagKind::kSpecFile, "", "", kForAll,
     "the spec to run, check or embed"},
    {"status-file", "PATH", FlagKind::kStatusFile, "", "", kForRun,
     "write JSON lines: {\"event\":\"started\",...} and "
     "{\"event\":\"exited\",\"exitCode\":N,\"signal\":S}"},
    {"dry-run", "", FlagKind::kDryRun, "", "", kForRun,
     "print the resolved plan (mounts in order, environment, network, "
     "isolation, limits, the command) and exit 0 without launching"},
    {"packed", "CELL", FlagKind::kPackedFile, "", "", kForCheckSpec,
     "read the spec embedded in a packed cell (see `cell help pack`), "
     "resolved as it would be if CELL ran here now"},
    {"output", "FILE", FlagKind::kOutput, "", "", kForPack,
     "where to write the cell (replaced atomically)"},
    {"unchecked-paths", "", FlagKind::kUncheckedPaths, "", "", kForPack,
     "do not require the host paths to exist now (they are checked "
     "whenever the cell runs); for packing on another machine than the one "
     "that runs the cell, e.g. in a Nix build"},
};

unsigned BitOf(Subcommand subcommand) {
  switch (subcommand) {
    case Subcommand::kRun:
      return kForRun;
    case Subcommand::kCheckSpec:
      return kForCheckSpec;
    case Subcommand::kPack:
      return kForPack;
  }
  return 0;
}

const char* SubcommandName(Subcommand subcommand) {
  switch (subcommand) {
    case Subcommand::kRun:
      return "run";
    case Subcommand::kCheckSpec:
      return "check-spec";
    case Subcommand::kPack:
      return "pack";
  }
  return "run";
}

const char* OwnerOf(const FlagDef& flag) {
  if (flag.subcommands & kForRun) return "cell run";
  if (flag.subcommands & kForCheckSpec) return "cell check-spec";
  return "cell pack";
}

bool TakesValue(const FlagDef& flag) {
  return flag.kind != FlagKind::kSwitchOn &&
         flag.kind != FlagKind::kSwitchOff &&
         flag.kind != FlagKind::kUncheckedPaths &&
         flag.kind != FlagKind::kDryRun;
}

// A value only with `=`: the flag alone means its default.
bool ValueIsOptional(const FlagDef& flag) {
  return flag.kind == FlagKind::kTlsRoots;
}

const FlagDef* FindFlag(absl::string_view name) {
  for (const FlagDef& flag : kFlagTable) {
    if (name == flag.name) return &flag;
  }
  return nullptr;
}

absl::Status UsageError(absl::string_view message) {
  return absl::InvalidArgumentError(message);
}

// A limit from a flag: a whole number, for sizes (`bytes`) optionally with
// a binary suffix K, M, G or T (512M = 512 MiB).
absl::StatusOr<uint64_t> ParseLimit(absl::string_view flag,
                                    absl::string_view text, bool bytes) {
  // Sizes as the spec reads them (ParseByteSize); counts without suffix.
  uint64_t count = 0;
  const std::optional<uint64_t> value =
      bytes ? ParseByteSize(text)
      : !text.empty() && text[0] != '-' && text[0] != '+' &&
              absl::SimpleAtoi(text, &count) && count <= (uint64_t{1} << 62)
          ? std::optional<uint64_t>(count)
          : std::nullopt;
  if (!value.has_value()) {
    return UsageError(absl::StrCat(
        "--", flag, ": '", text, "' is not a whole number",
        bytes ? " of bytes (suffixes K, M, G, T allowed, e.g. 512M)" : ""));
  }
  return *value;
}

Json MountFromFlag(absl::string_view type, absl::string_view value) {
  Json mount = {{"type", type}};
  const size_t colon = value.find(':');
  if (colon == absl::string_view::npos) {
    mount["src"] = std::string(value);
  } else {
    mount["src"] = std::string(value.substr(0, colon));
    mount["dst"] = std::string(value.substr(colon + 1));
  }
  return mount;
}

// The value of an rlimit flag, NAME=VALUE: sizes take K/M/G/T; counts
// (nofile, nproc, cpu seconds) do not.
absl::Status ApplyRlimit(absl::string_view value, Invocation* invocation) {
  const size_t eq = value.find('=');
  if (eq == absl::string_view::npos || eq == 0 || value.find('.') < eq) {
    return UsageError(absl::StrCat("--rlimit=", value,
                                   ": expected NAME=VALUE, e.g. nofile=1024"));
  }
  const std::string resource(value.substr(0, eq));
  const bool bytes = resource == "as" || resource == "core" ||
                     resource == "data" || resource == "fsize" ||
                     resource == "memlock" || resource == "msgqueue" ||
                     resource == "rss" || resource == "stack";
  CELL_ASSIGN_OR_RETURN(const uint64_t limit,
                        ParseLimit("rlimit", value.substr(eq + 1), bytes));
  invocation->overrides[absl::StrCat("limits.rlimits.", resource)] = limit;
  return absl::OkStatus();
}

// What one flag does to the invocation. `arg` is the flag as written.
absl::Status ApplyFlag(const FlagDef& flag, const std::string& arg,
                       const std::string& value, Invocation* invocation) {
  Json& overrides = invocation->overrides;
  switch (flag.kind) {
    case FlagKind::kSwitchOn:
    case FlagKind::kSwitchOff:
      overrides[flag.field] = flag.kind == FlagKind::kSwitchOn;
      return absl::OkStatus();
    case FlagKind::kText:
      overrides[flag.field] = value;
      return absl::OkStatus();
    case FlagKind::kChoice: {
      const std::vector<absl::string_view> choices =
          absl::StrSplit(flag.choices, '|');
      for (absl::string_view choice : choices) {
        if (value == choice) {
          overrides[flag.field] = value;
          return absl::OkStatus();
        }
      }
      return UsageError(absl::StrCat("--", flag.name, "=", value, ": expected ",
                                     absl::StrJoin(choices, " or ")));
    }
    case FlagKind::kBytes:
    case FlagKind::kCount: {
      CELL_ASSIGN_OR_RETURN(
          const uint64_t limit,
          ParseLimit(flag.name, value, flag.kind == FlagKind::kBytes));
      overrides[flag.field] = limit;
      return absl::OkStatus();
    }
    case FlagKind::kRlimit:
      return ApplyRlimit(value, invocation);
    case FlagKind::kMount:
      invocation->appended_mounts.emplace_back(arg,
                                               MountFromFlag(flag.name, value));
      return absl::OkStatus();
    case FlagKind::kMountAt:
      invocation->appended_mounts.emplace_back(
          arg, Json{{"type", flag.name}, {"dst", value}});
      return absl::OkStatus();
    case FlagKind::kSymlinkAt: {
      const size_t colon = value.find(':');
      if (colon == std::string::npos || colon == 0 ||
          colon + 1 == value.size()) {
        return UsageError(absl::StrCat(
            "--symlink=", value,
            ": expected TARGET:DST, e.g. --symlink=/usr/bin/python3:/bin/py"));
      }
      invocation->appended_mounts.emplace_back(
          arg, Json{{"type", "symlink"},
                    {"src", value.substr(0, colon)},
                    {"dst", value.substr(colon + 1)}});
      return absl::OkStatus();
    }
    case FlagKind::kPreset:
      invocation->presets.push_back(value);
      return absl::OkStatus();
    case FlagKind::kTlsRoots:
      overrides[flag.field] =
          value.empty() ? std::string(kHostTlsRoots) : value;
      return absl::OkStatus();
    case FlagKind::kDryRun:
      invocation->dry_run = true;
      return absl::OkStatus();
    case FlagKind::kEnv: {
      const size_t eq = value.find('=');
      if (eq == 0 || value.empty()) {
        return UsageError(
            absl::StrCat("--env=", value,
                         ": expected NAME=VALUE, or NAME for its value "
                         "here"));
      }
      if (eq == std::string::npos) {
        // As docker's and podman's -e NAME: this environment's value.
        const char* here = std::getenv(value.c_str());
        if (here == nullptr) {
          return UsageError(absl::StrCat(
              "--env=", value, ": ", value,
              " is not set in this environment; give --env=", value, "=VALUE"));
        }
        invocation->env.emplace_back(value, here);
        return absl::OkStatus();
      }
      invocation->env.emplace_back(value.substr(0, eq), value.substr(eq + 1));
      return absl::OkStatus();
    }
    case FlagKind::kProtect:
      invocation->protect.push_back(value);
      return absl::OkStatus();
    case FlagKind::kSpecFile:
      invocation->spec_file = value;
      return absl::OkStatus();
    case FlagKind::kPackedFile:
      invocation->packed_file = value;
      return absl::OkStatus();
    case FlagKind::kStatusFile:
      invocation->status_file = value;
      return absl::OkStatus();
    case FlagKind::kOutput:
      invocation->output = value;
      return absl::OkStatus();
    case FlagKind::kUncheckedPaths:
      invocation->unchecked_paths = true;
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

// One usage line per flag: the flag and its value, then the help wrapped
// at 78 columns from column 28, then the spec field it sets.
std::string FlagLine(const FlagDef& flag) {
  std::string left = absl::StrCat("  --", flag.name);
  if (flag.kind == FlagKind::kChoice) {
    absl::StrAppend(&left, "=", flag.choices);
  } else if (ValueIsOptional(flag)) {
    absl::StrAppend(&left, flag.value_name);
  } else if (*flag.value_name != '\0') {
    absl::StrAppend(&left, "=", flag.value_name);
  }
  std::string text = flag.help;
  if (*flag.field != '\0') absl::StrAppend(&text, " [", flag.field, "]");
  constexpr size_t kColumn = 28;
  constexpr size_t kWidth = 78;
  std::string out = left;
  size_t column = left.size();
  if (column + 2 > kColumn) {
    out += "\n";
    column = 0;
  }
  bool first = true;
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (first || column + 1 + word.size() > kWidth) {
      if (!first) out += "\n";
      out.append(kColumn - (first ? column : 0), ' ');
      column = kColumn;
    } else {
      out += " ";
      ++column;
    }
    absl::StrAppend(&out, word);
    column += word.size();
    first = false;
  }
  return out + "\n";
}

}  // namespace

absl::Span<const FlagDef> Flags() { return kFlagTable; }

std::string NearestName(absl::string_view name,
                        const std::vector<std::string>& candidates) {
  // An unambiguous start of a name ("--work" for "--worktree").
  std::vector<std::string> starting;
  for (const std::string& candidate : candidates) {
    if (name.size() >= 3 && absl::StartsWith(candidate, name)) {
      starting.push_back(candidate);
    }
  }
  if (starting.size() == 1) return starting.front();
  std::string best;
  size_t best_distance = 0;
  for (const std::string& candidate : candidates) {
    const size_t distance = EditDistance(name, candidate);
    if (best.empty() || distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  // A typo: a third of the name at most, and never a different word
  // ("--foo" is not "--dir").
  const bool near = !best.empty() && best_distance > 0 &&
                    best_distance <= std::max<size_t>(1, name.size() / 3);
  return near ? best : "";
}

absl::StatusOr<Invocation> ParseFlags(const std::vector<std::string>& args,
                                      Subcommand subcommand) {
  Invocation invocation;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      if (subcommand != Subcommand::kRun) {
        return UsageError("unexpected `--`: no command here");
      }
      invocation.command.assign(args.begin() + i + 1, args.end());
      break;
    }
    if (arg == "--help" || arg == "-h") {
      invocation.help = true;
      continue;
    }
    if (!absl::StartsWith(arg, "--")) {
      return UsageError(absl::StrCat(
          "unexpected argument '", arg,
          "'; put the command after `--`, e.g. cell run --worktree=. -- ",
          arg));
    }
    const size_t equals = arg.find('=');
    const std::string name = arg.substr(
        2, equals == std::string::npos ? std::string::npos : equals - 2);
    const FlagDef* flag = FindFlag(name);
    if (flag == nullptr) {
      std::vector<std::string> names;
      for (const FlagDef& known : kFlagTable) {
        if ((known.subcommands & BitOf(subcommand)) != 0) {
          names.emplace_back(known.name);
        }
      }
      const std::string nearest = NearestName(name, names);
      return UsageError(absl::StrCat(
          "unknown flag --", name,
          nearest.empty() ? ""
                          : absl::StrCat("; did you mean --", nearest, "?"),
          " (see 'cell help ", SubcommandName(subcommand), "')"));
    }
    if ((flag->subcommands & BitOf(subcommand)) == 0) {
      return UsageError(absl::StrCat("--", name, " is an option of `",
                                     OwnerOf(*flag), "` only"));
    }
    std::string value;
    if (ValueIsOptional(*flag)) {
      if (equals != std::string::npos) {
        value = arg.substr(equals + 1);
        if (value.empty()) {
          return UsageError(absl::StrCat("--", name,
                                         "= needs a value, or "
                                         "give --",
                                         name, " alone"));
        }
      }
    } else if (!TakesValue(*flag)) {
      if (equals != std::string::npos) {
        return UsageError(absl::StrCat("--", name, " takes no value"));
      }
    } else if (equals != std::string::npos) {
      value = arg.substr(equals + 1);
    } else if (i + 1 < args.size() && args[i + 1] != "--") {
      value = args[++i];
    } else {
      return UsageError(absl::StrCat("--", name, " needs a value"));
    }
    CELL_RETURN_IF_ERROR(ApplyFlag(*flag, arg, value, &invocation));
  }
  return invocation;
}

void ApplyOverrides(const Invocation& invocation, Json* spec) {
  for (const auto& [field, value] : invocation.overrides.items()) {
    Json* parent = spec;
    std::vector<std::string> path = absl::StrSplit(field, '.');
    for (size_t i = 0; i + 1 < path.size(); ++i) {
      Json& next = (*parent)[path[i]];
      if (!next.is_object()) next = Json::object();
      parent = &next;
    }
    (*parent)[path.back()] = value;
  }
  if (!invocation.appended_mounts.empty()) {
    Json& mounts = (*spec)["mounts"];
    if (mounts.is_null()) mounts = Json::array();
    for (const auto& [flag, mount] : invocation.appended_mounts) {
      if (mounts.is_array()) mounts.push_back(mount);
    }
  }
  if (!invocation.presets.empty()) {
    Json& presets = (*spec)["presets"];
    if (presets.is_null()) presets = Json::array();
    if (presets.is_string()) presets = Json::array({presets});
    for (const std::string& name : invocation.presets) {
      if (presets.is_array()) presets.push_back(name);
    }
  }
  if (!invocation.protect.empty()) {
    Json& protect = (*spec)["protect"];
    if (protect.is_null()) protect = Json::array();
    for (const std::string& path : invocation.protect) {
      if (protect.is_array()) protect.push_back(path);
    }
  }
  if (!invocation.env.empty()) {
    Json& env = (*spec)["env"];
    if (env.is_null()) env = Json::object();
    for (const auto& [name, value] : invocation.env) {
      if (env.is_object()) env[name] = value;
    }
  }
}

std::string OverrideHelp() {
  std::string out;
  for (const FlagDef& flag : kFlagTable) {
    if (*flag.field != '\0') out += FlagLine(flag);
  }
  return out;
}

std::string OwnFlagHelp(Subcommand subcommand) {
  std::string out;
  for (const FlagDef& flag : kFlagTable) {
    if (*flag.field == '\0' && (flag.subcommands & BitOf(subcommand)) != 0) {
      out += FlagLine(flag);
    }
  }
  return out;
}

}  // namespace cell
