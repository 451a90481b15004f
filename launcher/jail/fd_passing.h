// Passing one descriptor over a Unix socket (SCM_RIGHTS): how the child
// hands the launcher what it can only make inside the cell (the proxy
// listener in the cell's network namespace, the pty master of the cell's
// devpts). Both sides: syscalls only, no allocation.
#ifndef CELL_LAUNCHER_JAIL_FD_PASSING_H_
#define CELL_LAUNCHER_JAIL_FD_PASSING_H_

namespace cell {

// Sends `fd` over `channel` with a one-byte message. Returns 0 or errno.
int SendFd(int channel, int fd);

// Receives a descriptor sent by SendFd (close-on-exec). Returns it, or -1
// with errno 0 when the peer closed the channel without sending (the child
// failed, and says why on its failure pipe), or another errno.
int ReceiveFd(int channel);

}  // namespace cell

#endif  // CELL_LAUNCHER_JAIL_FD_PASSING_H_
