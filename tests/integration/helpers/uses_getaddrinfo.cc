// A static program that resolves with glibc's getaddrinfo, as the launcher
// did before it had its own resolver: the control of static_no_nss_test.sh
// (its check must flag this binary) and of packed_elsewhere_test (on that
// machine it loads the machine's NSS module). Prints each address.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  const int error = getaddrinfo(argv[1], nullptr, &hints, &result);
  if (error != 0) {
    std::printf("error %d\n", error);
    return 1;
  }
  for (const addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* address =
        ai->ai_family == AF_INET
            ? static_cast<const void*>(
                  &reinterpret_cast<const sockaddr_in*>(ai->ai_addr)->sin_addr)
            : static_cast<const void*>(
                  &reinterpret_cast<const sockaddr_in6*>(ai->ai_addr)
                       ->sin6_addr);
    inet_ntop(ai->ai_family, address, text, sizeof(text));
    std::printf("%s\n", text);
  }
  freeaddrinfo(result);
  return 0;
}
