#include "launcher/proxy/builtin/dns_message.h"

#include <arpa/inet.h>

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "launcher/proxy/address_policy.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace cell::dns {
namespace {

using ::cell::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string U16(uint16_t value) {
  return {static_cast<char>(value >> 8), static_cast<char>(value & 0xFF)};
}

// A response header: QR, RD, RA, `rcode`; the counts given.
std::string Header(uint16_t id, int rcode, uint16_t qd, uint16_t an,
                   bool truncated = false) {
  return U16(id) +
         U16(static_cast<uint16_t>(0x8180 | (truncated ? 0x200 : 0) | rcode)) +
         U16(qd) + U16(an) + U16(0) + U16(0);
}

std::string Name(const std::vector<std::string>& labels) {
  std::string out;
  for (const std::string& label : labels) {
    out.push_back(static_cast<char>(label.size()));
    out += label;
  }
  out.push_back('\0');
  return out;
}

std::string Question(const std::string& wire_name, uint16_t type) {
  return wire_name + U16(type) + U16(kClassIn);
}

// A record with owner `owner` (wire bytes, maybe a pointer).
std::string Rr(const std::string& owner, uint16_t type,
               const std::string& rdata, uint16_t klass = kClassIn) {
  return owner + U16(type) + U16(klass) + std::string("\0\0\0\x3c", 4) +
         U16(static_cast<uint16_t>(rdata.size())) + rdata;
}

std::string Pointer(uint16_t offset) {
  return U16(static_cast<uint16_t>(0xC000 | offset));
}

std::string V4(const char* text) {
  unsigned char bytes[4];
  inet_pton(AF_INET, text, bytes);
  return std::string(reinterpret_cast<char*>(bytes), 4);
}

std::string Text(const sockaddr_storage& address) {
  return AddressText(reinterpret_cast<const sockaddr&>(address));
}

std::vector<std::string> Texts(const std::vector<sockaddr_storage>& list) {
  std::vector<std::string> texts;
  for (const sockaddr_storage& address : list) texts.push_back(Text(address));
  return texts;
}

TEST(DnsMessageTest, BuildsAStandardQuery) {
  const std::string query = BuildQuery(0xBEEF, "www.Example.com", kTypeAaaa);
  EXPECT_EQ(query, U16(0xBEEF) + U16(0x0100) + U16(1) + U16(0) + U16(0) +
                       U16(0) + Name({"www", "Example", "com"}) + U16(28) +
                       U16(1));
}

TEST(DnsMessageTest, QueryableNames) {
  EXPECT_TRUE(IsQueryableName("a"));
  EXPECT_TRUE(IsQueryableName("_srv.my-host.example"));
  EXPECT_TRUE(IsQueryableName(std::string(63, 'a') + ".b"));
  EXPECT_FALSE(IsQueryableName(""));
  EXPECT_FALSE(IsQueryableName("a..b"));
  EXPECT_FALSE(IsQueryableName(".a"));
  EXPECT_FALSE(IsQueryableName("a."));  // Callers strip the root's dot.
  EXPECT_FALSE(IsQueryableName(std::string(64, 'a')));
  EXPECT_FALSE(IsQueryableName("a b"));
  EXPECT_FALSE(IsQueryableName("a:b"));
  std::string long_name;
  while (long_name.size() < 254) long_name += "abcdefg.";
  long_name.resize(254);
  EXPECT_FALSE(IsQueryableName(long_name));
}

TEST(DnsMessageTest, ParsesAnswersWithCompressionAndFollowsCnames) {
  // www.test CNAME edge.cdn.test; edge.cdn.test A 192.0.2.1, 192.0.2.2;
  // an unrelated A record for other.test; an MX record skipped.
  const std::string question = Question(Name({"www", "test"}), kTypeA);
  std::string message = Header(7, 0, 1, 5) + question;
  const size_t cname_rdata = message.size() + 12;  // Owner ptr(2)+10 bytes.
  message += Rr(Pointer(12), kTypeCname,
                std::string("\x04" "edge" "\x03" "cdn", 9) + Pointer(16));
  message += Rr(Pointer(static_cast<uint16_t>(cname_rdata)), kTypeA,
                V4("192.0.2.1"));
  message += Rr(Pointer(static_cast<uint16_t>(cname_rdata)), kTypeA,
                V4("192.0.2.2"));
  message += Rr(Name({"other", "test"}), kTypeA, V4("192.0.2.3"));
  message += Rr(Pointer(12), 15, U16(10) + Pointer(12));
  ASSERT_OK_AND_ASSIGN(Response response, ParseResponse(message));
  EXPECT_TRUE(response.is_response);
  EXPECT_EQ(response.rcode, kRcodeNoError);
  ASSERT_EQ(response.questions.size(), 1u);
  EXPECT_EQ(response.questions[0].name, "www.test");
  ASSERT_EQ(response.answers.size(), 4u);  // The MX is skipped.
  EXPECT_EQ(response.answers[0].target, "edge.cdn.test");
  EXPECT_TRUE(AnswerMatches(response, 7, "WWW.test", kTypeA));
  EXPECT_THAT(Texts(AnswerAddresses(response, "www.test", kTypeA)),
              ElementsAre("192.0.2.1", "192.0.2.2"));
  EXPECT_THAT(AnswerAddresses(response, "www.test", kTypeAaaa), IsEmpty());
}

TEST(DnsMessageTest, MatchingNeedsIdTypeNameClassAndQr) {
  const std::string body = Question(Name({"a", "test"}), kTypeA);
  ASSERT_OK_AND_ASSIGN(Response good,
                       ParseResponse(Header(1, 0, 1, 0) + body));
  EXPECT_TRUE(AnswerMatches(good, 1, "a.test", kTypeA));
  EXPECT_FALSE(AnswerMatches(good, 2, "a.test", kTypeA));
  EXPECT_FALSE(AnswerMatches(good, 1, "b.test", kTypeA));
  EXPECT_FALSE(AnswerMatches(good, 1, "a.test", kTypeAaaa));
  EXPECT_FALSE(AnswerMatches(good, 1, "a.test.x", kTypeA));
  // A query (QR clear) is not an answer.
  std::string query = Header(1, 0, 1, 0) + body;
  query[2] = 0x01;
  ASSERT_OK_AND_ASSIGN(Response as_query, ParseResponse(query));
  EXPECT_FALSE(AnswerMatches(as_query, 1, "a.test", kTypeA));
  // Class CH.
  ASSERT_OK_AND_ASSIGN(
      Response chaos,
      ParseResponse(Header(1, 0, 1, 0) + Name({"a", "test"}) + U16(1) + U16(3)));
  EXPECT_FALSE(AnswerMatches(chaos, 1, "a.test", kTypeA));
  // Two questions.
  ASSERT_OK_AND_ASSIGN(Response two,
                       ParseResponse(Header(1, 0, 2, 0) + body + body));
  EXPECT_FALSE(AnswerMatches(two, 1, "a.test", kTypeA));
  // A label holding a dot is not two labels.
  ASSERT_OK_AND_ASSIGN(
      Response dotted,
      ParseResponse(Header(1, 0, 1, 0) + Question(Name({"a.test"}), kTypeA)));
  EXPECT_FALSE(AnswerMatches(dotted, 1, "a.test", kTypeA));
}

TEST(DnsMessageTest, TruncatedAnswerIsReadOnlyToItsQuestion) {
  const std::string message =
      Header(3, 0, 1, 9, /*truncated=*/true) +
      Question(Name({"big", "test"}), kTypeA) + "\xC0";  // Cut mid-record.
  ASSERT_OK_AND_ASSIGN(Response response, ParseResponse(message));
  EXPECT_TRUE(response.truncated);
  EXPECT_THAT(response.answers, IsEmpty());
  EXPECT_TRUE(AnswerMatches(response, 3, "big.test", kTypeA));
}

TEST(DnsMessageTest, CnameLoopsAndLongChainsEnd) {
  // a CNAME b, b CNAME a, and a chain longer than kMaxCnameChain.
  std::string message = Header(1, 0, 1, 2) + Question(Name({"a"}), kTypeA);
  message += Rr(Name({"a"}), kTypeCname, Name({"b"}));
  message += Rr(Name({"b"}), kTypeCname, Name({"a"}));
  ASSERT_OK_AND_ASSIGN(Response loop, ParseResponse(message));
  EXPECT_THAT(AnswerAddresses(loop, "a", kTypeA), IsEmpty());

  const int links = kMaxCnameChain + 3;
  std::string chain = Header(1, 0, 1, static_cast<uint16_t>(links + 1)) +
                      Question(Name({"n0"}), kTypeA);
  for (int i = 0; i < links; ++i) {
    chain += Rr(Name({"n" + std::to_string(i)}), kTypeCname,
                Name({"n" + std::to_string(i + 1)}));
  }
  chain += Rr(Name({"n" + std::to_string(links)}), kTypeA, V4("192.0.2.9"));
  ASSERT_OK_AND_ASSIGN(Response long_chain, ParseResponse(chain));
  EXPECT_THAT(AnswerAddresses(long_chain, "n0", kTypeA), IsEmpty());
}

// Malformed input: each is refused with an error, never read out of
// bounds (the ASan run checks that) and never loops.
TEST(DnsMessageTest, MalformedMessagesAreRefused) {
  const std::string header1 = Header(1, 0, 1, 0);
  const std::string question = Question(Name({"a", "test"}), kTypeA);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"empty", ""},
      {"short header", header1.substr(0, 11)},
      {"question count with no question", header1},
      {"name runs off the end", header1 + "\x05" "ab"},
      {"no terminating label", header1 + "\x01" "a"},
      {"question without type", header1 + Name({"a"}) + "\x00"},
      {"pointer to itself", header1 + Pointer(12) + U16(1) + U16(1)},
      {"pointer forwards", header1 + Pointer(20) + U16(1) + U16(1) +
                               std::string(10, '\0')},
      {"pointer past the end", header1 + Pointer(0x3FFF) + U16(1) + U16(1)},
      {"half a pointer", header1 + "\xC0"},
      {"extended label type", header1 + "\x41" "a" + std::string(1, '\0') +
                                  U16(1) + U16(1)},
      {"record count with no record", Header(1, 0, 1, 1) + question},
      {"record data past the end",
       Header(1, 0, 1, 1) + question + Pointer(12) + U16(1) + U16(1) +
           std::string("\0\0\0\0", 4) + U16(4) + "ab"},
      {"A of 5 bytes", Header(1, 0, 1, 1) + question +
                           Rr(Pointer(12), kTypeA, "abcde")},
      {"AAAA of 4 bytes", Header(1, 0, 1, 1) + question +
                              Rr(Pointer(12), kTypeAaaa, "abcd")},
      {"CNAME target past its data",
       Header(1, 0, 1, 1) + question +
           Rr(Pointer(12), kTypeCname, "\x03" "abc") + "\x00"},
  };
  for (const auto& [what, bytes] : cases) {
    EXPECT_THAT(ParseResponse(bytes),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("malformed DNS message")))
        << what;
  }
}

