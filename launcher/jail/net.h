// Network namespace setup, child side.
#ifndef CELL_LAUNCHER_JAIL_NET_H_
#define CELL_LAUNCHER_JAIL_NET_H_

namespace cell {

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

#endif  // CELL_LAUNCHER_JAIL_NET_H_
