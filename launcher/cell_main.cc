// `cell`: the launcher's command line. Flags live only here; everything else
// is in libraries that return absl::Status.
#include <cstdio>
#include <cstring>
#include <string>

#include "absl/strings/string_view.h"

namespace {

constexpr char kUsage[] = R"(cell - run a command in a sandbox cell

Usage:
  cell run [--spec=FILE] [OVERRIDES] [-- COMMAND [ARG...]]
  cell check-spec --spec=FILE
  cell pack --spec=FILE --output=FILE
  cell help [COMMAND]

A cell is a command packaged with its jail: new user (ids mapped 1:1, all
capabilities inside), mount and network namespaces; only explicitly bound
paths exist inside; the network is reachable only through an HTTP proxy on
the host that applies a domain filter. The host's PID and IPC namespaces are
shared unless the spec's `isolation` asks otherwise.

Commands:
  run         launch the command inside a cell; exits with the command's status
  check-spec  validate a spec and print it fully resolved, as JSON
  pack        write a self-contained executable with the spec baked in

Exit status of `cell run`: the command's own; 128+N if it died of signal N;
125 if the launcher failed before the command started (one line on stderr
names the field or path and the fix); 126 command not executable; 127
command not found inside the cell.

Run `cell help run` for the overrides.
)";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const absl::string_view command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  std::fprintf(stderr,
               "cell: unknown command '%s'; expected run, check-spec or pack "
               "(see 'cell --help')\n",
               argv[1]);
  return 2;
}
