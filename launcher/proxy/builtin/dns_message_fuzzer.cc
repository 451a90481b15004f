// Fuzz target: DNS responses as the builtin proxy's resolver reads them
// from the network (resolver.h). Whatever parses is matched against a
// question and its addresses extracted; the extraction never gives more
// addresses than records, nor an address of the other family.
#include <sys/socket.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "launcher/proxy/builtin/dns_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<cell::dns::Response> response =
      cell::dns::ParseResponse(input);
  if (!response.ok()) return 0;
  const std::string name = response->questions.empty()
                               ? std::string("a.test")
                               : response->questions[0].name;
  for (const uint16_t type : {cell::dns::kTypeA, cell::dns::kTypeAaaa}) {
    (void)cell::dns::AnswerMatches(*response, response->id, name, type);
    const auto addresses = cell::dns::AnswerAddresses(*response, name, type);
    if (addresses.size() > response->answers.size()) std::abort();
    for (const auto& address : addresses) {
      if (address.ss_family !=
          (type == cell::dns::kTypeA ? AF_INET : AF_INET6)) {
        std::abort();
      }
    }
  }
  return 0;
}
