#include "launcher/jail/fd_passing.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cstring>

namespace cell {
namespace {

// A one-byte message with room for one descriptor, for both directions.
struct FdMessage {
  FdMessage() {
    std::memset(control, 0, sizeof(control));
    std::memset(&message, 0, sizeof(message));
    data = {&byte, 1};
    message.msg_iov = &data;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof(control);
  }
  FdMessage(const FdMessage&) = delete;
  FdMessage& operator=(const FdMessage&) = delete;

  char byte = 'F';
  iovec data;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr message;
};

}  // namespace

int SendFd(int channel, int fd) {
  FdMessage out;
  cmsghdr* header = CMSG_FIRSTHDR(&out.message);
  header->cmsg_level = SOL_SOCKET;
  header->cmsg_type = SCM_RIGHTS;
  header->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(header), &fd, sizeof(int));
  ssize_t sent;
  do {
    sent = sendmsg(channel, &out.message, MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  return sent == 1 ? 0 : errno;
}

int ReceiveFd(int channel) {
  FdMessage in;
  ssize_t received;
  do {
    received = recvmsg(channel, &in.message, MSG_CMSG_CLOEXEC);
  } while (received < 0 && errno == EINTR);
  if (received <= 0) {
    if (received == 0) errno = 0;
    return -1;
  }
  const cmsghdr* header = CMSG_FIRSTHDR(&in.message);
  if (header == nullptr || header->cmsg_level != SOL_SOCKET ||
      header->cmsg_type != SCM_RIGHTS) {
    errno = EPROTO;
    return -1;
  }
  int fd = -1;
  std::memcpy(&fd, CMSG_DATA(header), sizeof(int));
  return fd;
}

}  // namespace cell
