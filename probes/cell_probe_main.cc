// cell-probe: run inside a cell, print facts. Statically linked so that a
// cell needs nothing but the binary bound in (e.g. at /run/cell/probes).
//
//   cell-probe all|NAME... [--connect=HOST:PORT]... [--get=HOST:PORT@HOST]...
//              [--host-pid=PID]
//              [--direct=HOST:PORT] [--proc=DIR] [--fork-max=N]
//              [--alloc-mib=N] [--caller-tty=DEV:INO] [--try-write=PATH]...
//              [--abstract-canary=NAME] [--wait-for=PATH] [--worktree=PATH]
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "probes/probes.h"

namespace {

constexpr char kUsage[] =
    "Usage: cell-probe all|NAME... [--connect=HOST:PORT]... [--host-pid=PID]\n"
    "                  [--get=HOST:PORT@HOST-HEADER]...\n"
    "                  [--direct=HOST:PORT] [--proc=DIR] [--worktree=PATH]\n"
    "                  [--fork-max=N] [--alloc-mib=N] [--caller-tty=DEV:INO]\n"
    "--fork-max and --alloc-mib make the limits probe test the cell's\n"
    "cgroup: fork up to N waiting children; touch up to N MiB in a child.\n"
    "--caller-tty names the terminal the cell was started under (st_dev and\n"
    "st_ino of its slave, as cell-verify's own pty): the terminal probe tries\n"
    "TIOCSTI on fd 0 and /dev/tty only with it.\n"
    "--try-write names a path that must not be writable in the cell: the fs\n"
    "probe opens it for writing (nothing is written) or, for a directory,\n"
    "creates and removes a file in it.\n"
    "--abstract-canary names a host abstract socket a connect must not reach.\n"
    "--connect asks the cell's proxy for a CONNECT; --get for a plain GET of\n"
    "http://HOST:PORT/ sent with another Host header: the status and, when\n"
    "one came, the response body are facts.\n"
    "--worktree names the agent's working directory inside (default\n"
    "/home/cell/worktree; another sandbox shows it where it likes).\n"
    "--host-ancestors=DEV:INO,... names the host directories above the\n"
    "worktree: the fs probe judges which renames would show on the host.\n"
    "--wait-for makes the probe wait (at most 5 s) until PATH exists before\n"
    "it opens anything: cell-verify inspects it from the host meanwhile.\n"
    "Prints one JSON line per probe: {\"probe\": NAME, \"facts\": {...}}.\n"
    "Facts, never verdicts: cell-verify judges them.\n"
    "Probes:";

bool TakeValue(const std::string& arg, const char* flag, std::string* value) {
  const std::string prefix = std::string(flag) + "=";
  if (arg.rfind(prefix, 0) != 0) return false;
  *value = arg.substr(prefix.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  using cell::probes::AllProbes;
  cell::probes::ProbeOptions options;
  std::vector<std::string> names;
  std::string wait_for;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    std::string value;
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      for (const auto& [name, unused] : AllProbes()) {
        std::printf(" %s", name.c_str());
      }
      std::printf("\n");
      return 0;
    } else if (TakeValue(arg, "--connect", &value)) {
      options.connect_targets.push_back(value);
    } else if (TakeValue(arg, "--get", &value)) {
      options.get_targets.push_back(value);
    } else if (TakeValue(arg, "--host-pid", &value)) {
      options.host_pid = std::atoi(value.c_str());
    } else if (TakeValue(arg, "--caller-tty", &value)) {
      options.caller_tty = value;
    } else if (TakeValue(arg, "--try-write", &value)) {
      options.try_write.push_back(value);
    } else if (TakeValue(arg, "--abstract-canary", &value)) {
      options.abstract_canary = value;
    } else if (TakeValue(arg, "--wait-for", &value)) {
      wait_for = value;
    } else if (TakeValue(arg, "--fork-max", &value)) {
      options.fork_max = std::atoi(value.c_str());
    } else if (TakeValue(arg, "--alloc-mib", &value)) {
      options.alloc_mib = std::atoi(value.c_str());
    } else if (TakeValue(arg, "--direct", &value)) {
      options.direct_target = value;
    } else if (TakeValue(arg, "--proc", &value)) {
      options.proc_root = value;
    } else if (TakeValue(arg, "--worktree", &value)) {
      options.worktree = value;
    } else if (TakeValue(arg, "--host-ancestors", &value)) {
      for (size_t start = 0; start <= value.size();) {
        const size_t comma = value.find(',', start);
        const size_t end = comma == std::string::npos ? value.size() : comma;
        if (end > start) {
          options.host_ancestors.push_back(value.substr(start, end - start));
        }
        start = end + 1;
      }
    } else if (arg.rfind("--", 0) == 0) {
      std::fprintf(stderr, "cell-probe: unknown flag %s (see --help)\n",
                   arg.c_str());
      return 2;
    } else {
      names.push_back(arg);
    }
  }
  if (names.empty()) {
    std::fprintf(stderr, "cell-probe: name a probe or `all` (see --help)\n");
    return 2;
  }
  // Before anything opens a descriptor: cell-verify looks at this process
  // from the host (its descriptors, cwd and root, as the exec left them)
  // and then creates `wait_for`. At most 5 s.
  if (!wait_for.empty()) {
    struct stat info;
    for (int i = 0; i < 2500 && stat(wait_for.c_str(), &info) != 0; ++i) {
      usleep(2000);
    }
  }
  for (const std::string& name : names) {
    bool found = false;
    for (const auto& [probe, function] : AllProbes()) {
      if (name != "all" && name != probe) continue;
      found = true;
      std::printf(
          "%s\n",
          cell::probes::FormatProbeLine(probe, function(options)).c_str());
      std::fflush(stdout);
    }
    if (!found) {
      std::fprintf(stderr, "cell-probe: unknown probe '%s' (see --help)\n",
                   name.c_str());
      return 2;
    }
  }
  return 0;
}
