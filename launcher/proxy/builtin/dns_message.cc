#include "launcher/proxy/builtin/dns_message.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace cell::dns {
namespace {

constexpr size_t kHeaderBytes = 12;
constexpr size_t kMaxNameBytes = 255;  // On the wire, length bytes included.

// Reads from a message with every access checked against its end.
class Reader {
 public:
  explicit Reader(absl::string_view message) : message_(message) {}

  size_t offset() const { return offset_; }
  void set_offset(size_t offset) { offset_ = offset; }
  bool Has(size_t count) const {
    return offset_ <= message_.size() && message_.size() - offset_ >= count;
  }

  bool U8(uint8_t* value) {
    if (!Has(1)) return false;
    *value = static_cast<uint8_t>(message_[offset_++]);
    return true;
  }
  bool U16(uint16_t* value) {
    if (!Has(2)) return false;
    *value = static_cast<uint16_t>(
        (static_cast<uint8_t>(message_[offset_]) << 8) |
        static_cast<uint8_t>(message_[offset_ + 1]));
    offset_ += 2;
    return true;
  }
  bool U32(uint32_t* value) {
    uint16_t high = 0, low = 0;
    if (!U16(&high) || !U16(&low)) return false;
    *value = (static_cast<uint32_t>(high) << 16) | low;
    return true;
  }
  bool Bytes(size_t count, std::string* out) {
    if (!Has(count)) return false;
    out->assign(message_.data() + offset_, count);
    offset_ += count;
    return true;
  }
  bool Skip(size_t count) {
    if (!Has(count)) return false;
    offset_ += count;
    return true;
  }

  // A possibly compressed name at the current offset, which moves past it
  // (past its first pointer, when it has one). Lower case, labels joined
  // with '.', a '.' or '\' inside a label escaped with '\'.
  bool Name(std::string* name) {
    name->clear();
    size_t position = offset_;
    size_t wire_bytes = 0;
    int hops = 0;
    bool jumped = false;
    while (true) {
      if (position >= message_.size()) return false;
      const uint8_t length = static_cast<uint8_t>(message_[position]);
      if ((length & 0xC0) == 0xC0) {
        if (position + 1 >= message_.size()) return false;
        const size_t target =
            (static_cast<size_t>(length & 0x3F) << 8) |
            static_cast<uint8_t>(message_[position + 1]);
        // Only backwards, and only so often: no loop, no long chase.
        if (target >= position || ++hops > kMaxNameHops) return false;
        if (!jumped) offset_ = position + 2;
        jumped = true;
        position = target;
        continue;
      }
      // 0x40 and 0x80: extended and binary labels, retired (RFC 6891).
      if ((length & 0xC0) != 0) return false;
      wire_bytes += 1 + length;
      if (wire_bytes > kMaxNameBytes) return false;
      if (length == 0) {
        if (!jumped) offset_ = position + 1;
        return true;
      }
      if (message_.size() - position - 1 < length) return false;
      if (!name->empty()) name->push_back('.');
      for (size_t i = 0; i < length; ++i) {
        const char c = message_[position + 1 + i];
        if (c == '.' || c == '\\') name->push_back('\\');
        name->push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
      }
      position += 1 + length;
    }
  }

 private:
  absl::string_view message_;
  size_t offset_ = 0;
};

void PutU16(std::string* out, uint16_t value) {
  out->push_back(static_cast<char>(value >> 8));
  out->push_back(static_cast<char>(value & 0xFF));
}

absl::Status Malformed(absl::string_view what, size_t offset) {
  return absl::InvalidArgumentError(
      absl::StrCat("malformed DNS message: ", what, " at byte ", offset));
}

bool ContainsName(const std::vector<std::string>& names,
                  absl::string_view name) {
  return std::any_of(names.begin(), names.end(), [name](const std::string& n) {
    return absl::EqualsIgnoreCase(n, name);
  });
}

}  // namespace

std::string RcodeName(int rcode) {
  switch (rcode) {
    case kRcodeNoError:
      return "NOERROR";
    case kRcodeFormErr:
      return "FORMERR";
    case kRcodeServFail:
      return "SERVFAIL";
    case kRcodeNxDomain:
      return "NXDOMAIN";
    case kRcodeNotImp:
      return "NOTIMP";
    case kRcodeRefused:
      return "REFUSED";
    default:
      return absl::StrCat("RCODE ", rcode);
  }
}

bool IsQueryableName(absl::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  for (absl::string_view label : absl::StrSplit(name, '.')) {
    if (label.empty() || label.size() > 63) return false;
    for (const char c : label) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' &&
          c != '_') {
        return false;
      }
    }
  }
  return true;
}

