#include "launcher/spec/presets.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/fs_util.h"

namespace cell {
namespace {

bool Overlaps(absl::string_view a, absl::string_view b) {
  return PathIsSameOrUnder(a, b) || PathIsSameOrUnder(b, a);
}

}  // namespace

const std::vector<Preset>& Presets() {
  static const auto* presets = new std::vector<Preset>{
      {"host",
       "the distribution's userland (Debian, Ubuntu, Fedora, Arch...): "
       "programs, libraries, the loader cache, TLS certificates, the time "
       "zone",
       {// Programs and libraries; on merged-/usr systems the top-level
        // ones are links into /usr and stay links.
        "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
        // Debian's alternatives (cc, awk, vi, editor are links there).
        "/etc/alternatives",
        // The dynamic loader's cache and configuration.
        "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
        // TLS: the CA certificates and OpenSSL's configuration, not the
        // private keys beside them (/etc/ssl/private, /etc/pki/tls/private).
        "/etc/ssl/certs", "/etc/ssl/openssl.cnf", "/etc/ssl/cert.pem",
        "/etc/ca-certificates", "/etc/pki/ca-trust", "/etc/pki/tls/certs",
        "/etc/pki/tls/cert.pem", "/etc/pki/tls/openssl.cnf",
        // Time zone, and what tools read to know the system.
        "/etc/localtime", "/etc/timezone", "/etc/os-release",
        "/etc/debian_version", "/etc/mime.types", "/etc/protocols",
        "/etc/services"},
       {"/usr/local/bin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/sbin",
        "/sbin"},
       false},
      {"nix",
       "a Nix-only host's userland (NixOS, or Nix on another system): the "
       "system profile and the default profile, /bin/sh and /usr/bin/env, "
       "TLS certificates, the time zone; their links point into the bound "
       "store",
       {"/run/current-system", "/nix/var/nix/profiles", "/etc/profiles",
        "/etc/static", "/etc/ssl/certs", "/etc/pki/tls/certs", "/etc/localtime",
        "/etc/zoneinfo", "/etc/os-release", "/bin/sh", "/usr/bin/env"},
       {"/run/current-system/sw/bin", "/nix/var/nix/profiles/default/bin",
        "/usr/bin", "/bin"},
       true},
  };
  return *presets;
}

std::vector<MountSpec> ExpandPresets(const std::vector<std::string>& names,
                                     absl::string_view host_root,
                                     const std::vector<std::string>& taken) {
  std::vector<MountSpec> mounts;
  std::vector<std::string> used = taken;
  for (const std::string& name : names) {
    for (const Preset& preset : Presets()) {
      if (name != preset.name) continue;
      for (const char* path : preset.paths) {
        if (std::any_of(used.begin(), used.end(),
                        [path](const std::string& dst) {
                          return Overlaps(path, dst);
                        })) {
          continue;
        }
        const std::string host = absl::StrCat(host_root, path);
        struct stat info;
        if (lstat(host.c_str(), &info) != 0) continue;
        MountSpec mount;
        mount.dst = path;
        if (S_ISLNK(info.st_mode)) {
          char target[PATH_MAX];
          const ssize_t n = readlink(host.c_str(), target, sizeof(target) - 1);
          if (n <= 0) continue;
          mount.type = MountType::kSymlink;
          mount.src.assign(target, static_cast<size_t>(n));
        } else {
          mount.type = MountType::kRoBind;
          mount.src = host;
          // Gone by the time the cell starts: skipped, not an error.
          mount.optional = true;
        }
        used.push_back(mount.dst);
        mounts.push_back(std::move(mount));
      }
    }
  }
  return mounts;
}

std::vector<std::string> PresetPathDirs(const std::vector<std::string>& names) {
  std::vector<std::string> dirs;
  for (const std::string& name : names) {
    for (const Preset& preset : Presets()) {
      if (name != preset.name) continue;
      for (const char* dir : preset.path_dirs) {
        if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) {
          dirs.emplace_back(dir);
        }
      }
    }
  }
  return dirs;
}

std::string PresetHelp() {
  std::string out =
      "Presets (--preset=NAME, spec \"presets\": [\"NAME\"]) bind a host's "
      "system\npaths read-only at the same path, only those that exist; a "
      "symlink stays a\nsymlink to the same target. A mount of the spec's "
      "own at, above or beneath\none of them wins over it. `cell check-spec "
      "--preset=NAME` shows the result.\n";
  for (const Preset& preset : Presets()) {
    absl::StrAppend(&out, "\n", preset.name, ": ", preset.summary, ".\n");
    absl::StrAppend(&out, "  binds:  ", absl::StrJoin(preset.paths, " "), "\n");
    absl::StrAppend(&out, "  PATH:   ", absl::StrJoin(preset.path_dirs, ":"),
                    " (after the store's nix and coreutils; unless the spec "
                    "sets `path`)\n");
    if (preset.needs_nix) {
      absl::StrAppend(&out, "  needs:  the Nix store (\"nix\": true)\n");
    }
  }
  return out;
}

}  // namespace cell
