// 127.0.0.1 sockets: the address, and a listener on a free port. Used on the
// host side by the proxy engines, cell-verify's canary and the tests.
#ifndef CELL_BASE_LOOPBACK_H_
#define CELL_BASE_LOOPBACK_H_

#include <netinet/in.h>

#include <utility>

#include "absl/status/statusor.h"

namespace cell {

// 127.0.0.1:`port` (0: any free port when bound).
sockaddr_in LoopbackAddress(int port);

// A listening TCP socket (close-on-exec) on a free port of 127.0.0.1, and
// that port. The caller closes the fd.
absl::StatusOr<std::pair<int, int>> ListenOnLoopback(int backlog);

}  // namespace cell

#endif  // CELL_BASE_LOOPBACK_H_
