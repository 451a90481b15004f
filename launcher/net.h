// Network namespace setup.
#ifndef CELL_LAUNCHER_NET_H_
#define CELL_LAUNCHER_NET_H_

#include <netinet/in.h>

namespace cell {

// 127.0.0.1:`port` (0: any free port when bound).
sockaddr_in LoopbackAddress(int port);

// Child side: brings up `lo` in the cell's fresh network namespace (it
// starts down). No other interface exists, so there is no route out.
// Returns 0 or errno.
int BringUpLoopback();

// Child side: creates the proxy listener on 127.0.0.1:`port` in the cell's
// network namespace and sends it over the Unix socket `channel` (then
// closes both), so that the launcher can accept() from the host side.
// Returns 0 or errno.
int SendProxyListener(int channel, int port);

// Parent side: receives the listener sent by SendProxyListener. Returns -1
// with errno 0 when the child closed the channel without sending (it failed
// and says why on its failure pipe).
int ReceiveProxyListener(int channel);

}  // namespace cell

#endif  // CELL_LAUNCHER_NET_H_
