// DNS messages (RFC 1035) for the launcher's own stub resolver
// (resolver.h): a query for one name and type, and a response parsed
// defensively, since its bytes come from the network. Pure: no I/O.
//
// Parsing checks every length against the message, reads compressed names
// only through pointers that go backwards, at most kMaxNameHops of them and
// at most 255 bytes of name, and refuses the label types RFC 6891 retired.
// A response is matched to its query by id, flags and question before any
// record of it is believed (AnswerMatches).
#ifndef CELL_LAUNCHER_PROXY_BUILTIN_DNS_MESSAGE_H_
#define CELL_LAUNCHER_PROXY_BUILTIN_DNS_MESSAGE_H_

#include <netinet/in.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cell::dns {

inline constexpr uint16_t kTypeA = 1;
inline constexpr uint16_t kTypeCname = 5;
inline constexpr uint16_t kTypeAaaa = 28;
inline constexpr uint16_t kClassIn = 1;

inline constexpr int kRcodeNoError = 0;
inline constexpr int kRcodeFormErr = 1;
inline constexpr int kRcodeServFail = 2;
inline constexpr int kRcodeNxDomain = 3;
inline constexpr int kRcodeNotImp = 4;
inline constexpr int kRcodeRefused = 5;

// Compression pointers followed while reading one name.
inline constexpr int kMaxNameHops = 32;
// CNAMEs followed from the question's name to its addresses.
inline constexpr int kMaxCnameChain = 8;

// "NOERROR", "NXDOMAIN", ..., or "RCODE 9".
std::string RcodeName(int rcode);

// Whether `name` (no trailing dot) can be asked for: labels of 1 to 63
// bytes of letters, digits, '-' and '_', 253 bytes at most in all.
bool IsQueryableName(absl::string_view name);

// A standard query (RD set) with one question: `name` (IsQueryableName),
// class IN.
std::string BuildQuery(uint16_t id, absl::string_view name, uint16_t type);

struct Question {
  std::string name;  // Lower case, no trailing dot; "." and "\" in a
                     // label are escaped, so labels never run together.
  uint16_t type = 0;
  uint16_t klass = 0;
};

struct Record {
  std::string name;  // As Question::name.
  uint16_t type = 0;
  uint16_t klass = 0;
  uint32_t ttl = 0;
  // A: 4 bytes, AAAA: 16 bytes (network order).
  std::string address;
  // CNAME: the target, as Question::name.
  std::string target;
};

struct Response {
  uint16_t id = 0;
  bool is_response = false;  // QR
  int opcode = 0;
  bool truncated = false;  // TC: the answer did not fit; ask over TCP.
  int rcode = 0;
  std::vector<Question> questions;
  // Answer section: A, AAAA and CNAME records (others are skipped). Empty
  // when `truncated`, whose records may be cut anywhere.
  std::vector<Record> answers;
};

// The message in `bytes`, or InvalidArgument saying where it is malformed.
absl::StatusOr<Response> ParseResponse(absl::string_view bytes);

// Whether `response` answers the query BuildQuery(id, name, type) made: a
// response (QR), standard query opcode, the same id, exactly that one
// question (name compared case-insensitively), class IN.
bool AnswerMatches(const Response& response, uint16_t id,
                   absl::string_view name, uint16_t type);

// The addresses of `type` (kTypeA or kTypeAaaa) the answer section gives
// for `name`, directly or through a chain of at most kMaxCnameChain CNAMEs
// starting at it, in the order of the records; class IN only, no
// duplicates. Each is an AF_INET or AF_INET6 sockaddr, port 0.
std::vector<sockaddr_storage> AnswerAddresses(const Response& response,
                                              absl::string_view name,
                                              uint16_t type);

}  // namespace cell::dns

#endif  // CELL_LAUNCHER_PROXY_BUILTIN_DNS_MESSAGE_H_