// A message whose second record's owner is a chain of `pointers`
// backwards pointers (kept in the data of a record of an unknown type)
// ending at the question's name.
std::string PointerChain(int pointers) {
  std::string message =
      Header(1, 0, 1, 2) + Question(Name({"a"}), kTypeA);  // Name at 12.
  std::string chain;
  const size_t rdata = message.size() + 2 + 10;
  size_t previous = 12;
  for (int i = 0; i < pointers; ++i) {
    chain += Pointer(static_cast<uint16_t>(previous));
    previous = rdata + chain.size() - 2;
  }
  message += Rr(Pointer(12), 99, chain);
  message += Rr(Pointer(static_cast<uint16_t>(previous)), kTypeA,
                V4("192.0.2.1"));
  return message;
}

TEST(DnsMessageTest, PointerChainsAndNameLengthAreBounded) {
  ASSERT_OK_AND_ASSIGN(Response short_chain, ParseResponse(PointerChain(3)));
  EXPECT_THAT(Texts(AnswerAddresses(short_chain, "a", kTypeA)),
              ElementsAre("192.0.2.1"));
  EXPECT_THAT(ParseResponse(PointerChain(kMaxNameHops + 1)),
              StatusIs(absl::StatusCode::kInvalidArgument));

  // A name of more than 255 bytes, built from 63-byte labels.
  std::string long_name;
  for (int i = 0; i < 5; ++i) long_name += "\x3f" + std::string(63, 'x');
  long_name.push_back('\0');
  EXPECT_THAT(ParseResponse(Header(1, 0, 1, 0) + long_name + U16(1) + U16(1)),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(DnsMessageTest, RcodeNames) {
  EXPECT_EQ(RcodeName(kRcodeNxDomain), "NXDOMAIN");
  EXPECT_EQ(RcodeName(kRcodeServFail), "SERVFAIL");
  EXPECT_EQ(RcodeName(9), "RCODE 9");
}

}  // namespace
}  // namespace cell::dns
