#include "testing/nix_daemon.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "testing/temp_dir.h"

namespace cell::testing {
namespace {

bool Connectable(const std::string& socket_path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, socket_path.c_str(),
               sizeof(address.sun_path) - 1);
  const bool ok =
      connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  close(fd);
  return ok;
}

}  // namespace

absl::StatusOr<std::unique_ptr<NixDaemon>> NixDaemon::Start(
    const std::string& dir, absl::string_view trusted_users) {
  const std::string store = dir + "/store";
  const std::string socket_dir = dir + "/daemon";
  const std::string socket_path = socket_dir + "/socket";
  mkdir(dir.c_str(), 0755);  // It may exist already.
  for (const std::string& sub : {store, socket_dir, dir + "/nix-state",
                                 dir + "/nix-log", dir + "/nix-conf"}) {
    mkdir(sub.c_str(), 0755);  // Some may exist already.
  }
  unlink(socket_path.c_str());
  // Builds as root without build users, and no binary cache (no network
  // here): what a daemon on a private store can do in a test. Trusted
  // users stated (root by default).
  std::ofstream(dir + "/nix-conf/nix.conf")
      << "build-users-group =\nsubstituters =\nsandbox = false\n"
         "trusted-users = "
      << trusted_users << "\n";
  SubprocessOptions options;
  options.env = std::vector<std::string>{
      "PATH=/usr/bin:/bin:/usr/sbin:/sbin",
      absl::StrCat("NIX_STORE_DIR=", store),
      absl::StrCat("NIX_STATE_DIR=", dir, "/nix-state"),
      absl::StrCat("NIX_LOG_DIR=", dir, "/nix-log"),
      absl::StrCat("NIX_CONF_DIR=", dir, "/nix-conf"),
      absl::StrCat("NIX_DAEMON_SOCKET_PATH=", socket_path)};
  options.timeout = absl::Hours(1);
  // Its log to a file the test may read while it runs.
  const std::string log = dir + "/daemon.log";
  absl::StatusOr<Subprocess> process = Subprocess::Start(
      {"/bin/sh", "-c", "exec nix-daemon >\"$0\" 2>&1", log}, options);
  if (!process.ok()) return process.status();
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (!Connectable(socket_path)) {
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "nix-daemon did not listen on ", socket_path,
          " within 20 s; is nix-bin installed (./setup.sh) and are we root?"));
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  chmod(socket_path.c_str(), 0666);
  return std::unique_ptr<NixDaemon>(
      new NixDaemon(*std::move(process), store, socket_dir, log));
}

std::string NixDaemon::LogText() const { return ReadHostFile(log_); }

NixDaemon::~NixDaemon() {
  kill(process_.pid(), SIGTERM);
  (void)process_.Wait();
}

}  // namespace cell::testing
