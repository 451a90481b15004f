#include "probes/host.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "probes/parsers.h"

namespace cell::probes {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::map<std::string, uint64_t> HostNamespaceInodes(
    const std::string& proc_root) {
  return NamespaceInodesOf(proc_root + "/self");
}

NetworkView NetworkOf(const std::string& process_dir) {
  NetworkView view;
  view.interfaces = ParseNetDevInterfaces(ReadAll(process_dir + "/net/dev"));
  for (const RouteEntry& route :
       ParseIpv4Routes(ReadAll(process_dir + "/net/route"))) {
    ++view.ipv4_routes;
    view.ipv4_default = view.ipv4_default || route.is_default;
  }
  for (const RouteEntry& route :
       ParseIpv6Routes(ReadAll(process_dir + "/net/ipv6_route"))) {
    view.ipv6_default = view.ipv6_default || route.is_default;
  }
  return view;
}

std::map<std::string, uint64_t> NamespaceInodesOf(
    const std::string& process_dir) {
  std::map<std::string, uint64_t> inodes;
  for (const char* kind :
       {"user", "mnt", "net", "pid", "ipc", "uts", "cgroup", "time"}) {
    char buffer[256];
    const std::string link = process_dir + "/ns/" + kind;
    const ssize_t n = readlink(link.c_str(), buffer, sizeof(buffer) - 1);
    if (n <= 0) continue;
    const std::optional<uint64_t> inode =
        ParseNamespaceLink(std::string(buffer, static_cast<size_t>(n)));
    if (inode.has_value()) inodes[kind] = *inode;
  }
  return inodes;
}

bool PathGone(const std::string& path) {
  struct stat info;
  return lstat(path.c_str(), &info) != 0;
}

bool ProcessGone(pid_t pid, const std::string& proc_root) {
  std::ifstream stat(proc_root + "/" + std::to_string(pid) + "/stat");
  std::string content;
  if (!stat.good() || !std::getline(stat, content)) return true;
  const size_t paren = content.rfind(')');
  return paren != std::string::npos && paren + 2 < content.size() &&
         content[paren + 2] == 'Z';
}

std::vector<std::string> JobDirsIn(const std::string& parent) {
  std::vector<std::string> found;
  DIR* dir = opendir(parent.c_str());
  if (dir == nullptr) return found;
  while (const dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    if (name.rfind("cell-jd.", 0) == 0) found.push_back(name);
  }
  closedir(dir);
  return found;
}

}  // namespace cell::probes
