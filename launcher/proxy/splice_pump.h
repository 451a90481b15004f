// One direction of a relayed TCP connection: bytes read from `from` wait in
// a pipe until `to` takes them, moved with splice(2) and never copied to
// user space. Used by the relay (to tinyproxy) and by the builtin engine's
// tunnels. Host side, after the clone.
#ifndef CELL_LAUNCHER_PROXY_SPLICE_PUMP_H_
#define CELL_LAUNCHER_PROXY_SPLICE_PUMP_H_

#include <cstddef>
#include <cstdint>

namespace cell {

struct SpliceDirection {
  int from = -1;
  int to = -1;
  int pipe_read = -1;
  int pipe_write = -1;
  size_t capacity = 65536;
  size_t buffered = 0;
  bool read_eof = false;
  bool shut = false;
  uint64_t moved = 0;  // Bytes written to `to` so far.

  SpliceDirection() = default;
  SpliceDirection(const SpliceDirection&) = delete;
  SpliceDirection& operator=(const SpliceDirection&) = delete;
  ~SpliceDirection();  // Closes the pipe (not `from` or `to`).

  // Opens the pipe, 1 MiB where the system allows (fewer splice calls per
  // megabyte), else 64 KiB. False when no pipe can be made.
  bool OpenPipe();
  bool WantsRead() const { return !read_eof && buffered < capacity; }
  // Everything read was written and the half-close passed on.
  bool Done() const { return shut; }
  // Moves what is ready without blocking (the sockets are non-blocking);
  // after end of input, passes the half-close on with shutdown(SHUT_WR).
  // False on an error that ends the connection.
  bool Pump();
};

}  // namespace cell

#endif  // CELL_LAUNCHER_PROXY_SPLICE_PUMP_H_
