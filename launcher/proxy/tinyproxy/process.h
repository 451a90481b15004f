// The proxy engine on the host side of a cell (tinyproxy for now): one per
// run, its config, filter, pid and logs in $JD (logs in logDir when set),
// listening on a free port of the host's 127.0.0.1. It dies with the
// launcher (PR_SET_PDEATHSIG) and is stopped and reaped on every exit path.
#ifndef CELL_LAUNCHER_PROXY_TINYPROXY_PROCESS_H_
#define CELL_LAUNCHER_PROXY_TINYPROXY_PROCESS_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cell {

struct TinyproxyPaths {
  std::string config;
  std::string filter;
  std::string log;
  std::string pid;
};

// The tinyproxy configuration (pure): listen on 127.0.0.1:`port`, default
// deny, the filter as case-insensitive extended regexes matched against the
// host only, no Via header, no ConnectPort restriction (any port may be
// tunnelled; the filter decides by host).
std::string TinyproxyConfig(int port, const TinyproxyPaths& paths);

class TinyproxyProcess {
 public:
  // Writes config and filter (`filter_text`) into `jd_dir`, starts
  // tinyproxy and returns once it accepts connections. The log goes to
  // `log_dir`/tinyproxy.log when set. Errors quote tinyproxy's own words.
  // `cell_writable`: host directories the cell may write; a tinyproxy
  // found in one of them is refused.
  static absl::StatusOr<TinyproxyProcess> Start(
      const std::string& jd_dir, absl::string_view filter_text,
      const std::optional<std::string>& log_dir,
      const std::vector<std::string>& cell_writable);

  TinyproxyProcess(TinyproxyProcess&& other) noexcept;
  TinyproxyProcess& operator=(TinyproxyProcess&&) = delete;
  ~TinyproxyProcess();  // Stop().

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // The process's pidfd: readable once it has exited.
  int pidfd() const { return pidfd_; }

  // SIGTERM, then SIGKILL if it lingers; always reaps. Idempotent.
  void Stop();

 private:
  TinyproxyProcess(pid_t pid, int pidfd, int port)
      : pid_(pid), pidfd_(pidfd), port_(port) {}
  pid_t pid_ = -1;
  int pidfd_ = -1;
  int port_ = 0;
};

// Where tinyproxy is: $CELL_TINYPROXY, else the first `tinyproxy` in an
// absolute PATH entry, /usr/bin or /usr/sbin; refused when it lies in one
// of `cell_writable`.
absl::StatusOr<std::string> FindTinyproxy(
    const std::vector<std::string>& cell_writable);

}  // namespace cell

#endif  // CELL_LAUNCHER_PROXY_TINYPROXY_PROCESS_H_