std::string BuildQuery(uint16_t id, absl::string_view name, uint16_t type) {
  std::string query;
  PutU16(&query, id);
  PutU16(&query, 0x0100);  // RD: a recursive resolver answers for us.
  PutU16(&query, 1);       // QDCOUNT
  PutU16(&query, 0);
  PutU16(&query, 0);
  PutU16(&query, 0);
  for (absl::string_view label : absl::StrSplit(name, '.')) {
    query.push_back(static_cast<char>(label.size()));
    query.append(label.data(), label.size());
  }
  query.push_back('\0');
  PutU16(&query, type);
  PutU16(&query, kClassIn);
  return query;
}

absl::StatusOr<Response> ParseResponse(absl::string_view bytes) {
  Reader reader(bytes);
  Response response;
  uint16_t flags = 0, qdcount = 0, ancount = 0, nscount = 0, arcount = 0;
  if (!reader.U16(&response.id) || !reader.U16(&flags) ||
      !reader.U16(&qdcount) || !reader.U16(&ancount) ||
      !reader.U16(&nscount) || !reader.U16(&arcount)) {
    return Malformed(absl::StrCat("a header shorter than ", kHeaderBytes,
                                  " bytes"),
                     0);
  }
  response.is_response = (flags & 0x8000) != 0;
  response.opcode = (flags >> 11) & 0xF;
  response.truncated = (flags & 0x0200) != 0;
  response.rcode = flags & 0xF;
  // Each question takes at least 5 bytes: the message bounds the count.
  for (uint16_t i = 0; i < qdcount; ++i) {
    Question question;
    const size_t at = reader.offset();
    if (!reader.Name(&question.name)) return Malformed("a question name", at);
    if (!reader.U16(&question.type) || !reader.U16(&question.klass)) {
      return Malformed("a question cut short", reader.offset());
    }
    response.questions.push_back(std::move(question));
  }
  // A truncated message may end anywhere: its records are not read.
  if (response.truncated) return response;
  for (uint16_t i = 0; i < ancount; ++i) {
    Record record;
    const size_t at = reader.offset();
    uint16_t rdlength = 0;
    if (!reader.Name(&record.name)) return Malformed("a record name", at);
    if (!reader.U16(&record.type) || !reader.U16(&record.klass) ||
        !reader.U32(&record.ttl) || !reader.U16(&rdlength)) {
      return Malformed("a record header cut short", at);
    }
    const size_t rdata = reader.offset();
    if (!reader.Has(rdlength)) return Malformed("record data past the end", at);
    const size_t rdata_end = rdata + rdlength;
    if (record.type == kTypeA || record.type == kTypeAaaa) {
      const size_t want = record.type == kTypeA ? 4 : 16;
      if (record.klass == kClassIn && rdlength != want) {
        return Malformed("an address of the wrong length", rdata);
      }
      if (!reader.Bytes(rdlength, &record.address)) {
        return Malformed("an address", rdata);
      }
    } else if (record.type == kTypeCname) {
      if (!reader.Name(&record.target) || reader.offset() != rdata_end) {
        return Malformed("a CNAME target", rdata);
      }
    } else {
      reader.Skip(rdlength);
      continue;
    }
    response.answers.push_back(std::move(record));
  }
  // Authority and additional sections are not needed, nor trusted.
  return response;
}

bool AnswerMatches(const Response& response, uint16_t id,
                   absl::string_view name, uint16_t type) {
  if (!response.is_response || response.opcode != 0 || response.id != id ||
      response.questions.size() != 1) {
    return false;
  }
  const Question& question = response.questions[0];
  return question.type == type && question.klass == kClassIn &&
         absl::EqualsIgnoreCase(question.name, name);
}

std::vector<sockaddr_storage> AnswerAddresses(const Response& response,
                                              absl::string_view name,
                                              uint16_t type) {
  // The names that stand for `name`: itself and its CNAME chain.
  std::vector<std::string> names = {std::string(name)};
  for (int step = 0; step < kMaxCnameChain; ++step) {
    bool grew = false;
    for (const Record& record : response.answers) {
      if (record.type == kTypeCname && record.klass == kClassIn &&
          ContainsName(names, record.name) &&
          !ContainsName(names, record.target)) {
        names.push_back(record.target);
        grew = true;
        break;
      }
    }
    if (!grew) break;
  }
  std::vector<sockaddr_storage> addresses;
  for (const Record& record : response.answers) {
    if (record.type != type || record.klass != kClassIn ||
        !ContainsName(names, record.name)) {
      continue;
    }
    sockaddr_storage storage{};
    if (type == kTypeA && record.address.size() == 4) {
      auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
      v4->sin_family = AF_INET;
      std::memcpy(&v4->sin_addr, record.address.data(), 4);
    } else if (type == kTypeAaaa && record.address.size() == 16) {
      auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
      v6->sin6_family = AF_INET6;
      std::memcpy(&v6->sin6_addr, record.address.data(), 16);
    } else {
      continue;
    }
    const bool seen = std::any_of(
        addresses.begin(), addresses.end(),
        [&storage](const sockaddr_storage& other) {
          return std::memcmp(&other, &storage, sizeof(storage)) == 0;
        });
    if (!seen) addresses.push_back(storage);
  }
  return addresses;
}

}  // namespace cell::dns
