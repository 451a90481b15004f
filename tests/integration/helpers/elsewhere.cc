// Runs a command on "another machine" as far as a static binary can tell:
// in a new mount namespace whose /etc is the directory given (no
// nsswitch.conf, no glibc NSS configuration), with the host's library
// directories covered by empty read-only tmpfs mounts (no libc.so, no
// libnss_*.so: nothing a static glibc could dlopen). Static itself, since
// nothing dynamic runs once the libraries are gone.
//
//   elsewhere --etc=DIR [--hide=DIR]... [--bind=SRC:DST]... [--uid=N --gid=N]
//             [--cwd=DIR] -- COMMAND [ARG]...
//
// Root only (it mounts). --bind mounts SRC over DST after the --hide
// covers: a library directory of that machine's own. Without --bind it
// checks, before the command, that what it hid is gone: no libc.so.6 and no
// libnss_*.so.2 of glibc in any usual library directory, no
// /etc/nsswitch.conf; exit 3 naming what is still there. --uid/--gid: the
// command runs as that user (groups cleared).
#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

bool TakeValue(const std::string& arg, const char* flag, std::string* value) {
  const std::string prefix = std::string(flag) + "=";
  if (arg.rfind(prefix, 0) != 0) return false;
  *value = arg.substr(prefix.size());
  return true;
}

int Fail(const char* what, const std::string& path) {
  std::fprintf(stderr, "elsewhere: %s %s: %s\n", what, path.c_str(),
               std::strerror(errno));
  return 2;
}

bool Exists(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string etc, cwd;
  std::vector<std::string> hide, binds;
  long uid = -1, gid = -1;
  int i = 1;
  for (; i < argc; ++i) {
    const std::string arg = argv[i];
    std::string value;
    if (arg == "--") {
      ++i;
      break;
    } else if (TakeValue(arg, "--etc", &value)) {
      etc = value;
    } else if (TakeValue(arg, "--hide", &value)) {
      hide.push_back(value);
    } else if (TakeValue(arg, "--bind", &value)) {
      binds.push_back(value);
    } else if (TakeValue(arg, "--cwd", &value)) {
      cwd = value;
    } else if (TakeValue(arg, "--uid", &value)) {
      uid = std::atol(value.c_str());
    } else if (TakeValue(arg, "--gid", &value)) {
      gid = std::atol(value.c_str());
    } else {
      std::fprintf(stderr, "elsewhere: unknown argument %s\n", arg.c_str());
      return 2;
    }
  }
  if (etc.empty() || i >= argc) {
    std::fprintf(stderr, "usage: elsewhere --etc=DIR [--hide=DIR]... -- CMD\n");
    return 2;
  }
  if (unshare(CLONE_NEWNS) != 0) return Fail("unshare", "CLONE_NEWNS");
  // Nothing below reaches the host's mount namespace.
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return Fail("make private", "/");
  }
  if (mount(etc.c_str(), "/etc", nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    return Fail("bind over /etc", etc);
  }
  for (const std::string& dir : hide) {
    if (!Exists(dir)) continue;
    if (mount("elsewhere", dir.c_str(), "tmpfs", MS_RDONLY | MS_NOSUID,
              "size=4k,mode=755") != 0) {
      return Fail("cover", dir);
    }
  }
  for (const std::string& bind : binds) {
    const size_t colon = bind.find(':');
    const std::string from = bind.substr(0, colon);
    const std::string to = colon == std::string::npos ? "" : bind.substr(colon + 1);
    if (mount(from.c_str(), to.c_str(), nullptr, MS_BIND, nullptr) != 0) {
      return Fail("bind", bind);
    }
  }
  std::vector<std::string> left;
  if (binds.empty() && Exists("/etc/nsswitch.conf")) {
    left.push_back("/etc/nsswitch.conf");
  }
  for (const char* dir :
       {"/lib", "/lib64", "/usr/lib", "/usr/lib64", "/lib/x86_64-linux-gnu",
        "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu", "/usr/local/lib"}) {
    for (const char* library : {"libc.so.6", "libnss_files.so.2",
                                "libnss_dns.so.2"}) {
      const std::string path = std::string(dir) + "/" + library;
      if (binds.empty() && Exists(path)) left.push_back(path);
    }
  }
  if (!left.empty()) {
    for (const std::string& path : left) {
      std::fprintf(stderr, "elsewhere: still visible: %s\n", path.c_str());
    }
    return 3;
  }
  if (gid >= 0 && (setgroups(0, nullptr) != 0 ||
                   setresgid(static_cast<gid_t>(gid), static_cast<gid_t>(gid),
                             static_cast<gid_t>(gid)) != 0)) {
    return Fail("setresgid", std::to_string(gid));
  }
  if (uid >= 0 && setresuid(static_cast<uid_t>(uid), static_cast<uid_t>(uid),
                            static_cast<uid_t>(uid)) != 0) {
    return Fail("setresuid", std::to_string(uid));
  }
  if (!cwd.empty() && chdir(cwd.c_str()) != 0) return Fail("chdir", cwd);
  execv(argv[i], argv + i);
  return Fail("exec", argv[i]);
}
