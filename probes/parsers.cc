#include "probes/parsers.h"

#include <arpa/inet.h>
#include <dirent.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <sstream>

namespace cell::probes {
namespace {

std::vector<std::string> Fields(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> fields;
  std::string field;
  while (in >> field) fields.push_back(field);
  return fields;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::string ToUpper(std::string text) {
  for (char& c : text)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

std::map<std::string, std::string> ParseStatus(const std::string& text) {
  std::map<std::string, std::string> fields;
  for (const std::string& line : Lines(text)) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    const size_t start = value.find_first_not_of(" \t");
    value = start == std::string::npos ? "" : value.substr(start);
    fields[line.substr(0, colon)] = value;
  }
  return fields;
}

std::optional<uint64_t> ParseCapMask(const std::string& hex) {
  if (hex.empty() || hex.size() > 16) return std::nullopt;
  uint64_t value = 0;
  for (char c : hex) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    value = value * 16 +
            static_cast<uint64_t>(std::isdigit(static_cast<unsigned char>(c))
                                      ? c - '0'
                                      : std::tolower(c) - 'a' + 10);
  }
  return value;
}

int CountBits(uint64_t mask) { return __builtin_popcountll(mask); }

std::vector<RouteEntry> ParseIpv4Routes(const std::string& text) {
  std::vector<RouteEntry> routes;
  const std::vector<std::string> lines = Lines(text);
  for (size_t i = 1; i < lines.size(); ++i) {  // Line 0 is the header.
    const std::vector<std::string> f = Fields(lines[i]);
    if (f.size() < 8) continue;
    // Destination and mask are little-endian hex.
    const uint32_t destination =
        static_cast<uint32_t>(std::strtoul(f[1].c_str(), nullptr, 16));
    const uint32_t mask =
        static_cast<uint32_t>(std::strtoul(f[7].c_str(), nullptr, 16));
    RouteEntry route;
    route.interface = f[0];
    std::ostringstream out;
    out << (destination & 0xff) << '.' << ((destination >> 8) & 0xff) << '.'
        << ((destination >> 16) & 0xff) << '.' << (destination >> 24) << '/'
        << CountBits(mask);
    route.destination = out.str();
    constexpr unsigned long kRtfReject = 0x0200;
    route.reject = (std::strtoul(f[3].c_str(), nullptr, 16) & kRtfReject) != 0;
    route.is_default = destination == 0 && mask == 0 && !route.reject;
    routes.push_back(route);
  }
  return routes;
}

std::vector<RouteEntry> ParseIpv6Routes(const std::string& text) {
  std::vector<RouteEntry> routes;
  for (const std::string& line : Lines(text)) {
    const std::vector<std::string> f = Fields(line);
    if (f.size() < 10) continue;
    RouteEntry route;
    route.interface = f[9];
    const long prefix = std::strtol(f[1].c_str(), nullptr, 16);
    constexpr unsigned long kRtfReject = 0x0200;
    route.reject = (std::strtoul(f[8].c_str(), nullptr, 16) & kRtfReject) != 0;
    route.destination = f[0] + "/" + std::to_string(prefix);
    route.is_default = prefix == 0 && !route.reject;
    routes.push_back(route);
  }
  return routes;
}

std::vector<std::string> ParseNetDevInterfaces(const std::string& text) {
  std::vector<std::string> names;
  const std::vector<std::string> lines = Lines(text);
  for (size_t i = 2; i < lines.size(); ++i) {  // Two header lines.
    const size_t colon = lines[i].find(':');
    if (colon == std::string::npos) continue;
    std::string name = lines[i].substr(0, colon);
    name.erase(0, name.find_first_not_of(' '));
    names.push_back(name);
  }
  return names;
}

std::vector<TcpListener> ParseTcpListeners(const std::string& text) {
  std::vector<TcpListener> listeners;
  for (const std::string& line : Lines(text)) {
    const std::vector<std::string> f = Fields(line);
    // "sl local_address rem_address st ...": ADDRESS:PORT in hex, the
    // address in the kernel's byte order (each 32-bit word little-endian).
    if (f.size() < 4 || f[3] != "0A") continue;
    const size_t colon = f[1].rfind(':');
    if (colon == std::string::npos) continue;
    const std::string hex = f[1].substr(0, colon);
    if (hex.size() != 8 && hex.size() != 32) continue;
    unsigned char bytes[16] = {};
    bool ok = true;
    for (size_t word = 0; word < hex.size() / 8 && ok; ++word) {
      char* end = nullptr;
      const std::string digits = hex.substr(word * 8, 8);
      const unsigned long value = std::strtoul(digits.c_str(), &end, 16);
      ok = end == digits.c_str() + 8;
      for (int k = 0; k < 4; ++k) {
        bytes[word * 4 + k] = static_cast<unsigned char>(value >> (8 * k));
      }
    }
    char address[INET6_ADDRSTRLEN] = {};
    if (!ok || inet_ntop(hex.size() == 8 ? AF_INET : AF_INET6, bytes, address,
                         sizeof(address)) == nullptr) {
      continue;
    }
    const int port =
        static_cast<int>(std::strtol(f[1].c_str() + colon + 1, nullptr, 16));
    if (port > 0 && port < 65536) listeners.push_back({address, port});
  }
  return listeners;
}

std::vector<std::string> ParseAbstractListeners(const std::string& text) {
  std::vector<std::string> names;
  for (const std::string& line : Lines(text)) {
    const std::vector<std::string> f = Fields(line);
    // "Num RefCount Protocol Flags Type St Inode Path".
    if (f.size() < 8 || f[7].empty() || f[7][0] != '@') continue;
    constexpr unsigned long kAcceptConnections = 0x10000;  // __SO_ACCEPTCON
    if ((std::strtoul(f[3].c_str(), nullptr, 16) & kAcceptConnections) == 0) {
      continue;
    }
    names.push_back(f[7]);
  }
  return names;
}

std::vector<IdMapEntry> ParseIdMap(const std::string& text) {
  std::vector<IdMapEntry> entries;
  for (const std::string& line : Lines(text)) {
    const std::vector<std::string> f = Fields(line);
    if (f.size() != 3) continue;
    entries.push_back({std::strtoull(f[0].c_str(), nullptr, 10),
                       std::strtoull(f[1].c_str(), nullptr, 10),
                       std::strtoull(f[2].c_str(), nullptr, 10)});
  }
  return entries;
}

std::optional<uint64_t> ParseNamespaceLink(const std::string& link) {
  const size_t open = link.find(":[");
  const size_t close = link.rfind(']');
  if (open == std::string::npos || close == std::string::npos ||
      close <= open + 2) {
    return std::nullopt;
  }
  const std::string digits = link.substr(open + 2, close - open - 2);
  if (!std::all_of(digits.begin(), digits.end(), ::isdigit))
    return std::nullopt;
  return std::strtoull(digits.c_str(), nullptr, 10);
}

std::vector<int> ListPids(const std::string& proc_root) {
  std::vector<int> pids;
  DIR* dir = opendir(proc_root.c_str());
  if (dir == nullptr) return pids;
  while (const dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    if (!name.empty() && std::all_of(name.begin(), name.end(), ::isdigit)) {
      pids.push_back(std::atoi(name.c_str()));
    }
  }
  closedir(dir);
  std::sort(pids.begin(), pids.end());
  return pids;
}

bool IsSecretName(const std::string& name) {
  const std::string upper = ToUpper(name);
  for (const char* marker : {"TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY",
                             "CREDENTIAL", "AUTH", "COOKIE", "SESSION"}) {
    if (upper.find(marker) != std::string::npos) return true;
  }
  return false;
}

std::string Base64(const std::string& bytes) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const size_t n = bytes.size() - i < 3 ? bytes.size() - i : 3;
    uint32_t chunk = 0;
    for (size_t j = 0; j < 3; ++j) {
      chunk = (chunk << 8) |
              (j < n ? static_cast<unsigned char>(bytes[i + j]) : 0u);
    }
    for (size_t j = 0; j < 4; ++j) {
      out += j <= n ? kAlphabet[(chunk >> (18 - 6 * j)) & 63] : '=';
    }
  }
  return out;
}

}  // namespace cell::probes
