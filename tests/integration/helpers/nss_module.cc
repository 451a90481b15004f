// A glibc NSS hosts module, as another machine may have one
// (libnss_cellprobe.so.2 for "hosts: cellprobe ..." in its nsswitch.conf):
// loaded, it leaves /etc/nss-marker/loaded (a directory the test makes
// writable); asked for any name, it answers 192.0.2.66. The builtin proxy
// of a static launcher must never run it: packed_elsewhere_test.
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <nss.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace {

__attribute__((constructor)) void Loaded() {
  const int fd = open("/etc/nss-marker/loaded",
                      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
  if (fd >= 0) {
    (void)!write(fd, "loaded\n", 7);
    close(fd);
  }
}

}  // namespace

extern "C" enum nss_status _nss_cellprobe_gethostbyname4_r(
    const char* name, struct gaih_addrtuple** result, char* buffer,
    size_t length, int* errnop, int* h_errnop, int32_t* ttlp) {
  (void)name;
  (void)h_errnop;
  if (length < sizeof(gaih_addrtuple)) {
    *errnop = ERANGE;
    return NSS_STATUS_TRYAGAIN;
  }
  auto* tuple = reinterpret_cast<gaih_addrtuple*>(buffer);
  std::memset(tuple, 0, sizeof(*tuple));
  tuple->family = AF_INET;
  const unsigned char address[4] = {192, 0, 2, 66};
  std::memcpy(tuple->addr, address, sizeof(address));
  *result = tuple;
  if (ttlp != nullptr) *ttlp = 0;
  return NSS_STATUS_SUCCESS;
}
