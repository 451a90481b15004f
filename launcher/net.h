// Network namespace setup.
#ifndef CELL_LAUNCHER_NET_H_
#define CELL_LAUNCHER_NET_H_

#include <netinet/in.h>

#include <utility>

#include "absl/status/statusor.h"

namespace cell {

// 127.0.0.1:`port` (0: any free port when bound).
sockaddr_in LoopbackAddress(int port);

// Host side: a listening TCP socket (close-on-exec) on a free port of
// 127.0.0.1, and that port. The caller closes the fd.
absl::StatusOr<std::pair<int, int>> ListenOnLoopback(int backlog);

// Child side: brings up `lo` in the cell's fresh network namespace (it
// starts down). No other interface exists, so there is no route out.
// Returns 0 or errno.
int BringUpLoopback();

// Child side: creates the proxy listener on 127.0.0.1:`port` in the cell's
// network namespace and sends it over the Unix socket `channel` (then
// closes both), so that the launcher can accept() from the host side
// (it receives it with ReceiveFd).
// Returns 0 or errno.
int SendProxyListener(int channel, int port);

}  // namespace cell

#endif  // CELL_LAUNCHER_NET_H_
