// Network namespace setup.
#ifndef CELL_LAUNCHER_NET_H_
#define CELL_LAUNCHER_NET_H_

namespace cell {

// Child side: brings up `lo` in the cell's fresh network namespace (it
// starts down). No other interface exists, so there is no route out.
// Returns 0 or errno.
int BringUpLoopback();

}  // namespace cell

#endif  // CELL_LAUNCHER_NET_H_
