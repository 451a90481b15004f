#include "testing/accept_when_ready.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>

namespace cell::testing {

int AcceptWhenReady(int listener) {
  pollfd event = {listener, POLLIN, 0};
  while (poll(&event, 1, -1) < 0) {
    if (errno != EINTR) return -1;
  }
  return accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
}

}  // namespace cell::testing
