#include "launcher/jail/net.h"

#include <errno.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "base/loopback.h"
#include "base/test_faults.h"
#include "launcher/jail/fd_passing.h"

namespace cell {

int BringUpLoopback() {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  ifreq request;
  std::memset(&request, 0, sizeof(request));
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  int error = 0;
  if (ioctl(fd, SIOCGIFFLAGS, &request) != 0) {
    error = errno;
  } else {
    request.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(fd, SIOCSIFFLAGS, &request) != 0) error = errno;
  }
  if (error == 0 && TestFault(fault::kDefaultRoute)) {
    // A default route out of lo: the "no routes" promise broken.
    rtentry route;
    std::memset(&route, 0, sizeof(route));
    auto* any = reinterpret_cast<sockaddr_in*>(&route.rt_dst);
    any->sin_family = AF_INET;
    reinterpret_cast<sockaddr_in*>(&route.rt_genmask)->sin_family = AF_INET;
    reinterpret_cast<sockaddr_in*>(&route.rt_gateway)->sin_family = AF_INET;
    char device[] = "lo";
    route.rt_dev = device;
    route.rt_flags = RTF_UP;
    if (ioctl(fd, SIOCADDRT, &route) != 0) error = errno;
  }
  close(fd);
  return error;
}

int SendProxyListener(int channel, int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  const sockaddr_in address = LoopbackAddress(port);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) !=
          0 ||
      listen(fd, 4096) != 0) {
    const int error = errno;
    close(fd);
    return error;
  }
  const int error = SendFd(channel, fd);
  close(fd);
  close(channel);
  return error;
}

}  // namespace cell
