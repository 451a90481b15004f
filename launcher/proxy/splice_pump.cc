#include "launcher/proxy/splice_pump.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace cell {
namespace {

constexpr int kPipeSize = 1 << 20;

}  // namespace

SpliceDirection::~SpliceDirection() {
  if (pipe_read >= 0) close(pipe_read);
  if (pipe_write >= 0) close(pipe_write);
}

bool SpliceDirection::OpenPipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return false;
  pipe_read = fds[0];
  pipe_write = fds[1];
  const int size = fcntl(fds[1], F_SETPIPE_SZ, kPipeSize);
  capacity = size > 0 ? static_cast<size_t>(size) : 65536;
  return true;
}

bool SpliceDirection::Pump() {
  while (true) {
    bool progress = false;
    if (WantsRead()) {
      const ssize_t n =
          splice(from, nullptr, pipe_write, nullptr, capacity - buffered,
                 SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
      if (n > 0) {
        buffered += static_cast<size_t>(n);
        progress = true;
      } else if (n == 0) {
        read_eof = true;
        progress = true;
      } else if (errno != EAGAIN && errno != EINTR) {
        return false;
      }
    }
    if (buffered > 0) {
      const ssize_t n = splice(pipe_read, nullptr, to, nullptr, buffered,
                               SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
      if (n > 0) {
        buffered -= static_cast<size_t>(n);
        moved += static_cast<uint64_t>(n);
        progress = true;
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        return false;
      }
    }
    if (!progress) break;
  }
  if (read_eof && buffered == 0 && !shut) {
    // Pass the half-close on: the peer may still answer.
    shutdown(to, SHUT_WR);
    shut = true;
  }
  return true;
}

}  // namespace cell
