#include "policy/command_view.h"

#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace cell::policy {
namespace {

// The numeric entries of directory `path`.
std::vector<std::string> Numbers(const std::string& path) {
  std::vector<std::string> names;
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) return names;
  while (const dirent* entry = readdir(dir)) {
    int unused;
    if (absl::SimpleAtoi(entry->d_name, &unused))
      names.push_back(entry->d_name);
  }
  closedir(dir);
  return names;
}

std::string Link(const std::string& path) {
  char target[PATH_MAX];
  const ssize_t n = readlink(path.c_str(), target, sizeof(target) - 1);
  return n < 0 ? std::string("?") : std::string(target, static_cast<size_t>(n));
}

}  // namespace

std::optional<ProcessStat> StatOf(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::stringstream read;
  read << in.rdbuf();
  const std::string text = read.str();
  // The command name may hold spaces and parentheses: the last ')' ends it.
  const size_t open = text.find('(');
  const size_t close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open ||
      close + 4 > text.size()) {
    return std::nullopt;
  }
  ProcessStat stat;
  stat.name = text.substr(open + 1, close - open - 1);
  stat.state = text[close + 2];
  const std::vector<absl::string_view> rest =
      absl::StrSplit(absl::string_view(text).substr(close + 4), ' ');
  if (rest.size() < 3 || !absl::SimpleAtoi(rest[0], &stat.parent) ||
      !absl::SimpleAtoi(rest[2], &stat.session)) {
    return std::nullopt;
  }
  return stat;
}

std::string IdentityOf(const std::string& path) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) return "";
  return absl::StrCat(info.st_dev, ":", info.st_ino);
}

std::vector<pid_t> Descendants(pid_t pid) {
  // Parent -> children, from one pass over /proc.
  std::map<pid_t, std::vector<pid_t>> children;
  for (const std::string& other : Numbers("/proc")) {
    const pid_t pid = std::atoi(other.c_str());
    if (const std::optional<ProcessStat> stat = StatOf(pid); stat.has_value()) {
      children[stat->parent].push_back(pid);
    }
  }
  // Breadth first; `seen` guards against a pid reused while the pass ran.
  std::vector<pid_t> queue = {pid};
  std::set<pid_t> seen = {pid};
  for (size_t i = 0; i < queue.size(); ++i) {
    for (const pid_t child : children[queue[i]]) {
      if (seen.insert(child).second) queue.push_back(child);
    }
  }
  return queue;
}

std::vector<pid_t> FindCommands(pid_t pid, const std::string& exe_identity) {
  std::vector<pid_t> found;
  for (const pid_t candidate : Descendants(pid)) {
    if (!exe_identity.empty() &&
        IdentityOf(absl::StrCat("/proc/", candidate, "/exe")) == exe_identity) {
      found.push_back(candidate);
    }
  }
  return found;
}

std::string NamespaceOf(pid_t pid, absl::string_view kind) {
  const std::string link = Link(absl::StrCat("/proc/", pid, "/ns/", kind));
  return link == "?" ? "" : link;
}

std::map<std::string, std::string> ParseCgroups(absl::string_view text) {
  std::map<std::string, std::string> cgroups;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::vector<std::string> fields =
        absl::StrSplit(line, absl::MaxSplits(':', 2));
    if (fields.size() == 3) cgroups[fields[1]] = fields[2];
  }
  return cgroups;
}

std::optional<CommandView> ViewCommand(pid_t pid) {
  const std::string base = absl::StrCat("/proc/", pid, "/task");
  const std::vector<std::string> tasks = Numbers(base);
  if (tasks.empty()) return std::nullopt;
  CommandView view;
  view.pid = pid;
  view.name = Link(absl::StrCat("/proc/", pid, "/exe"));
  view.name = view.name.substr(view.name.rfind('/') + 1);
  for (int fd = 0; fd < 3; ++fd) {
    view.stdio_ids.push_back(
        IdentityOf(absl::StrCat("/proc/", pid, "/fd/", fd)));
  }
  {
    std::ifstream in(absl::StrCat("/proc/", pid, "/cgroup"));
    std::stringstream text;
    text << in.rdbuf();
    view.cgroups = ParseCgroups(text.str());
  }
  for (const std::string& task : tasks) {
    const std::string dir = absl::StrCat(base, "/", task);
    for (const std::string& fd : Numbers(dir + "/fd")) {
      if (std::atoi(fd.c_str()) < 3) continue;
      view.descriptors.push_back(absl::StrCat("thread ", task, " fd ", fd,
                                              " -> ", Link(dir + "/fd/" + fd)));
    }
    for (const auto& [file, ids] : {std::pair{"/cwd", &view.cwd_ids},
                                    std::pair{"/root", &view.root_ids}}) {
      const std::string id = IdentityOf(dir + file);
      if (std::find(ids->begin(), ids->end(), id) == ids->end()) {
        ids->push_back(id);
      }
    }
  }
  return view;
}

}  // namespace cell::policy
