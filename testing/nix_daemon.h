// A real nix-daemon (Debian's nix-bin) serving a private store, for tests:
// store in `dir`/store, state, logs and config beside it, socket at
// `dir`/daemon/socket. Needs root (the daemon's own requirement).
#ifndef CELL_TESTING_NIX_DAEMON_H_
#define CELL_TESTING_NIX_DAEMON_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/subprocess.h"

namespace cell::testing {

class NixDaemon {
 public:
  // `trusted_users` is the daemon's `trusted-users` line: a daemon that
  // trusts every user ("*") stands for a site configuration the launcher
  // does not read (its own is /etc/nix/nix.conf or $NIX_CONF_DIR's).
  static absl::StatusOr<std::unique_ptr<NixDaemon>> Start(
      const std::string& dir, absl::string_view trusted_users = "root");
  ~NixDaemon();

  const std::string& store_dir() const { return store_dir_; }
  const std::string& socket_dir() const { return socket_dir_; }
  // What the daemon logged so far ("accepted connection from pid N, user
  // NAME (trusted)" per client, ...).
  std::string LogText() const;

 private:
  NixDaemon(Subprocess process, std::string store_dir, std::string socket_dir,
            std::string log)
      : process_(std::move(process)),
        store_dir_(std::move(store_dir)),
        socket_dir_(std::move(socket_dir)),
        log_(std::move(log)) {}
  Subprocess process_;
  std::string store_dir_;
  std::string socket_dir_;
  std::string log_;
};

}  // namespace cell::testing

#endif  // CELL_TESTING_NIX_DAEMON_H_
